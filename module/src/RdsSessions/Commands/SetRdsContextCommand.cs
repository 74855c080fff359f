// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Switches the tenant group, or the retry and timeout settings, every later cmdlet uses.</para>
    /// <para type="description">Valid for this PowerShell session; Add-RdsAccount selects "Default Tenant Group"
    /// and the default retry settings. Settings not given are kept.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "RdsContext", DefaultParameterSetName = TenantGroupSet)]
    [OutputType(typeof(RdsContext))]
    public sealed class SetRdsContextCommand : RetrySettingsCommandBase
    {
        private const string TenantGroupSet = "TenantGroup";
        private const string RetrySettingsSet = "RetrySettings";

        #region Parameters

        /// <summary>The tenant group (the original's mandatory, positional parameter).</summary>
        /// <remarks>
        /// The retry parameters are only in the retry-settings set, where the group is optional:
        /// given alone they rule the original set out, so the binder picks theirs instead of
        /// prompting for a group; given nothing, the original set (the default) still prompts.
        /// </remarks>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = TenantGroupSet)]
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = RetrySettingsSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TenantGroupNameCompleter))]
        public string TenantGroupName { get; set; } = string.Empty;

        /// <inheritdoc />
        [Parameter(ParameterSetName = RetrySettingsSet)]
        public override SwitchParameter NoArmPacing { get; set; }

        /// <inheritdoc />
        [Parameter(ParameterSetName = RetrySettingsSet)]
        [ValidateRetrySetting(RetrySetting.MaximumRetryCount)]
        public override int? MaximumRetryCount { get; set; }

        /// <inheritdoc />
        [Parameter(ParameterSetName = RetrySettingsSet)]
        [ValidateRetrySetting(RetrySetting.RetryIntervalSec)]
        public override double? RetryIntervalSec { get; set; }

        /// <inheritdoc />
        [Parameter(ParameterSetName = RetrySettingsSet)]
        [ValidateRetrySetting(RetrySetting.RetryTimeoutSec)]
        public override int? RetryTimeoutSec { get; set; }

        /// <inheritdoc />
        [Parameter(ParameterSetName = RetrySettingsSet)]
        [ValidateRetrySetting(RetrySetting.TimeoutSec)]
        public override int? TimeoutSec { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            RdsContext changed = RequireContext();
            if (ParameterSetName == TenantGroupSet || MyInvocation.BoundParameters.ContainsKey(nameof(TenantGroupName)))
            {
                try
                {
                    changed = changed.ForTenantGroup(TenantGroupName);
                }
                catch (RdsBrokerException e)
                {
                    ThrowTerminatingError(BrokerErrors.Record(e, "InvalidTenantGroupName", NativeCalls.Shown(TenantGroupName)));
                    return;
                }

                WriteVerbose($"Tenant group is now '{changed.TenantGroupName}'.");
            }

            try
            {
                changed = ApplyRetrySettings(changed);
            }
            catch (RdsBrokerException e)
            {
                ThrowTerminatingError(BrokerErrors.Record(e, "InvalidRetrySettings", null));
                return;
            }

            // Stored only when every change succeeded: a bad value changes nothing.
            RdsContextStore.Set(changed);
            WriteObject(changed);
        }

        #endregion
    }
}
