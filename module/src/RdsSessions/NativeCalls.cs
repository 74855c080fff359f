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
    /// <remarks>
    /// Secrets (client secrets, passwords, PEM keys) are moved into Rust, which keeps them in
    /// zeroing containers. The managed strings they came from cannot be zeroed; they are not
    /// kept by this module and become garbage at once.
    /// </remarks>
    internal static class NativeCalls
    {
        private static T Call<T>(Func<T> call)
        {
            try
            {
                return call();
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw BrokerErrors.ToException(e.Value);
            }
        }

        private static Utf8String U(string? value) => Utf8String.From(value ?? string.Empty);

        public static RdsConnection CreateWithToken(string deploymentUrl, string tenantGroup, string accessToken) =>
            Call(() => RdsConnection.CreateWithToken(U(deploymentUrl), U(tenantGroup), U(accessToken)));

        public static RdsConnection CreateWithClientSecret(string deploymentUrl, string tenantGroup, string? authorityHost, string tenantId, string clientId, string secret) =>
            Call(() => RdsConnection.CreateWithClientSecret(U(deploymentUrl), U(tenantGroup), U(authorityHost), U(tenantId), U(clientId), U(secret)));

        public static RdsConnection CreateWithCertificateFile(string deploymentUrl, string tenantGroup, string? authorityHost, string tenantId, string clientId, string path, string? password) =>
            Call(() => RdsConnection.CreateWithCertificateFile(U(deploymentUrl), U(tenantGroup), U(authorityHost), U(tenantId), U(clientId), U(path), U(password)));

        public static RdsConnection CreateWithCertificatePem(string deploymentUrl, string tenantGroup, string? authorityHost, string tenantId, string clientId, string pem) =>
            Call(() => RdsConnection.CreateWithCertificatePem(U(deploymentUrl), U(tenantGroup), U(authorityHost), U(tenantId), U(clientId), U(pem)));

        public static RdsConnection CreateWithPassword(string deploymentUrl, string tenantGroup, string? authorityHost, string? tenantId, string username, string password) =>
            Call(() => RdsConnection.CreateWithPassword(U(deploymentUrl), U(tenantGroup), U(authorityHost), U(tenantId), U(null), U(username), U(password)));

        /// <summary>The endpoint variables are read here: on Unix .NET (and so $env: in PowerShell) keeps its own environment block that native code cannot see.</summary>
        public static RdsConnection CreateWithManagedIdentity(string deploymentUrl, string tenantGroup, string? clientId) =>
            Call(() => RdsConnection.CreateWithManagedIdentity(
                U(deploymentUrl), U(tenantGroup), U(clientId),
                U(Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT")),
                U(Environment.GetEnvironmentVariable("IDENTITY_HEADER")),
                U(Environment.GetEnvironmentVariable("IMDS_ENDPOINT"))));

        public static DeviceCodeSignIn StartDeviceCode(string? authorityHost, string? tenantId) =>
            Call(() => DeviceCodeSignIn.Start(U(authorityHost), U(tenantId), U(null)));

        public static string DeviceCodeMessage(DeviceCodeSignIn signIn) => signIn.Message().IntoString();

        public static RdsConnection CompleteDeviceCode(string deploymentUrl, string tenantGroup, DeviceCodeSignIn signIn) =>
            Call(() => RdsConnection.CreateFromDeviceCode(U(deploymentUrl), U(tenantGroup), signIn));

        public static RdsConnection ForTenantGroup(RdsConnection source, string tenantGroup) =>
            Call(() => RdsConnection.CreateForTenantGroup(source, U(tenantGroup)));

        public static string DeploymentUrl(RdsConnection connection) => connection.DeploymentUrl().IntoString();

        public static string TenantGroup(RdsConnection connection) => connection.TenantGroup().IntoString();

        public static string? UserName(RdsConnection connection)
        {
            string name = connection.UserName().IntoString();
            return name.Length == 0 ? null : name;
        }

        /// <summary>Logs one session off; blocks until done and honours <paramref name="cancel"/>.</summary>
        /// <returns>The correlation id sent with the request.</returns>
        public static string Logoff(RdsConnection connection, SessionIdentity session, bool force, CancellationToken cancel)
        {
            LogoffDone done = Call(() => connection.LogoffAsync(
                U(session.TenantName),
                U(session.HostPoolName),
                U(session.SessionHostName),
                session.SessionId,
                force,
                cancel).GetAwaiter().GetResult());
            return done.correlation_id.IntoString();
        }
    }
}
