// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Lists the session hosts of a host pool, or gets one by name.</para>
    /// <para type="description">Each session host shows whether it takes new sessions (AllowNewSession),
    /// how many sessions it has, its status and its agent's last heartbeat.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RdsSessionHost")]
    [OutputType(typeof(RdsSessionHost))]
    public sealed class GetRdsSessionHostCommand : RdsCmdletBase
    {
        #region Parameters

        /// <summary>The tenant of the host pool.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TenantNameCompleter))]
        public string TenantName { get; set; } = string.Empty;

        /// <summary>The host pool of the session hosts.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostPoolNameCompleter))]
        public string HostPoolName { get; set; } = string.Empty;

        /// <summary>The session host to get; all of the host pool's without it.</summary>
        [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
        [Alias("SessionHostName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SessionHostNameCompleter))]
        public string? Name { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            RdsContext context = RequireContext();
            WriteRead(
                () => NativeCalls.ListSessionHosts(context.Connection, TenantName, HostPoolName, Name, CancelToken),
                RdsSessionHost.OriginalTypeName,
                Name is null ? $"{TenantName}/{HostPoolName}" : $"{TenantName}/{HostPoolName}/{Name}");
        }

        #endregion
    }
}
