// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Management.Automation;
using RdsSessions.Native;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Signs in to a Windows Virtual Desktop (classic) deployment.</para>
    /// <para type="description">Stores the deployment URL, credentials and tenant group
    /// ("Default Tenant Group") for this PowerShell session; every other cmdlet uses them.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "RdsAccount", DefaultParameterSetName = AccessTokenSet)]
    [OutputType(typeof(RdsContext))]
    public sealed class AddRdsAccountCommand : PSCmdlet
    {
        private const string AccessTokenSet = "AddAccountWithAccessToken";

        /// <summary>The broker URL, for example https://rdbroker.wvd.microsoft.com.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string DeploymentUrl { get; set; } = string.Empty;

        /// <summary>A bearer token for the broker obtained elsewhere. It is never shown or logged.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AccessTokenSet)]
        [ValidateNotNullOrEmpty]
        public string AccessToken { get; set; } = string.Empty;

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            RdsConnection connection;
            try
            {
                connection = NativeCalls.CreateWithToken(DeploymentUrl, RdsModule.DefaultTenantGroup, AccessToken);
            }
            catch (RdsBrokerException e)
            {
                // Invalid invocation (bad URL, empty token): nothing to continue with.
                // No target object: the URL as given may carry user-info (a password).
                ThrowTerminatingError(new ErrorRecord(e, "InvalidAccountParameters", e.Category, null));
                return;
            }

            var context = new RdsContext(NativeCalls.DeploymentUrl(connection), NativeCalls.TenantGroup(connection), userName: null, connection);
            RdsContextStore.Set(context);
            WriteVerbose($"Signed in to {context.DeploymentUrl}; tenant group '{context.TenantGroupName}'.");
            WriteObject(context);
        }
    }

    /// <summary>
    /// <para type="synopsis">Shows the RDS context of this PowerShell session.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RdsContext")]
    [OutputType(typeof(RdsContext))]
    public sealed class GetRdsContextCommand : PSCmdlet
    {
        /// <inheritdoc />
        protected override void EndProcessing()
        {
            WriteObject(RdsModule.RequireContext(this));
        }
    }
}
