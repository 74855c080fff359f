// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.IO;
using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Maps a classic tenant (and optionally one of its host pools) to its Azure Resource Manager subscription, resource group and host pool.</para>
    /// <para type="description">Writes the mapping file that Add-RdsAccount reads, so classic scripts run
    /// unchanged against Azure Virtual Desktop. Values not given are kept.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "RdsArmMapping", SupportsShouldProcess = true)]
    [OutputType(typeof(RdsArmMappingEntry))]
    public sealed class SetRdsArmMappingCommand : RdsCmdletBase
    {
        #region Parameters

        /// <summary>The classic tenant name the scripts use.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string TenantName { get; set; } = string.Empty;

        /// <summary>The Azure subscription of the tenant's host pools (a GUID); needed for a new tenant.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? SubscriptionId { get; set; }

        /// <summary>The resource group of the tenant's host pools (or, with -HostPoolName, of that host pool). Without it, host pools are found by name.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? ResourceGroupName { get; set; }

        /// <summary>The classic host pool name whose placement -ResourceGroupName and -ArmHostPoolName set.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? HostPoolName { get; set; }

        /// <summary>The host pool's name in Azure, when it differs from the classic one (needs -HostPoolName).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? ArmHostPoolName { get; set; }

        /// <summary>The Resource Manager endpoint (default https://management.azure.com; sovereign clouds have their own).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ArmEndpoint { get; set; }

        /// <summary>The api-version to send (default 2025-10-10, with a fallback to 2024-04-03).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ApiVersion { get; set; }

        /// <summary>The mapping file (default: $env:RDSSESSIONS_ARM_MAPPING, else the per-user file).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        /// <summary>Writes the tenant's rows after the change.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string path = Path is null ? ArmMappingConfig.ConfiguredPath : GetUnresolvedProviderPathFromPSPath(Path);
            if (ArmHostPoolName is not null && HostPoolName is null)
            {
                ThrowTerminatingError(BrokerErrors.Record(
                    new ArgumentException("-ArmHostPoolName names the Azure host pool of one classic host pool: give that host pool with -HostPoolName."),
                    "ArmHostPoolNameNeedsHostPoolName", null));
            }

            try
            {
                string existing = ArmMappingConfig.Read(path, mustExist: false) ?? string.Empty;
                var change = new RdsArmMappingChange(TenantName, SubscriptionId, ResourceGroupName, HostPoolName, ArmHostPoolName, ArmEndpoint, ApiVersion);
                // Validated (with the whole file) before anything is written.
                string next = NativeCalls.MappingUpdate(existing, path, change);
                string what = HostPoolName is null ? $"map tenant '{TenantName}'" : $"map host pool '{HostPoolName}' of tenant '{TenantName}'";
                if (!ShouldProcess(path, what))
                {
                    return;
                }

                Write(path, next);
                WriteVerbose($"The ARM mapping in '{path}' now has: {string.Join("; ", Describe(next, path))}.");
                if (PassThru)
                {
                    foreach (RdsArmMappingEntry entry in NativeCalls.MappingEntries(next, path))
                    {
                        if (string.Equals(entry.TenantName, TenantName, StringComparison.OrdinalIgnoreCase))
                        {
                            WriteObject(entry);
                        }
                    }
                }
            }
            catch (RdsBrokerException e)
            {
                WriteError(e.ToErrorRecord(TenantName));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteError(BrokerErrors.Record(e, "ArmMappingNotWritten", path));
            }
        }

        #endregion

        /// <summary>Replaces the file in one step (a reader never sees half a mapping), creating its folder.</summary>
        private static void Write(string path, string text)
        {
            string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
            Directory.CreateDirectory(folder);
            string temporary = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(temporary, text + Environment.NewLine);
            File.Move(temporary, path, overwrite: true);
        }

        private System.Collections.Generic.IEnumerable<string> Describe(string text, string path)
        {
            foreach (RdsArmMappingEntry entry in NativeCalls.MappingEntries(text, path))
            {
                if (string.Equals(entry.TenantName, TenantName, StringComparison.OrdinalIgnoreCase))
                {
                    yield return entry.HostPoolName is null
                        ? $"tenant '{entry.TenantName}' in subscription {entry.SubscriptionId}, resource group {entry.ResourceGroupName ?? "(found by name)"}"
                        : $"host pool '{entry.HostPoolName}' in resource group {entry.ResourceGroupName ?? "(found by name)"} as '{entry.ArmHostPoolName ?? entry.HostPoolName}'";
                }
            }
        }
    }
}
