// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Lists the host pools of a tenant, or gets one by name.</para>
    /// <para type="description">Pipe tenants in (Get-RdsTenant | Get-RdsHostPool), and pipe the host pools
    /// on into Get-RdsUserSession or Get-RdsSessionHost.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RdsHostPool")]
    [OutputType(typeof(RdsHostPool))]
    public sealed class GetRdsHostPoolCommand : RdsCmdletBase
    {
        #region Parameters

        /// <summary>The tenant of the host pools.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TenantNameCompleter))]
        public string TenantName { get; set; } = string.Empty;

        /// <summary>The host pool to get; all of the tenant's without it.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("HostPoolName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostPoolNameCompleter))]
        public string? Name { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            RdsContext context = RequireContext();
            WriteRead(
                () => NativeCalls.ListHostPools(context.Connection, TenantName, Name, CancelToken),
                RdsHostPool.OriginalTypeName,
                Name is null ? TenantName : $"{TenantName}/{Name}");
        }

        #endregion
    }
}
