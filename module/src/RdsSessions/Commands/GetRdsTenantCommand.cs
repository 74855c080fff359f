// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Lists the tenants of the tenant group, or gets one by name.</para>
    /// <para type="description">On Azure Resource Manager the tenants are those of the ARM mapping,
    /// with TenantGroupName, TenantName and AzureSubscriptionId filled.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RdsTenant")]
    [OutputType(typeof(RdsTenant))]
    public sealed class GetRdsTenantCommand : RdsCmdletBase
    {
        #region Parameters

        /// <summary>The tenant to get; all of them without it.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("TenantName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TenantNameCompleter))]
        public string? Name { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            RdsContext context = RequireContext();
            WriteRead(
                () => NativeCalls.ListTenants(context.Connection, Name, CancelToken),
                RdsTenant.OriginalTypeName,
                Name ?? context.TenantGroupName);
        }

        #endregion
    }
}
