// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Collections.Generic;

namespace RdsSessions
{
    /// <summary>
    /// One row of the ARM mapping, as Get-RdsArmMapping shows it: a tenant's subscription and
    /// default resource group, or one host pool's placement.
    /// </summary>
    public sealed class RdsArmMappingEntry
    {
        internal RdsArmMappingEntry(string tenantName, string subscriptionId, string? resourceGroupName, string? hostPoolName, string? armHostPoolName, string path)
        {
            TenantName = tenantName;
            SubscriptionId = subscriptionId;
            ResourceGroupName = resourceGroupName;
            HostPoolName = hostPoolName;
            ArmHostPoolName = armHostPoolName;
            Path = path;
        }

        /// <summary>The classic tenant name the scripts use.</summary>
        public string TenantName { get; }

        /// <summary>The Azure subscription of the tenant's host pools.</summary>
        public string SubscriptionId { get; }

        /// <summary>The resource group; null when it is found by discovery (by host pool name).</summary>
        public string? ResourceGroupName { get; }

        /// <summary>The classic host pool name of an override row; null for the tenant's own row.</summary>
        public string? HostPoolName { get; }

        /// <summary>The host pool's name in Azure, when it differs from the classic one.</summary>
        public string? ArmHostPoolName { get; }

        /// <summary>The mapping file the row comes from.</summary>
        public string Path { get; }
    }

    /// <summary>What Set-RdsArmMapping changes; null values are kept as they are.</summary>
    internal sealed record RdsArmMappingChange(
        string TenantName,
        string? SubscriptionId,
        string? ResourceGroupName,
        string? HostPoolName,
        string? ArmHostPoolName,
        string? ArmEndpoint,
        string? ApiVersion)
    {
        /// <summary>Each value with the parameter it came from.</summary>
        public IEnumerable<(string? Value, string Parameter)> Values()
        {
            yield return (TenantName, nameof(TenantName));
            yield return (SubscriptionId, nameof(SubscriptionId));
            yield return (ResourceGroupName, nameof(ResourceGroupName));
            yield return (HostPoolName, nameof(HostPoolName));
            yield return (ArmHostPoolName, nameof(ArmHostPoolName));
            yield return (ArmEndpoint, nameof(ArmEndpoint));
            yield return (ApiVersion, nameof(ApiVersion));
        }
    }
}
