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

    /// <summary>What <c>Invoke-RdsUserSessionLogoff -PassThru</c> writes for each session logged off.</summary>
    public sealed class RdsUserSessionLogoffResult
    {
        internal RdsUserSessionLogoffResult(SessionIdentity session, bool forced, string correlationId)
        {
            TenantGroupName = session.TenantGroupName;
            TenantName = session.TenantName;
            HostPoolName = session.HostPoolName;
            SessionHostName = session.SessionHostName;
            SessionId = session.SessionId;
            Forced = forced;
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

        /// <summary>Whether -Force was sent (the record is removed even if the host is unreachable).</summary>
        public bool Forced { get; }

        /// <summary>Always "LoggedOff": failed sessions produce errors, not results.</summary>
        public string Status => "LoggedOff";

        /// <summary>The x-ms-correlation-id of the request, to quote in a support case.</summary>
        public string CorrelationId { get; }

        /// <inheritdoc />
        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture, "{0}/{1}/{2}/{3}: {4}", TenantName, HostPoolName, SessionHostName, SessionId, Status);
    }
}
