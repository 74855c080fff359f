// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Drains a session host (no new sessions) or undrains it.</para>
    /// <para type="description">-AllowNewSession $false stops new sessions from landing on the host while its
    /// current users finish (then warn and log them off); -AllowNewSession $true undoes it. Returns the
    /// updated session host. On Azure Resource Manager it is a PATCH of allowNewSession, which needs the
    /// role "Desktop Virtualization Session Host Operator".</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "RdsSessionHost", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RdsSessionHost))]
    public sealed class SetRdsSessionHostCommand : RdsCmdletBase
    {
        #region Parameters

        /// <summary>The tenant of the host pool.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TenantNameCompleter))]
        public string TenantName { get; set; } = string.Empty;

        /// <summary>The host pool of the session host.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(HostPoolNameCompleter))]
        public string HostPoolName { get; set; } = string.Empty;

        /// <summary>The session host (FQDN).</summary>
        [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
        [Alias("SessionHostName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SessionHostNameCompleter))]
        public string Name { get; set; } = string.Empty;

        /// <summary>$false drains the host (no new sessions); $true undrains it.</summary>
        [Parameter(Mandatory = true)]
        public bool AllowNewSession { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            RdsContext context = RequireContext();
            string target = $"{TenantName}/{HostPoolName}/{Name}";
            string action = AllowNewSession ? "Allow new sessions (undrain)" : "Stop new sessions (drain)";
            if (!ShouldProcess(target, action))
            {
                return;
            }

            WriteRead(
                () => NativeCalls.SetAllowNewSession(context.Connection, TenantName, HostPoolName, Name, AllowNewSession, CancelToken),
                RdsSessionHost.OriginalTypeName,
                target);
        }

        #endregion
    }
}
