// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Globalization;
using System.Management.Automation;
using RdsSessions.Native;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Sends a message to a user session.</para>
    /// <para type="description">Shows a message box with the title and body in the user's
    /// session. Without -NoUserPrompt it asks for confirmation first.</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Send, "RdsUserSessionMessage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RdsUserSessionActionResult))]
    public sealed class SendRdsUserSessionMessageCommand : SessionActionCommandBase
    {
        #region Parameters

        /// <summary>Title of the message.</summary>
        [Parameter(Mandatory = true, Position = 4)]
        public string MessageTitle { get; set; } = string.Empty;

        /// <summary>Body of the message.</summary>
        [Parameter(Mandatory = true, Position = 5)]
        public string MessageBody { get; set; } = string.Empty;

        #endregion

        #region Overrides

        private protected override SessionActionKind Kind => SessionActionKind.SendMessage;

        /// <inheritdoc />
        protected override string Doing => "Sending a message to";

        /// <inheritdoc />
        protected override string Done => "Sent the message to";

        /// <inheritdoc />
        protected override string PromptCaption => "Send message to user session";

        /// <inheritdoc />
        protected override (string? Title, string? Body) MessageText => (MessageTitle, MessageBody);

        /// <inheritdoc />
        protected override string PromptQuery(SessionIdentity session) => string.Format(
            CultureInfo.InvariantCulture,
            "Send the message '{0}' to the user of session {1} on session host '{2}' (tenant '{3}', host pool '{4}')?",
            MessageTitle, session.SessionId, session.SessionHostName, session.TenantName, session.HostPoolName);

        /// <inheritdoc />
        protected override RdsUserSessionActionResult Result(SessionIdentity session, string correlationId) =>
            new(session, "SendMessage", "MessageSent", correlationId);

        #endregion
    }
}
