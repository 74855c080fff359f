// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RdsSessions.Native;

namespace RdsSessions
{
    /// <summary>A completed session action: correlation id, requests sent, notes for verbose output.</summary>
    internal sealed record ActionDone(string CorrelationId, int Attempts, string[] Notes);

    /// <summary>
    /// What Add-RdsAccount signs in with: the mode and every value it may need (null when not
    /// given). Secrets are handed to the native library, which keeps them in zeroing containers.
    /// </summary>
    internal sealed record SignInRequest(SignInMode Mode, string DeploymentUrl, string TenantGroup, RetrySettings Retry)
    {
        public string? AuthorityHost { get; init; }
        public string? TenantId { get; init; }
        public string? ClientId { get; init; }
        public string? UserName { get; init; }
        public string? Secret { get; init; }
        /// <summary>The parameter the secret came from, for a refusal's message.</summary>
        public string SecretParameter { get; init; } = "Credential";
        /// <summary>The parameter the client id came from, for a refusal's message.</summary>
        public string ClientIdParameter { get; init; } = "ApplicationId";
        public string? CertificatePath { get; init; }
        public string? IdentityEndpoint { get; init; }
        public string? ImdsEndpoint { get; init; }
        /// <summary>The ARM mapping's JSON and where it came from; null when none is configured.</summary>
        public (string Text, string Source)? ArmMapping { get; init; }
        /// <summary>The per-user mapping file, for the message that says how to make one.</summary>
        public string? DefaultMappingPath { get; init; }
    }

    /// <summary>
    /// Calls into the generated bindings and converts their results: managed strings in (each
    /// through <see cref="NativeStrings"/>, bounded and checked), managed values out, every
    /// native string freed, every native error turned into an <see cref="RdsBrokerException"/>.
    /// The only class that touches the generated types.
    /// </summary>
    /// <remarks>
    /// Secrets (client secrets, passwords, PEM keys) are moved into Rust, which keeps them in
    /// zeroing containers. The managed strings they came from cannot be zeroed; they are not
    /// kept by this module and become garbage at once.
    /// </remarks>
    internal static class NativeCalls
    {
        /// <summary>Names and ids are one path segment; the core refuses more than this anyway.</summary>
        private const int MaxNameChars = 1024;

        /// <summary>URLs: the core refuses more than 2048 characters; this bound only protects the marshalling.</summary>
        private const int MaxUrlChars = 4096;

        private static T Call<T>(Func<T> call)
        {
            try
            {
                return call();
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw RdsBrokerException.From(e.Value);
            }
        }

        /// <summary>
        /// Waits for a native task on the calling (pipeline) thread. Native errors become
        /// <see cref="RdsBrokerException"/>; a task cancelled through <c>Ctrl+C</c> becomes an
        /// <see cref="OperationCanceledException"/>.
        /// </summary>
        private static T Wait<T>(Task<T> task, CancellationToken cancel)
        {
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw RdsBrokerException.From(e.Value);
            }
            catch (TaskCanceledException e)
            {
                throw new OperationCanceledException("The operation was cancelled.", e, cancel);
            }
        }

        private static Utf8String S(string? value, string parameter, int maxChars = NativeStrings.MaxChars) =>
            NativeStrings.From(value, parameter, maxChars);

        /// <summary>A URL as a message may show it (the native library's one redaction function: never user-info or a query).</summary>
        public static string ShownUrl(string url) =>
            Interop.rds_shown_url(S(Displayable(url, MaxUrlChars), "DeploymentUrl", MaxUrlChars)).IntoString();

        /// <summary>A value as a message may show it: quoted, control characters escaped, cut at 100 characters.</summary>
        public static string Shown(string value) =>
            Interop.rds_shown(S(Displayable(value, NativeStrings.MaxChars), "value")).IntoString();

        /// <summary>
        /// A value that is only shown, never sent, made marshallable: cut to <paramref name="max"/>
        /// characters and unpaired surrogates replaced, so showing a refused value cannot fail again.
        /// </summary>
        private static string Displayable(string value, int max)
        {
            var chars = (value.Length > max ? value[..max] : value).ToCharArray();
            for (int i = 0; i < chars.Length; i++)
            {
                if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                {
                    i++;
                }
                else if (char.IsSurrogate(chars[i]))
                {
                    chars[i] = '\uFFFD';
                }
            }

            return new string(chars);
        }

        /// <summary>The retry settings Add-RdsAccount uses when none are given.</summary>
        public static RetrySettings DefaultRetrySettings() => Interop.rds_default_retry_settings();

        /// <summary>The limits the core enforces on retry settings.</summary>
        public static RetryLimits RetryLimits() => Interop.rds_retry_limits();

        /// <summary>Every ErrorId the native library can report, with its kind.</summary>
        public static IReadOnlyList<(string ErrorId, string Kind)> ErrorIds()
        {
            var ids = new List<(string, string)>();
            foreach (string line in Interop.rds_error_ids().IntoString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = line.Split('\t');
                ids.Add((parts[0], parts.Length > 1 ? parts[1] : string.Empty));
            }

            return ids;
        }

        /// <summary>
        /// Signs in: checks the request locally, shows a device code through
        /// <paramref name="showDeviceCode"/> (on this thread) when the mode has one, and
        /// acquires the first token. Every request is bounded by the request timeout, and
        /// <paramref name="cancel"/> (Ctrl+C) stops any of them at once.
        /// </summary>
        public static RdsConnection SignIn(SignInRequest request, Action<string> showDeviceCode, Action<string> showNote, CancellationToken cancel)
        {
            // Every value is checked before the first native string is made, so a refused
            // one leaves nothing allocated behind.
            const string Refused = "InvalidAccountParameters";
            NativeStrings.Check(request.DeploymentUrl, "DeploymentUrl", MaxUrlChars, Refused);
            NativeStrings.Check(request.TenantGroup, "TenantGroupName", MaxNameChars, Refused);
            NativeStrings.Check(request.AuthorityHost ?? string.Empty, "AuthorityHost", MaxUrlChars, Refused);
            NativeStrings.Check(request.TenantId ?? string.Empty, "AadTenantId", MaxNameChars, Refused);
            NativeStrings.Check(request.ClientId ?? string.Empty, request.ClientIdParameter, MaxNameChars, Refused);
            NativeStrings.Check(request.UserName ?? string.Empty, "Credential", MaxNameChars, Refused);
            NativeStrings.Check(request.Secret ?? string.Empty, request.SecretParameter, NativeStrings.MaxChars, Refused);
            NativeStrings.Check(request.CertificatePath ?? string.Empty, "CertificatePath", MaxUrlChars, Refused);
            NativeStrings.Check(request.IdentityEndpoint ?? string.Empty, "IDENTITY_ENDPOINT", MaxUrlChars, Refused);
            NativeStrings.Check(request.ImdsEndpoint ?? string.Empty, "IMDS_ENDPOINT", MaxUrlChars, Refused);
            NativeStrings.Check(request.ArmMapping?.Text ?? string.Empty, "ArmMapping", (int)ArmMappingConfig.MaxBytes, Refused);
            NativeStrings.Check(request.ArmMapping?.Source ?? string.Empty, "ArmMapping", MaxUrlChars, Refused);
            var options = new SignInOptions
            {
                mode = request.Mode,
                deployment_url = S(request.DeploymentUrl, "DeploymentUrl", MaxUrlChars),
                tenant_group = S(request.TenantGroup, "TenantGroupName", MaxNameChars),
                authority_host = S(request.AuthorityHost, "AuthorityHost", MaxUrlChars),
                tenant_id = S(request.TenantId, "AadTenantId", MaxNameChars),
                client_id = S(request.ClientId, request.ClientIdParameter, MaxNameChars),
                user_name = S(request.UserName, "Credential", MaxNameChars),
                secret = S(request.Secret, request.SecretParameter),
                certificate_path = S(request.CertificatePath, "CertificatePath", MaxUrlChars),
                identity_endpoint = S(request.IdentityEndpoint, "IDENTITY_ENDPOINT", MaxUrlChars),
                imds_endpoint = S(request.ImdsEndpoint, "IMDS_ENDPOINT", MaxUrlChars),
                retry = request.Retry,
                arm_mapping_json = S(request.ArmMapping?.Text, "ArmMapping", (int)ArmMappingConfig.MaxBytes),
                arm_mapping_source = S(request.ArmMapping?.Source, "ArmMapping", MaxUrlChars),
                default_mapping_path = S(request.DefaultMappingPath, "ArmMapping", MaxUrlChars),
            };
            using SignIn signIn = Call(() => Native.SignIn.Create(options));
            foreach (string note in Lines(signIn.Notes().IntoString()))
            {
                showNote(note);
            }

            string message = Wait(signIn.StartAsync(cancel), cancel).IntoString();
            if (message.Length > 0)
            {
                showDeviceCode(message);
            }

            Wait(signIn.CompleteAsync(cancel), cancel).Dispose();
            return Call(() => RdsConnection.Create(signIn));
        }

        public static RdsConnection ForTenantGroup(RdsConnection source, string tenantGroup) =>
            Call(() => RdsConnection.CreateForTenantGroup(source, S(tenantGroup, "TenantGroupName", MaxNameChars)));

        public static RdsConnection WithRetrySettings(RdsConnection source, RetrySettings settings) =>
            Call(() => RdsConnection.CreateWithRetrySettings(source, settings));

        public static RetrySettings RetrySettingsOf(RdsConnection connection) => connection.RetrySettings();

        public static RdsConnection WithPacing(RdsConnection source, bool enabled) =>
            Call(() => RdsConnection.CreateWithPacing(source, enabled));

        public static string DeploymentUrl(RdsConnection connection) => connection.DeploymentUrl().IntoString();

        public static string TenantGroup(RdsConnection connection) => connection.TenantGroup().IntoString();

        public static string? UserName(RdsConnection connection)
        {
            string name = connection.UserName().IntoString();
            return name.Length == 0 ? null : name;
        }

        /// <summary>Retries reported since the last call (see RdsConnection.take_retry_notes).</summary>
        public static string[] TakeRetryNotes(RdsConnection throttled) => Lines(throttled.TakeRetryNotes().IntoString());

        public static RdsConnection CreateThrottled(RdsConnection source, int limit) =>
            Call(() => RdsConnection.CreateThrottled(source, (uint)limit));

        /// <summary>
        /// Starts one session action in the native runtime and returns at once. The task
        /// completes with the result, or faults with an <see cref="RdsBrokerException"/>, or is
        /// cancelled through <paramref name="cancel"/>. Bad input throws before anything starts.
        /// </summary>
        public static async Task<ActionDone> SessionActionAsync(
            RdsConnection connection, SessionActionKind kind, SessionIdentity session, bool force, string? title, string? body, CancellationToken cancel)
        {
            NativeStrings.Check(session.TenantName, "TenantName", MaxNameChars);
            NativeStrings.Check(session.HostPoolName, "HostPoolName", MaxNameChars);
            NativeStrings.Check(session.SessionHostName, "SessionHostName", MaxNameChars);
            NativeStrings.Check(title ?? string.Empty, "MessageTitle");
            NativeStrings.Check(body ?? string.Empty, "MessageBody");
            Task<SessionActionDone> pending = Call(() => connection.SessionActionAsync(
                kind,
                S(session.TenantName, "TenantName", MaxNameChars),
                S(session.HostPoolName, "HostPoolName", MaxNameChars),
                S(session.SessionHostName, "SessionHostName", MaxNameChars),
                session.SessionId,
                force,
                S(title, "MessageTitle"),
                S(body, "MessageBody"),
                cancel));
            SessionActionDone done;
            try
            {
                done = await pending.ConfigureAwait(false);
            }
            catch (EnumException<ErrorInfo> e)
            {
                throw RdsBrokerException.From(e.Value);
            }

            string notes = done.notes.IntoString();
            return new ActionDone(done.correlation_id.IntoString(), (int)done.attempts,
                notes.Length == 0 ? Array.Empty<string>() : notes.Split('\n'));
        }

        /// <summary>Lists the sessions of a host pool (blocking, cancellable), with notes for verbose output.</summary>
        public static (List<RdsUserSession> Sessions, string[] Notes) ListSessions(RdsConnection connection, string tenant, string hostPool, CancellationToken cancel)
        {
            NativeStrings.Check(tenant, "TenantName", MaxNameChars);
            NativeStrings.Check(hostPool, "HostPoolName", MaxNameChars);
            SessionList listed = Wait(
                Call(() => connection.ListSessionsAsync(S(tenant, "TenantName", MaxNameChars), S(hostPool, "HostPoolName", MaxNameChars), cancel)),
                cancel);
            string[] notes = Lines(listed.notes.IntoString());
            VecSessionInfo list = listed.sessions;
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

                return (sessions, notes);
            }
            finally
            {
                list.Dispose();
            }
        }

        /// <summary>The tenants, or the one named (blocking, cancellable), with notes for verbose output.</summary>
        public static (List<RdsTenant> Items, string[] Notes) ListTenants(RdsConnection connection, string? name, CancellationToken cancel)
        {
            NativeStrings.Check(name ?? string.Empty, "Name", MaxNameChars);
            TenantList listed = Wait(Call(() => connection.ListTenantsAsync(S(name, "Name", MaxNameChars), cancel)), cancel);
            return (Items(listed.items, listed.items.Count, i =>
            {
                TenantInfo t = listed.items[i];
                return new RdsTenant(t.tenant_group_name.String, t.tenant_name.String, Null(t.aad_tenant_id.String),
                    Null(t.description.String), Null(t.friendly_name.String), Null(t.sso_adfs_authority.String),
                    Null(t.sso_client_id.String), Null(t.azure_subscription_id.String), Null(t.log_analytics_workspace_id.String));
            }), Lines(listed.notes.IntoString()));
        }

        /// <summary>The host pools of a tenant, or the one named (blocking, cancellable), with notes.</summary>
        public static (List<RdsHostPool> Items, string[] Notes) ListHostPools(RdsConnection connection, string tenant, string? name, CancellationToken cancel)
        {
            NativeStrings.Check(tenant, "TenantName", MaxNameChars);
            NativeStrings.Check(name ?? string.Empty, "Name", MaxNameChars);
            HostPoolList listed = Wait(Call(() => connection.ListHostPoolsAsync(S(tenant, "TenantName", MaxNameChars), S(name, "Name", MaxNameChars), cancel)), cancel);
            return (Items(listed.items, listed.items.Count, i =>
            {
                HostPoolInfo p = listed.items[i];
                return new RdsHostPool(p.tenant_group_name.String, p.tenant_name.String, p.host_pool_name.String, Null(p.friendly_name.String),
                    Null(p.description.String), p.persistent.Is, Null(p.custom_rdp_property.String), Number(p.max_session_limit),
                    Null(p.load_balancer_type.String), p.validation_env.Is, Number(p.ring), Null(p.assignment_type.String), Null(p.arm_id.String));
            }), Lines(listed.notes.IntoString()));
        }

        /// <summary>The session hosts of a host pool, or the one named (blocking, cancellable), with notes.</summary>
        public static (List<RdsSessionHost> Items, string[] Notes) ListSessionHosts(RdsConnection connection, string tenant, string hostPool, string? name, CancellationToken cancel)
        {
            CheckHost(tenant, hostPool, name ?? string.Empty);
            SessionHostList listed = Wait(Call(() => connection.ListSessionHostsAsync(
                S(tenant, "TenantName", MaxNameChars), S(hostPool, "HostPoolName", MaxNameChars), S(name, "Name", MaxNameChars), cancel)), cancel);
            return SessionHosts(listed);
        }

        /// <summary>Drains or undrains a session host (blocking, cancellable); the updated session host, with notes.</summary>
        public static (List<RdsSessionHost> Items, string[] Notes) SetAllowNewSession(RdsConnection connection, string tenant, string hostPool, string name, bool allow, CancellationToken cancel)
        {
            CheckHost(tenant, hostPool, name);
            SessionHostList listed = Wait(Call(() => connection.SetAllowNewSessionAsync(
                S(tenant, "TenantName", MaxNameChars), S(hostPool, "HostPoolName", MaxNameChars), S(name, "Name", MaxNameChars), allow, cancel)), cancel);
            return SessionHosts(listed);
        }

        private static void CheckHost(string tenant, string hostPool, string name)
        {
            NativeStrings.Check(tenant, "TenantName", MaxNameChars);
            NativeStrings.Check(hostPool, "HostPoolName", MaxNameChars);
            NativeStrings.Check(name, "Name", MaxNameChars);
        }

        private static (List<RdsSessionHost> Items, string[] Notes) SessionHosts(SessionHostList listed) =>
            (Items(listed.items, listed.items.Count, i =>
            {
                SessionHostInfo h = listed.items[i];
                return new RdsSessionHost(h.tenant_group_name.String, h.tenant_name.String, h.host_pool_name.String, h.session_host_name.String,
                    h.allow_new_session.Is, (int)Math.Clamp(h.sessions, 0, int.MaxValue), h.last_heart_beat_unix_ms, Null(h.agent_version.String),
                    Null(h.assigned_user.String), Null(h.os_version.String), Null(h.sxs_stack_version.String), Null(h.status.String),
                    Null(h.update_state.String), h.last_update_time_unix_ms, Null(h.update_error_message.String));
            }), Lines(listed.notes.IntoString()));

        /// <summary>Copies a native list out (its elements share its strings), then frees it once.</summary>
        private static List<T> Items<T>(IDisposable list, int count, Func<int, T> item)
        {
            try
            {
                var items = new List<T>(count);
                for (int i = 0; i < count; i++)
                {
                    items.Add(item(i));
                }

                return items;
            }
            finally
            {
                list.Dispose();
            }
        }

        private static int? Number(long value) => value == long.MinValue ? null : (int)Math.Clamp(value, int.MinValue, int.MaxValue);

        /// <summary>The ARM endpoint of a connection; null for a classic broker.</summary>
        public static string? ArmEndpoint(RdsConnection connection)
        {
            string endpoint = connection.ArmEndpoint().IntoString();
            return endpoint.Length == 0 ? null : endpoint;
        }

        /// <summary>The ARM api-version in use; null for a classic broker.</summary>
        public static string? ArmApiVersion(RdsConnection connection)
        {
            string version = connection.ArmApiVersion().IntoString();
            return version.Length == 0 ? null : version;
        }

        /// <summary>The rows of a mapping (checked by the native library; its errors name the file, line and field).</summary>
        public static List<RdsArmMappingEntry> MappingEntries(string text, string source)
        {
            NativeStrings.Check(text, "ArmMapping", (int)ArmMappingConfig.MaxBytes);
            VecArmMappingEntry rows = Call(() => Interop.rds_arm_mapping_entries(S(text, "ArmMapping", (int)ArmMappingConfig.MaxBytes), S(source, "Path", MaxUrlChars)).AsOk());
            try
            {
                var entries = new List<RdsArmMappingEntry>(rows.Count);
                for (int i = 0; i < rows.Count; i++)
                {
                    ArmMappingEntry row = rows[i];
                    entries.Add(new RdsArmMappingEntry(
                        row.tenant.String, row.subscription_id.String, Null(row.resource_group.String),
                        Null(row.host_pool.String), Null(row.arm_host_pool.String), source));
                }

                return entries;
            }
            finally
            {
                rows.Dispose();
            }
        }

        /// <summary>A mapping's JSON with one change applied (validated by the native library).</summary>
        public static string MappingUpdate(string existing, string source, RdsArmMappingChange change)
        {
            NativeStrings.Check(existing, "Path", (int)ArmMappingConfig.MaxBytes);
            foreach ((string? value, string parameter) in change.Values())
            {
                NativeStrings.Check(value ?? string.Empty, parameter, MaxNameChars);
            }

            var update = new ArmMappingUpdate
            {
                tenant = S(change.TenantName, "TenantName", MaxNameChars),
                subscription_id = S(change.SubscriptionId, "SubscriptionId", MaxNameChars),
                resource_group = S(change.ResourceGroupName, "ResourceGroupName", MaxNameChars),
                host_pool = S(change.HostPoolName, "HostPoolName", MaxNameChars),
                arm_host_pool = S(change.ArmHostPoolName, "ArmHostPoolName", MaxNameChars),
                arm_endpoint = S(change.ArmEndpoint, "ArmEndpoint", MaxNameChars),
                api_version = S(change.ApiVersion, "ApiVersion", MaxNameChars),
            };
            return Call(() => Interop.rds_arm_mapping_update(S(existing, "Path", (int)ArmMappingConfig.MaxBytes), S(source, "Path", MaxUrlChars), update).AsOk()).IntoString();
        }

        private static string? Null(string value) => value.Length == 0 ? null : value;

        private static string[] Lines(string text) =>
            text.Length == 0 ? Array.Empty<string>() : text.Split('\n');
    }
}
