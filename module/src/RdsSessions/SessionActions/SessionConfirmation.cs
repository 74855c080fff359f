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
    /// The cmdlets also support -WhatIf and -Confirm (ShouldProcess), without changing what old
    /// scripts see: ShouldProcess is consulted only when -WhatIf (or a calling script's
    /// $WhatIfPreference) or an explicit -Confirm asks for it, so $ConfirmPreference never adds
    /// a prompt to an unattended run. -WhatIf sends nothing and says what would happen to each
    /// session; -Confirm asks through PowerShell's own prompt, which then is the confirmation
    /// (the module's prompt is not asked again); -NoUserPrompt skips the module's prompt only.
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
            _caption = caption;
            _query = query;
            _whatIf = Bound(cmdlet, "WhatIf") ?? IsTrue(cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference"));
            _explicitConfirm = Bound(cmdlet, "Confirm") == true;
            // An explicit -Confirm asks through ShouldProcess: the module's own prompt would ask twice.
            _noUserPrompt = noUserPrompt || _explicitConfirm;
        }

        private readonly bool _whatIf;
        private readonly bool _explicitConfirm;

        /// <summary>A switch's bound value (-WhatIf:$false is bound and false), or null when not given.</summary>
        private static bool? Bound(PSCmdlet cmdlet, string name) =>
            cmdlet.MyInvocation.BoundParameters.TryGetValue(name, out object? value) ? IsTrue(value) : null;

        private static bool IsTrue(object? value) => value switch
        {
            SwitchParameter s => s.IsPresent,
            bool b => b,
            _ => LanguagePrimitives.IsTrue(value),
        };

        /// <summary>Whether the next session will be asked about (no -NoUserPrompt and no "Yes to All" yet).</summary>
        public bool AsksPerSession => !_noUserPrompt && !_yesToAll;

        /// <summary>
        /// Whether to act on <paramref name="session"/>. A host that cannot prompt is a
        /// terminating <c>ConfirmationNotPossible</c> error, before anything is done.
        /// </summary>
        public bool Confirm(SessionIdentity session)
        {
            // -WhatIf: ShouldProcess writes "What if: ..." and answers false; -Confirm: it asks.
            if ((_whatIf || _explicitConfirm) && !_cmdlet.ShouldProcess(session.ToString(), _caption))
            {
                return false;
            }

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
