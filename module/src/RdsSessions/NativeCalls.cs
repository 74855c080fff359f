// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Threading;
using RdsSessions.Native;

namespace RdsSessions
{
    /// <summary>
    /// Calls into the generated bindings and converts their results: managed strings in,
    /// managed values out, every native string freed, every native error turned into an
    /// <see cref="RdsBrokerException"/>. The only place that touches <c>Utf8String</c>.
    /// </summary>
    internal static class NativeCalls
    {
        public static RdsConnection CreateWithToken(string deploymentUrl, string tenantGroup, string accessToken)
        {
            try
            {
                return RdsConnection.CreateWithToken(
                    Utf8String.From(deploymentUrl), Utf8String.From(tenantGroup), Utf8String.From(accessToken));
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw BrokerErrors.ToException(e.Value);
            }
        }

        public static RdsConnection ForTenantGroup(RdsConnection source, string tenantGroup)
        {
            try
            {
                return RdsConnection.CreateForTenantGroup(source, Utf8String.From(tenantGroup));
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw BrokerErrors.ToException(e.Value);
            }
        }

        public static string DeploymentUrl(RdsConnection connection) => connection.DeploymentUrl().IntoString();

        public static string TenantGroup(RdsConnection connection) => connection.TenantGroup().IntoString();

        /// <summary>Logs one session off; blocks until done and honours <paramref name="cancel"/>.</summary>
        /// <returns>The correlation id sent with the request.</returns>
        public static string Logoff(RdsConnection connection, SessionIdentity session, bool force, CancellationToken cancel)
        {
            LogoffDone done;
            try
            {
                done = connection.LogoffAsync(
                    Utf8String.From(session.TenantName),
                    Utf8String.From(session.HostPoolName),
                    Utf8String.From(session.SessionHostName),
                    session.SessionId,
                    force,
                    cancel).GetAwaiter().GetResult();
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw BrokerErrors.ToException(e.Value);
            }

            return done.correlation_id.IntoString();
        }
    }
}
