// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;
using System.Management.Automation.Host;

namespace RdsSessions.SessionActions
{
    /// <summary>
    /// The original's own confirmation: asked for every session unless -NoUserPrompt, with
    /// "Yes to All" / "No to All" remembered for the rest of the pipeline.
    /// </summary>
    /// <remarks>
    /// Not ShouldProcess: the original declares none, and scripts skip the prompt with
    /// -NoUserPrompt, not -Confirm:$false.
    /// </remarks>
    internal sealed class SessionConfirmation
    {
        private readonly PSCmdlet _cmdlet;
        private readonly bool _noUserPrompt;
        private readonly string _caption;
        private readonly Func<SessionIdentity, string> _query;
        private bool _yesToAll;
        private bool _noToAll;

        /// <param name="cmdlet">The cmdlet that prompts (and fails when its host cannot).</param>
        /// <param name="noUserPrompt">-NoUserPrompt: every session is confirmed without asking.</param>
        /// <param name="caption">Caption of the prompt.</param>
        /// <param name="query">The question for one session; only built when a prompt is shown.</param>
        public SessionConfirmation(PSCmdlet cmdlet, bool noUserPrompt, string caption, Func<SessionIdentity, string> query)
        {
            _cmdlet = cmdlet;
            _noUserPrompt = noUserPrompt;
            _caption = caption;
            _query = query;
        }

        /// <summary>Whether the next session will be asked about (no -NoUserPrompt and no "Yes to All" yet).</summary>
        public bool AsksPerSession => !_noUserPrompt && !_yesToAll;

        /// <summary>
        /// Whether to act on <paramref name="session"/>. A host that cannot prompt is a
        /// terminating <c>ConfirmationNotPossible</c> error, before anything is done.
        /// </summary>
        public bool Confirm(SessionIdentity session)
        {
            if (_noUserPrompt)
            {
                return true;
            }

            try
            {
                return _cmdlet.ShouldContinue(_query(session), _caption, ref _yesToAll, ref _noToAll);
            }
            catch (Exception e) when (e is HostException or PSInvalidOperationException)
            {
                // HostException: a host without UI; PSInvalidOperationException: pwsh -NonInteractive.
                _cmdlet.ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException(
                        $"{_cmdlet.MyInvocation.MyCommand.Name} asks for confirmation, but this PowerShell host cannot prompt. " +
                        "Add -NoUserPrompt to run without confirmation.", e),
                    BrokerErrors.ConfirmationNotPossible,
                    ErrorCategory.InvalidOperation,
                    session));
                return false;
            }
        }
    }
}
