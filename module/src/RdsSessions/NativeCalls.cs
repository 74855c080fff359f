// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
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
    /// <summary>A completed session action: correlation id, requests sent, retry notes.</summary>
    internal sealed record ActionDone(string CorrelationId, int Attempts, string[] Notes);

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

        public static RdsConnection WithRetrySettings(RdsConnection source, RetrySettings settings) =>
            Call(() => RdsConnection.CreateWithRetrySettings(source, settings));

        public static RetrySettings RetrySettingsOf(RdsConnection connection) => connection.RetrySettings();

        public static string DeploymentUrl(RdsConnection connection) => connection.DeploymentUrl().IntoString();

        public static string TenantGroup(RdsConnection connection) => connection.TenantGroup().IntoString();

        public static string? UserName(RdsConnection connection)
        {
            string name = connection.UserName().IntoString();
            return name.Length == 0 ? null : name;
        }

        /// <summary>Retries reported since the last call (see RdsConnection.take_retry_notes).</summary>
        public static string[] TakeRetryNotes(RdsConnection throttled)
        {
            string notes = throttled.TakeRetryNotes().IntoString();
            return notes.Length == 0 ? Array.Empty<string>() : notes.Split('\n');
        }

        public static RdsConnection CreateThrottled(RdsConnection source, int limit) =>
            Call(() => RdsConnection.CreateThrottled(source, (uint)limit));

        /// <summary>
        /// Starts one session action in the native runtime and returns at once. The task
        /// completes with the correlation id, or faults with an <see cref="RdsBrokerException"/>,
        /// or is cancelled through <paramref name="cancel"/>.
        /// </summary>
        public static async Task<ActionDone> SessionActionAsync(
            RdsConnection connection, SessionActionKind kind, SessionIdentity session, bool force, string? title, string? body, CancellationToken cancel)
        {
            Task<LogoffDone> pending = Call(() => connection.SessionActionAsync(
                kind, U(session.TenantName), U(session.HostPoolName), U(session.SessionHostName), session.SessionId,
                force, U(title), U(body), cancel));
            LogoffDone done;
            try
            {
                done = await pending.ConfigureAwait(false);
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw BrokerErrors.ToException(e.Value);
            }

            string notes = done.notes.IntoString();
            return new ActionDone(done.correlation_id.IntoString(), (int)done.attempts,
                notes.Length == 0 ? Array.Empty<string>() : notes.Split('\n'));
        }

        /// <summary>Logs one session off; blocks until done and honours <paramref name="cancel"/>.</summary>
        /// <returns>The correlation id sent with the request.</returns>
        public static string Logoff(RdsConnection connection, SessionIdentity session, bool force, CancellationToken cancel) =>
            SessionActionAsync(connection, SessionActionKind.Logoff, session, force, null, null, cancel).GetAwaiter().GetResult().CorrelationId;

        /// <summary>Lists the sessions of a host pool (blocking, cancellable).</summary>
        public static List<RdsUserSession> ListSessions(RdsConnection connection, string tenant, string hostPool, CancellationToken cancel)
        {
            VecSessionInfo list;
            try
            {
                list = connection.ListSessionsAsync(U(tenant), U(hostPool), cancel).GetAwaiter().GetResult();
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw BrokerErrors.ToException(e.Value);
            }

            try
            {
                var sessions = new List<RdsUserSession>(list.Count);
                for (int i = 0; i < list.Count; i++)
                {
                    // Elements share the vector's native strings: copy them out, then free the
                    // vector once (it owns and frees the strings).
                    SessionInfo s = list[i];
                    sessions.Add(new RdsUserSession(
                        s.tenant_group_name.String, s.tenant_name.String, s.host_pool_name.String, s.session_host_name.String,
                        s.session_id, s.user_principal_name.String, s.ad_user_name.String, s.session_state.String,
                        s.application_type.String, s.create_time_unix_ms, s.create_time_text.String));
                }

                return sessions;
            }
            finally
            {
                list.Dispose();
            }
        }
    }
}
