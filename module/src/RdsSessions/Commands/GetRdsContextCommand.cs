// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Shows the RDS context of this PowerShell session.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RdsContext")]
    [OutputType(typeof(RdsContext))]
    public sealed class GetRdsContextCommand : PSCmdlet
    {
        /// <summary>Only return the context when it is for this deployment URL.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DeploymentUrl { get; set; }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            RdsContext context = RdsModule.RequireContext(this);
            if (DeploymentUrl is not null
                && !string.Equals(DeploymentUrl.TrimEnd('/'), context.DeploymentUrl, StringComparison.OrdinalIgnoreCase))
            {
                WriteError(new ErrorRecord(
                    new ItemNotFoundException($"There is no RDS context for {DeploymentUrl}; the current one is for {context.DeploymentUrl}."),
                    "ContextNotFound",
                    ErrorCategory.ObjectNotFound,
                    DeploymentUrl));
                return;
            }

            WriteObject(context);
        }
    }

    /// <summary>
    /// <para type="synopsis">Switches the tenant group every later cmdlet uses.</para>
    /// <para type="description">Valid for this PowerShell session; Add-RdsAccount selects "Default Tenant Group".</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "RdsContext")]
    [OutputType(typeof(RdsContext))]
    public sealed class SetRdsContextCommand : PSCmdlet
    {
        /// <summary>The tenant group.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string TenantGroupName { get; set; } = string.Empty;

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            RdsContext current = RdsModule.RequireContext(this);
            RdsContext changed;
            try
            {
                changed = current.ForTenantGroup(TenantGroupName);
            }
            catch (RdsBrokerException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, "InvalidTenantGroupName", e.Category, TenantGroupName));
                return;
            }

            RdsContextStore.Set(changed);
            WriteVerbose($"Tenant group is now '{changed.TenantGroupName}'.");
            WriteObject(changed);
        }
    }
}
