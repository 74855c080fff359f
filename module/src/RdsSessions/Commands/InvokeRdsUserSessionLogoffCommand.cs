// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Globalization;
using System.Management.Automation;
using RdsSessions.Native;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Logoff a user from session host.</para>
    /// <para type="description">Logs the user of each session off its session host. Without
    /// -NoUserPrompt it asks for confirmation first. -Force asks the broker to remove the
    /// session record even when it cannot reach the session host.</para>
    /// <example><code>Invoke-RdsUserSessionLogoff -TenantName 'Tenant' -HostPoolName 'HostPool' -SessionHostName 'SessionHostName' -SessionId 17</code></example>
    /// </summary>
    /// <remarks>
    /// The parameter contract is the original RDInfra one (positions 0-3, all mandatory, all
    /// pipeline by value and by property name). The prompt is the module's own, as in the
    /// original, and -NoUserPrompt is what scripts use to skip it; -WhatIf and an explicit
    /// -Confirm come from ShouldProcess (see SessionConfirmation), and $ConfirmPreference never
    /// adds a prompt, so old scripts behave as they did.
    /// </remarks>
    [Cmdlet(VerbsLifecycle.Invoke, "RdsUserSessionLogoff", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RdsUserSessionLogoffResult))]
    public sealed class InvokeRdsUserSessionLogoffCommand : SessionActionCommandBase
    {
        #region Parameters

        /// <summary>Removes the session record even when the session host cannot be reached.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        #endregion

        #region Overrides

        private protected override SessionActionKind Kind => SessionActionKind.Logoff;

        /// <inheritdoc />
        protected override string Doing => "Logging off";

        /// <inheritdoc />
        protected override string Done => "Logged off";

        /// <inheritdoc />
        protected override string PromptCaption => "Log off user session";

        /// <inheritdoc />
        protected override bool ForceAction => Force.IsPresent;

        /// <inheritdoc />
        protected override string VerboseSuffix => Force ? " with force" : string.Empty;

        /// <inheritdoc />
        protected override string PromptQuery(SessionIdentity session) => string.Format(
            CultureInfo.InvariantCulture,
            "Log off the user of session {0} on session host '{1}' (tenant '{2}', host pool '{3}')? Unsaved work in the session is lost.",
            session.SessionId, session.SessionHostName, session.TenantName, session.HostPoolName);

        /// <inheritdoc />
        protected override RdsUserSessionActionResult Result(SessionIdentity session, string correlationId) =>
            new RdsUserSessionLogoffResult(session, Force.IsPresent, correlationId);

        #endregion
    }
}
