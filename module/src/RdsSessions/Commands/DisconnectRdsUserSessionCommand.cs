// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Globalization;
using System.Management.Automation;
using RdsSessions.Native;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Disconnects a user session from its session host.</para>
    /// <para type="description">The session keeps running; the user can reconnect to it.
    /// Without -NoUserPrompt it asks for confirmation first.</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Disconnect, "RdsUserSession", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RdsUserSessionActionResult))]
    public sealed class DisconnectRdsUserSessionCommand : SessionActionCommandBase
    {
        #region Overrides

        private protected override SessionActionKind Kind => SessionActionKind.Disconnect;

        /// <inheritdoc />
        protected override string Doing => "Disconnecting";

        /// <inheritdoc />
        protected override string Done => "Disconnected";

        /// <inheritdoc />
        protected override string PromptCaption => "Disconnect user session";

        /// <inheritdoc />
        protected override string PromptQuery(SessionIdentity session) => string.Format(
            CultureInfo.InvariantCulture,
            "Disconnect the user of session {0} on session host '{1}' (tenant '{2}', host pool '{3}')? The session keeps running.",
            session.SessionId, session.SessionHostName, session.TenantName, session.HostPoolName);

        /// <inheritdoc />
        protected override RdsUserSessionActionResult Result(SessionIdentity session, string correlationId) =>
            new(session, "Disconnect", "Disconnected", correlationId);

        #endregion
    }
}
