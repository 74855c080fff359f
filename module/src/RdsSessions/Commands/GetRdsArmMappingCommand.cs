// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Shows the ARM mapping: which Azure subscription, resource group and host pool each classic tenant and host pool stands for.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RdsArmMapping")]
    [OutputType(typeof(RdsArmMappingEntry))]
    public sealed class GetRdsArmMappingCommand : RdsCmdletBase
    {
        #region Parameters

        /// <summary>Only the rows of this classic tenant (case-insensitive; wildcards allowed).</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string? TenantName { get; set; }

        /// <summary>The mapping file (default: $env:RDSSESSIONS_ARM_MAPPING, else the per-user file).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            string path = Path is null ? ArmMappingConfig.ConfiguredPath : GetUnresolvedProviderPathFromPSPath(Path);
            try
            {
                string? text = ArmMappingConfig.Read(path, mustExist: Path is not null
                    || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(ArmMappingConfig.EnvironmentVariable)));
                if (text is null)
                {
                    WriteVerbose($"There is no ARM mapping file at '{path}'; Set-RdsArmMapping creates it.");
                    return;
                }

                var pattern = TenantName is null ? null : new WildcardPattern(TenantName, WildcardOptions.IgnoreCase);
                foreach (RdsArmMappingEntry entry in NativeCalls.MappingEntries(text, path))
                {
                    if (pattern is null || pattern.IsMatch(entry.TenantName))
                    {
                        WriteObject(entry);
                    }
                }
            }
            catch (RdsBrokerException e)
            {
                ThrowTerminatingError(e.ToErrorRecord(path));
            }
        }

        #endregion
    }
}
