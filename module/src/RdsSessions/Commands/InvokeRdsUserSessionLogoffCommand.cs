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
    /// pipeline by value and by property name). Like the original it declares no ShouldProcess:
    /// the prompt is its own, and -NoUserPrompt is what scripts use to skip it.
    /// </remarks>
    [Cmdlet(VerbsLifecycle.Invoke, "RdsUserSessionLogoff")]
    [OutputType(typeof(RdsUserSessionLogoffResult))]
    public sealed class InvokeRdsUserSessionLogoffCommand : SessionActionCommandBase
    {
        /// <summary>Removes the session record even when the session host cannot be reached.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

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
    }

    /// <summary>
    /// <para type="synopsis">Disconnects a user session from its session host.</para>
    /// <para type="description">The session keeps running; the user can reconnect to it.
    /// Without -NoUserPrompt it asks for confirmation first.</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Disconnect, "RdsUserSession")]
    [OutputType(typeof(RdsUserSessionActionResult))]
    public sealed class DisconnectRdsUserSessionCommand : SessionActionCommandBase
    {
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
    }

    /// <summary>
    /// <para type="synopsis">Sends a message to a user session.</para>
    /// <para type="description">Shows a message box with the title and body in the user's
    /// session. Without -NoUserPrompt it asks for confirmation first.</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Send, "RdsUserSessionMessage")]
    [OutputType(typeof(RdsUserSessionActionResult))]
    public sealed class SendRdsUserSessionMessageCommand : SessionActionCommandBase
    {
        /// <summary>Title of the message.</summary>
        [Parameter(Mandatory = true, Position = 4)]
        public string MessageTitle { get; set; } = string.Empty;

        /// <summary>Body of the message.</summary>
        [Parameter(Mandatory = true, Position = 5)]
        public string MessageBody { get; set; } = string.Empty;

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
    }
}
