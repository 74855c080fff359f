// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Globalization;

namespace RdsSessions
{
    /// <summary>
    /// Identifies one user session. It is the TargetObject of every per-session error, so
    /// <c>$Error[0].TargetObject</c> tells which session failed.
    /// </summary>
    public sealed class SessionIdentity
    {
        /// <summary>Creates an identity.</summary>
        public SessionIdentity(string tenantGroupName, string tenantName, string hostPoolName, string sessionHostName, int sessionId)
        {
            TenantGroupName = tenantGroupName;
            TenantName = tenantName;
            HostPoolName = hostPoolName;
            SessionHostName = sessionHostName;
            SessionId = sessionId;
        }

        /// <summary>Tenant group of the context the call used.</summary>
        public string TenantGroupName { get; }

        /// <summary>Tenant name.</summary>
        public string TenantName { get; }

        /// <summary>Host pool name.</summary>
        public string HostPoolName { get; }

        /// <summary>Session host name (FQDN).</summary>
        public string SessionHostName { get; }

        /// <summary>Session id on that host.</summary>
        public int SessionId { get; }

        /// <inheritdoc />
        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture, "{0}/{1}/{2}/{3}", TenantName, HostPoolName, SessionHostName, SessionId);
    }

    /// <summary>What the session action cmdlets write with -PassThru, one per session acted on.</summary>
    public class RdsUserSessionActionResult
    {
        internal RdsUserSessionActionResult(SessionIdentity session, string action, string status, string correlationId)
        {
            TenantGroupName = session.TenantGroupName;
            TenantName = session.TenantName;
            HostPoolName = session.HostPoolName;
            SessionHostName = session.SessionHostName;
            SessionId = session.SessionId;
            Action = action;
            Status = status;
            CorrelationId = correlationId;
        }

        /// <summary>Tenant group.</summary>
        public string TenantGroupName { get; }

        /// <summary>Tenant name.</summary>
        public string TenantName { get; }

        /// <summary>Host pool name.</summary>
        public string HostPoolName { get; }

        /// <summary>Session host name.</summary>
        public string SessionHostName { get; }

        /// <summary>Session id.</summary>
        public int SessionId { get; }

        /// <summary>Logoff, Disconnect or SendMessage.</summary>
        public string Action { get; }

        /// <summary>LoggedOff, Disconnected or MessageSent: failed sessions produce errors, not results.</summary>
        public string Status { get; }

        /// <summary>The x-ms-correlation-id of the request, to quote in a support case.</summary>
        public string CorrelationId { get; }

        /// <inheritdoc />
        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture, "{0}/{1}/{2}/{3}: {4}", TenantName, HostPoolName, SessionHostName, SessionId, Status);
    }

    /// <summary>What <c>Invoke-RdsUserSessionLogoff -PassThru</c> writes for each session logged off.</summary>
    public sealed class RdsUserSessionLogoffResult : RdsUserSessionActionResult
    {
        internal RdsUserSessionLogoffResult(SessionIdentity session, bool forced, string correlationId)
            : base(session, "Logoff", "LoggedOff", correlationId)
        {
            Forced = forced;
        }

        /// <summary>Whether -Force was sent (the record is removed even if the host is unreachable).</summary>
        public bool Forced { get; }
    }

    /// <summary>
    /// A user session as <c>Get-RdsUserSession</c> returns it: the original RdMgmtUserSession's
    /// properties, so filters such as <c>Where-Object SessionState -eq 'Disconnected'</c> and
    /// piping into the action cmdlets (by property name) work unchanged.
    /// </summary>
    public sealed class RdsUserSession
    {
        /// <summary>The original type name, added to the object's PSTypeNames for scripts and views that test it.</summary>
        public const string OriginalTypeName = "Microsoft.RDInfra.RDManagementData.RdMgmtUserSession";

        internal RdsUserSession(string tenantGroupName, string tenantName, string hostPoolName, string sessionHostName, int sessionId,
            string userPrincipalName, string adUserName, string sessionState, string applicationType, long createTimeUnixMs, string createTimeText)
        {
            TenantGroupName = tenantGroupName;
            TenantName = tenantName;
            HostPoolName = hostPoolName;
            SessionHostName = sessionHostName;
            SessionId = sessionId;
            UserPrincipalName = userPrincipalName;
            AdUserName = adUserName;
            SessionState = sessionState;
            ApplicationType = applicationType;
            // Local time, like Get-Date: DateTime comparisons ignore Kind, so a UTC value compared
            // with (Get-Date).AddHours(-8) would be off by the time-zone offset.
            CreateTime = createTimeUnixMs == long.MinValue
                ? null
                : DateTimeOffset.FromUnixTimeMilliseconds(createTimeUnixMs).LocalDateTime;
            CreateTimeText = createTimeText;
        }

        /// <summary>Tenant group name.</summary>
        public string TenantGroupName { get; }

        /// <summary>Tenant name.</summary>
        public string TenantName { get; }

        /// <summary>Host pool name.</summary>
        public string HostPoolName { get; }

        /// <summary>Session host name (FQDN).</summary>
        public string SessionHostName { get; }

        /// <summary>Session id on the session host.</summary>
        public int SessionId { get; }

        /// <summary>The user's UPN.</summary>
        public string UserPrincipalName { get; }

        /// <summary>DOMAIN\user.</summary>
        public string AdUserName { get; }

        /// <summary>Active, Disconnected, ... (an open set: the broker's values are passed through).</summary>
        public string SessionState { get; }

        /// <summary>Desktop, RemoteApp, ...</summary>
        public string ApplicationType { get; }

        /// <summary>When the session was created (local time); null when the broker did not say.</summary>
        public DateTime? CreateTime { get; }

        /// <summary>createTime exactly as the broker sent it.</summary>
        public string CreateTimeText { get; }

        /// <inheritdoc />
        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture, "{0}/{1}/{2}/{3} {4} {5}", TenantName, HostPoolName, SessionHostName, SessionId, UserPrincipalName, SessionState);
    }
}
