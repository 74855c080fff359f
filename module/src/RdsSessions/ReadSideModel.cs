// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Globalization;

namespace RdsSessions
{
    /// <summary>
    /// A tenant as <c>Get-RdsTenant</c> returns it: the original RdMgmtTenant's properties, less
    /// its secrets (the SSO client secret and the Log Analytics key are never read). On Azure
    /// Resource Manager the tenants are those of the ARM mapping, with the names and the
    /// subscription filled and the rest empty.
    /// </summary>
    public sealed class RdsTenant
    {
        /// <summary>The original type name, added to the object's PSTypeNames.</summary>
        public const string OriginalTypeName = "Microsoft.RDInfra.RDManagementData.RdMgmtTenant";

        internal RdsTenant(string tenantGroupName, string tenantName, string? aadTenantId, string? description, string? friendlyName,
            string? ssoAdfsAuthority, string? ssoClientId, string? azureSubscriptionId, string? logAnalyticsWorkspaceId)
        {
            TenantGroupName = tenantGroupName;
            TenantName = tenantName;
            AadTenantId = aadTenantId;
            Description = description;
            FriendlyName = friendlyName;
            SsoAdfsAuthority = ssoAdfsAuthority;
            SsoClientId = ssoClientId;
            AzureSubscriptionId = azureSubscriptionId;
            LogAnalyticsWorkspaceId = logAnalyticsWorkspaceId;
        }

        /// <summary>Tenant group name.</summary>
        public string TenantGroupName { get; }

        /// <summary>Tenant name (what -TenantName takes).</summary>
        public string TenantName { get; }

        /// <summary>The Microsoft Entra tenant of the tenant's users.</summary>
        public string? AadTenantId { get; }

        /// <summary>Description.</summary>
        public string? Description { get; }

        /// <summary>Friendly name.</summary>
        public string? FriendlyName { get; }

        /// <summary>The AD FS authority for single sign-on, when set.</summary>
        public string? SsoAdfsAuthority { get; }

        /// <summary>The client id for single sign-on, when set.</summary>
        public string? SsoClientId { get; }

        /// <summary>The Azure subscription (on ARM, the mapping's).</summary>
        public string? AzureSubscriptionId { get; }

        /// <summary>The Log Analytics workspace, when set.</summary>
        public string? LogAnalyticsWorkspaceId { get; }

        /// <inheritdoc />
        public override string ToString() => TenantName;
    }

    /// <summary>A host pool as <c>Get-RdsHostPool</c> returns it (the original RdMgmtHostPool's properties).</summary>
    public sealed class RdsHostPool
    {
        /// <summary>The original type name, added to the object's PSTypeNames.</summary>
        public const string OriginalTypeName = "Microsoft.RDInfra.RDManagementData.RdMgmtHostPool";

        internal RdsHostPool(string tenantGroupName, string tenantName, string hostPoolName, string? friendlyName, string? description,
            bool persistent, string? customRdpProperty, int? maxSessionLimit, string? loadBalancerType, bool validationEnv, int? ring,
            string? assignmentType, string? armResourceId)
        {
            TenantGroupName = tenantGroupName;
            TenantName = tenantName;
            HostPoolName = hostPoolName;
            FriendlyName = friendlyName;
            Description = description;
            Persistent = persistent;
            CustomRdpProperty = customRdpProperty;
            MaxSessionLimit = maxSessionLimit;
            LoadBalancerType = loadBalancerType;
            ValidationEnv = validationEnv;
            Ring = ring;
            AssignmentType = assignmentType;
            ArmResourceId = armResourceId;
        }

        /// <summary>Tenant group name.</summary>
        public string TenantGroupName { get; }

        /// <summary>Tenant name.</summary>
        public string TenantName { get; }

        /// <summary>Host pool name (the classic name, also on ARM).</summary>
        public string HostPoolName { get; }

        /// <summary>Friendly name.</summary>
        public string? FriendlyName { get; }

        /// <summary>Description.</summary>
        public string? Description { get; }

        /// <summary>True for a personal (persistent) host pool.</summary>
        public bool Persistent { get; }

        /// <summary>Custom RDP properties.</summary>
        public string? CustomRdpProperty { get; }

        /// <summary>The most sessions per session host.</summary>
        public int? MaxSessionLimit { get; }

        /// <summary>BreadthFirst, DepthFirst or Persistent.</summary>
        public string? LoadBalancerType { get; }

        /// <summary>Whether the host pool is a validation environment.</summary>
        public bool ValidationEnv { get; }

        /// <summary>The deployment ring, when set.</summary>
        public int? Ring { get; }

        /// <summary>The personal desktop assignment type, when set.</summary>
        public string? AssignmentType { get; }

        /// <summary>The Azure resource id of the host pool (ARM only).</summary>
        public string? ArmResourceId { get; }

        /// <inheritdoc />
        public override string ToString() => $"{TenantName}/{HostPoolName}";
    }

    /// <summary>A session host as <c>Get-RdsSessionHost</c> and <c>Set-RdsSessionHost</c> return it (the original RdMgmtSessionHost's properties).</summary>
    public sealed class RdsSessionHost
    {
        /// <summary>The original type name, added to the object's PSTypeNames.</summary>
        public const string OriginalTypeName = "Microsoft.RDInfra.RDManagementData.RdMgmtSessionHost";

        internal RdsSessionHost(string tenantGroupName, string tenantName, string hostPoolName, string sessionHostName, bool allowNewSession,
            int sessions, long lastHeartBeatUnixMs, string? agentVersion, string? assignedUser, string? osVersion, string? sxSStackVersion,
            string? status, string? updateState, long lastUpdateTimeUnixMs, string? updateErrorMessage)
        {
            TenantGroupName = tenantGroupName;
            TenantName = tenantName;
            HostPoolName = hostPoolName;
            SessionHostName = sessionHostName;
            AllowNewSession = allowNewSession;
            Sessions = sessions;
            LastHeartBeat = LocalTime(lastHeartBeatUnixMs);
            AgentVersion = agentVersion;
            AssignedUser = assignedUser;
            OsVersion = osVersion;
            SxSStackVersion = sxSStackVersion;
            Status = status;
            UpdateState = updateState;
            LastUpdateTime = LocalTime(lastUpdateTimeUnixMs);
            UpdateErrorMessage = updateErrorMessage;
        }

        /// <summary>Local time, like Get-Date (so comparisons with (Get-Date).AddMinutes(-5) work); null when unknown.</summary>
        internal static DateTime? LocalTime(long unixMs) =>
            unixMs == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).LocalDateTime;

        /// <summary>Tenant group name.</summary>
        public string TenantGroupName { get; }

        /// <summary>Tenant name.</summary>
        public string TenantName { get; }

        /// <summary>Host pool name.</summary>
        public string HostPoolName { get; }

        /// <summary>Session host name (FQDN).</summary>
        public string SessionHostName { get; }

        /// <summary>False while the host is drained (takes no new sessions).</summary>
        public bool AllowNewSession { get; }

        /// <summary>Sessions on the host now.</summary>
        public int Sessions { get; }

        /// <summary>The agent's last heartbeat (local time).</summary>
        public DateTime? LastHeartBeat { get; }

        /// <summary>Agent version.</summary>
        public string? AgentVersion { get; }

        /// <summary>The user of a personal desktop.</summary>
        public string? AssignedUser { get; }

        /// <summary>OS version.</summary>
        public string? OsVersion { get; }

        /// <summary>Side-by-side stack version.</summary>
        public string? SxSStackVersion { get; }

        /// <summary>Available, Unavailable, ... (an open set).</summary>
        public string? Status { get; }

        /// <summary>Agent update state.</summary>
        public string? UpdateState { get; }

        /// <summary>When the agent was last updated (local time).</summary>
        public DateTime? LastUpdateTime { get; }

        /// <summary>The last agent update's error, if any.</summary>
        public string? UpdateErrorMessage { get; }

        /// <inheritdoc />
        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture, "{0}/{1}/{2}", TenantName, HostPoolName, SessionHostName);
    }
}
