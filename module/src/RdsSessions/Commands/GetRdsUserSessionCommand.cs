// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Lists the user sessions of a host pool.</para>
    /// <para type="description">Returns one object per session with the original properties
    /// (TenantGroupName, TenantName, HostPoolName, SessionHostName, SessionId, UserPrincipalName,
    /// AdUserName, SessionState, ApplicationType, CreateTime). Pipe them, filtered or not, into
    /// Invoke-RdsUserSessionLogoff, Disconnect-RdsUserSession or Send-RdsUserSessionMessage.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RdsUserSession")]
    [OutputType(typeof(RdsUserSession))]
    public sealed class GetRdsUserSessionCommand : RdsCmdletBase
    {
        #region Parameters

        /// <summary>Tenant name.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TenantNameCompleter))]
        public string TenantName { get; set; } = string.Empty;

        /// <summary>HostPool name.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(HostPoolNameCompleter))]
        public string HostPoolName { get; set; } = string.Empty;

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            RdsContext context = RequireContext();
            WriteVerbose($"Listing the sessions of host pool '{HostPoolName}' (tenant '{TenantName}', tenant group '{context.TenantGroupName}').");
            try
            {
                var (sessions, notes) = NativeCalls.ListSessions(context.Connection, TenantName, HostPoolName, CancelToken);
                foreach (string note in notes)
                {
                    WriteVerbose(note + ".");
                }

                foreach (RdsUserSession session in sessions)
                {
                    var item = new PSObject(session);
                    item.TypeNames.Insert(0, RdsUserSession.OriginalTypeName);
                    WriteObject(item);
                }

                WriteVerbose($"{sessions.Count} session(s) in host pool '{HostPoolName}'.");
            }
            catch (RdsBrokerException e)
            {
                WriteError(BrokerErrors.ToErrorRecord(e, $"{TenantName}/{HostPoolName}"));
            }
            catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        #endregion
    }
}
