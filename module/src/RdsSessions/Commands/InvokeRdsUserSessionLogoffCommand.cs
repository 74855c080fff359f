// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Threading;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Logoff a user from session host.</para>
    /// <para type="description">Logs the user of one session off its session host. Without
    /// -NoUserPrompt it asks for confirmation first. -Force asks the broker to remove the
    /// session record even when it cannot reach the session host.</para>
    /// <example><code>Invoke-RdsUserSessionLogoff -TenantName 'Tenant' -HostPoolName 'HostPool' -SessionHostName 'SessionHostName' -SessionId 17</code></example>
    /// </summary>
    /// <remarks>
    /// The parameter contract is the original RDInfra one (positions 0-3, all mandatory, all
    /// pipeline by value and by property name). Like the original it declares no ShouldProcess:
    /// the prompt is its own, and -NoUserPrompt is what scripts use to skip it.
    /// </remarks>
    [Cmdlet(VerbsLifecycle.Invoke, "RdsUserSessionLogoff")]
    [OutputType(typeof(RdsUserSessionLogoffResult))]
    public sealed class InvokeRdsUserSessionLogoffCommand : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private RdsContext _context = null!;
        private bool _yesToAll;
        private bool _noToAll;

        #region Parameters

        /// <summary>Tenant name.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string TenantName { get; set; } = string.Empty;

        /// <summary>HostPool name.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string HostPoolName { get; set; } = string.Empty;

        /// <summary>Name of SessionHost.</summary>
        [Parameter(Mandatory = true, Position = 2, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string SessionHostName { get; set; } = string.Empty;

        /// <summary>Id of Session.</summary>
        [Parameter(Mandatory = true, Position = 3, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public int SessionId { get; set; }

        /// <summary>Whether user prompt is required or not.</summary>
        [Parameter]
        public SwitchParameter NoUserPrompt { get; set; }

        /// <summary>Removes the session record even when the session host cannot be reached.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Writes one result object per session logged off (by default nothing is written, like the original).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            _context = RdsModule.RequireContext(this);
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var session = new SessionIdentity(_context.TenantGroupName, TenantName, HostPoolName, SessionHostName, SessionId);
            if (!Confirm(session))
            {
                WriteVerbose($"Skipped session {session}: not confirmed.");
                return;
            }

            WriteVerbose(string.Format(
                CultureInfo.InvariantCulture,
                "Logging off session {0} on session host '{1}' (tenant '{2}', host pool '{3}'){4}.",
                SessionId, SessionHostName, TenantName, HostPoolName, Force ? " with force" : string.Empty));

            string correlationId;
            try
            {
                correlationId = NativeCalls.Logoff(_context.Connection, session, Force.IsPresent, _cancel.Token);
            }
            catch (RdsBrokerException e)
            {
                // One failed session is not the end of the pipeline: report it and go on.
                WriteError(BrokerErrors.ToErrorRecord(e, session));
                return;
            }
            catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
            {
                // Ctrl+C: StopProcessing cancelled the request; the engine stops the pipeline.
                throw new PipelineStoppedException();
            }

            WriteVerbose($"Logged off session {session} (correlation id {correlationId}).");
            if (PassThru)
            {
                WriteObject(new RdsUserSessionLogoffResult(session, Force.IsPresent, correlationId));
            }
        }

        /// <inheritdoc />
        protected override void StopProcessing() => _cancel.Cancel();

        #endregion

        /// <inheritdoc />
        public void Dispose() => _cancel.Dispose();

        /// <summary>
        /// The original's own confirmation: asked for every session unless -NoUserPrompt, with
        /// "Yes to All" / "No to All" remembered for the rest of the pipeline.
        /// </summary>
        private bool Confirm(SessionIdentity session)
        {
            if (NoUserPrompt.IsPresent)
            {
                return true;
            }

            string query = string.Format(
                CultureInfo.InvariantCulture,
                "Log off the user of session {0} on session host '{1}' (tenant '{2}', host pool '{3}')? Unsaved work in the session is lost.",
                session.SessionId, session.SessionHostName, session.TenantName, session.HostPoolName);
            try
            {
                return ShouldContinue(query, "Log off user session", ref _yesToAll, ref _noToAll);
            }
            catch (Exception e) when (e is HostException or PSInvalidOperationException)
            {
                // HostException: a host without UI; PSInvalidOperationException: pwsh -NonInteractive.
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException(
                        "Invoke-RdsUserSessionLogoff asks for confirmation, but this PowerShell host cannot prompt. " +
                        "Add -NoUserPrompt to log sessions off without confirmation.", e),
                    BrokerErrors.ConfirmationNotPossible,
                    ErrorCategory.InvalidOperation,
                    session));
                return false;
            }
        }
    }
}
