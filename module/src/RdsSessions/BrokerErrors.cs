// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Management.Automation;
using RdsSessions.Native;

namespace RdsSessions
{
    /// <summary>
    /// A failure reported by the native library, with everything the service said about it.
    /// The message never contains a token or secret.
    /// </summary>
    public sealed class RdsBrokerException : Exception
    {
        private RdsBrokerException(string errorId, string kind, string? serviceCode, int httpStatus, long retryAfterSeconds, string message)
            : base(message)
        {
            ErrorId = errorId;
            Kind = kind;
            ErrorCode = serviceCode;
            HttpStatus = httpStatus;
            RetryAfterSeconds = retryAfterSeconds;
            (Category, RecommendedAction) = BrokerErrors.Describe(errorId, kind);
        }

        /// <summary>Takes ownership of <paramref name="info"/>'s native strings and frees them.</summary>
        internal static RdsBrokerException From(ErrorInfo info)
        {
            try
            {
                string serviceCode = info.service_code.String;
                return new RdsBrokerException(
                    info.error_id.String,
                    info.kind.ToString(),
                    serviceCode.Length == 0 ? null : serviceCode,
                    info.http_status,
                    info.retry_after_secs,
                    info.message.String);
            }
            finally
            {
                info.error_id.Dispose();
                info.service_code.Dispose();
                info.message.Dispose();
            }
        }

        /// <summary>A value the module refuses before anything reaches native code.</summary>
        internal static RdsBrokerException InvalidInput(string errorId, string message) =>
            new(errorId, "InvalidInput", null, 0, 0, message);

        /// <summary>A failure found by the module itself (for example a certificate missing from the store).</summary>
        internal static RdsBrokerException Local(string errorId, string message) =>
            new(errorId, "InvalidInput", null, 0, 0, message);

        /// <summary>The final ErrorId (named by the native library; scripts match on it).</summary>
        public string ErrorId { get; }

        /// <summary>Coarse kind from the native library (NotFound, Unauthorized, ...).</summary>
        public string Kind { get; }

        /// <summary>For a not-found error: which object (Tenant, HostPool, SessionHost, Session, ...); else "Unknown".</summary>
        public string NotFoundObject => ErrorId.EndsWith("NotFound", StringComparison.Ordinal) && Kind == "NotFound"
            ? ErrorId[..^"NotFound".Length]
            : "Unknown";

        /// <summary>HTTP status of the service's answer, 0 when there was none.</summary>
        public int HttpStatus { get; }

        /// <summary>Seconds the service asked to wait before retrying, 0 when it did not say.</summary>
        public long RetryAfterSeconds { get; }

        /// <summary>
        /// The service's own code: the broker's (TenantNotFound, InvalidDataFormat), Entra ID's
        /// (AADSTS7000215, invalid_client) or ARM's (ScopeLocked); null when there was none.
        /// </summary>
        public string? ErrorCode { get; }

        /// <summary>ErrorCategory of the ErrorRecord built from this exception.</summary>
        public ErrorCategory Category { get; }

        /// <summary>What the admin can do about it, when there is something specific.</summary>
        public string? RecommendedAction { get; }

        /// <summary>The ErrorRecord for this failure; <paramref name="target"/> identifies the item.</summary>
        public ErrorRecord ToErrorRecord(object? target)
        {
            var record = new ErrorRecord(this, ErrorId, Category, target);
            if (RecommendedAction is not null)
            {
                record.ErrorDetails = new ErrorDetails(Message) { RecommendedAction = RecommendedAction };
            }

            return record;
        }
    }

    /// <summary>
    /// The one table from ErrorIds to PowerShell categories and recommended actions. The
    /// native library names every ErrorId (rds-core's ErrorCode); this table only describes
    /// them, and a test fails when the library reports an ErrorId that has no row here.
    /// </summary>
    public static class BrokerErrors
    {
        /// <summary>ErrorId when no Add-RdsAccount ran in this session.</summary>
        public const string NoContext = "NoRdsContext";

        /// <summary>ErrorId when a prompt is needed but the host cannot show one.</summary>
        public const string ConfirmationNotPossible = "ConfirmationNotPossible";

        private static readonly Dictionary<string, (ErrorCategory Category, string? Action)> s_table = new(StringComparer.Ordinal)
        {
            // Input: nothing was sent.
            ["InvalidInput"] = (ErrorCategory.InvalidArgument, null),
            ["InvalidAccountParameters"] = (ErrorCategory.InvalidArgument, null),
            ["InvalidCertificateThumbprint"] = (ErrorCategory.InvalidArgument, null),
            // Not found.
            ["TenantGroupNotFound"] = (ErrorCategory.ObjectNotFound, "Check the tenant group with Get-RdsContext; change it with Set-RdsContext."),
            ["TenantNotFound"] = (ErrorCategory.ObjectNotFound, null),
            ["HostPoolNotFound"] = (ErrorCategory.ObjectNotFound, null),
            ["SessionHostNotFound"] = (ErrorCategory.ObjectNotFound, null),
            ["SessionNotFound"] = (ErrorCategory.ObjectNotFound, "The session may already be logged off; list the sessions again."),
            ["BrokerObjectNotFound"] = (ErrorCategory.ObjectNotFound, null),
            // The service's answers.
            ["BrokerUnauthorized"] = (ErrorCategory.AuthenticationError, "Run Add-RdsAccount again to obtain a new token."),
            ["BrokerForbidden"] = (ErrorCategory.PermissionDenied, "Ask an RDS Owner to assign you a role on the tenant (New-RdsRoleAssignment)."),
            ["BrokerThrottled"] = (ErrorCategory.LimitsExceeded, "Wait and run the command again for the sessions that failed."),
            ["BrokerBadRequest"] = (ErrorCategory.InvalidArgument, null),
            ["BrokerConflict"] = (ErrorCategory.ResourceUnavailable, "If the session host is gone for good, log the session off with Invoke-RdsUserSessionLogoff -Force to remove the session record."),
            ["BrokerServerError"] = (ErrorCategory.ResourceUnavailable, null),
            ["BrokerRedirectRefused"] = (ErrorCategory.InvalidResult, "Check -DeploymentUrl: use the service's own URL, which answers without a redirect."),
            ["BrokerResponseTooLarge"] = (ErrorCategory.InvalidResult, null),
            ["BrokerProtocolError"] = (ErrorCategory.InvalidResult, null),
            ["BrokerUnreachable"] = (ErrorCategory.ConnectionError, null),
            ["BrokerTimeout"] = (ErrorCategory.OperationTimeout, null),
            ["OperationCancelled"] = (ErrorCategory.OperationStopped, null),
            // Sign-in.
            ["AuthorityUnreachable"] = (ErrorCategory.ConnectionError, null),
            ["ManagedIdentityUnavailable"] = (ErrorCategory.ConnectionError, null),
            ["InvalidClientSecret"] = (ErrorCategory.AuthenticationError, null),
            ["ApplicationNotFound"] = (ErrorCategory.AuthenticationError, null),
            ["InvalidUserCredentials"] = (ErrorCategory.AuthenticationError, null),
            ["InvalidClientCertificate"] = (ErrorCategory.AuthenticationError, null),
            ["ClientAssertionExpired"] = (ErrorCategory.AuthenticationError, null),
            ["AadTenantNotFound"] = (ErrorCategory.ObjectNotFound, null),
            ["InvalidScope"] = (ErrorCategory.InvalidArgument, null),
            ["SignInExpired"] = (ErrorCategory.AuthenticationError, "Run Add-RdsAccount again."),
            ["DeviceCodeExpired"] = (ErrorCategory.OperationTimeout, null),
            ["DeviceCodeDeclined"] = (ErrorCategory.PermissionDenied, null),
            ["AuthenticationFailed"] = (ErrorCategory.AuthenticationError, null),
            ["CertificateExpired"] = (ErrorCategory.SecurityError, null),
            ["CertificateNotYetValid"] = (ErrorCategory.SecurityError, null),
            ["CertificateNotFound"] = (ErrorCategory.ObjectNotFound, null),
            ["CertificatePasswordInvalid"] = (ErrorCategory.AuthenticationError, null),
            ["CertificateInvalid"] = (ErrorCategory.InvalidData, null),
            // Azure Resource Manager.
            ["SubscriptionNotFound"] = (ErrorCategory.ObjectNotFound, "Check the subscription id in the ARM mapping (Get-RdsArmMapping) and that the identity can see it."),
            ["ResourceGroupNotFound"] = (ErrorCategory.ObjectNotFound, "Check the resource group in the ARM mapping (Get-RdsArmMapping)."),
            ["ResourceLocked"] = (ErrorCategory.PermissionDenied, "Remove the resource lock on the host pool, its resource group or the subscription, or ask its owner to."),
            ["AuthorizationFailed"] = (ErrorCategory.PermissionDenied, "Assign the identity the role 'Desktop Virtualization User Session Operator' on the host pool (or its resource group)."),
            ["ApiVersionNotSupported"] = (ErrorCategory.InvalidArgument, "Set another api-version with Set-RdsArmMapping -ApiVersion."),
            ["ArmMappingRequired"] = (ErrorCategory.InvalidOperation, "Map the tenants with Set-RdsArmMapping -TenantName <tenant> -SubscriptionId <id>, then run Add-RdsAccount again."),
            ["ArmMappingInvalid"] = (ErrorCategory.InvalidData, "Correct the mapping file at the line and field named, or rewrite the entry with Set-RdsArmMapping."),
            ["ArmMappingNotFound"] = (ErrorCategory.ObjectNotFound, "Add the tenant with Set-RdsArmMapping -TenantName <tenant> -SubscriptionId <id>."),
            ["HostPoolAmbiguous"] = (ErrorCategory.InvalidResult, "Name the host pool's resource group with Set-RdsArmMapping -HostPoolName <name> -ResourceGroupName <group>."),
            // The module itself.
            [NoContext] = (ErrorCategory.InvalidOperation, "Run Add-RdsAccount -DeploymentUrl https://rdbroker.wvd.microsoft.com (with your credentials)."),
            [ConfirmationNotPossible] = (ErrorCategory.InvalidOperation, "Add -NoUserPrompt to run without confirmation."),
            ["ContextNotFound"] = (ErrorCategory.ObjectNotFound, null),
            ["InvalidTenantGroupName"] = (ErrorCategory.InvalidArgument, null),
            ["InvalidRetrySettings"] = (ErrorCategory.InvalidArgument, null),
            ["ArmHostPoolNameNeedsHostPoolName"] = (ErrorCategory.InvalidArgument, null),
            ["ArmMappingNotWritten"] = (ErrorCategory.WriteError, null),
            ["NativeLibraryError"] = (ErrorCategory.NotSpecified, null),
        };

        /// <summary>Every ErrorId the module can report (for the README and table tests).</summary>
        public static IReadOnlyCollection<string> ErrorIds => s_table.Keys;

        /// <summary>The category and recommended action of an ErrorId; unknown ones by their kind.</summary>
        internal static (ErrorCategory Category, string? Action) Describe(string errorId, string kind) =>
            s_table.TryGetValue(errorId, out var row) ? row : (CategoryOfKind(kind), null);

        /// <summary>The fallback for an ErrorId without a row (a library newer than this table).</summary>
        internal static ErrorCategory CategoryOfKind(string kind) => kind switch
        {
            "InvalidInput" => ErrorCategory.InvalidArgument,
            "NotFound" => ErrorCategory.ObjectNotFound,
            "Unauthorized" or "Authentication" => ErrorCategory.AuthenticationError,
            "Forbidden" => ErrorCategory.PermissionDenied,
            "Throttled" => ErrorCategory.LimitsExceeded,
            "BadRequest" => ErrorCategory.InvalidArgument,
            "Conflict" or "ServerError" => ErrorCategory.ResourceUnavailable,
            "Network" => ErrorCategory.ConnectionError,
            "Timeout" => ErrorCategory.OperationTimeout,
            "Protocol" => ErrorCategory.InvalidResult,
            "Cancelled" => ErrorCategory.OperationStopped,
            _ => ErrorCategory.NotSpecified,
        };

        /// <summary>Builds the ErrorRecord for a failed item; <paramref name="target"/> identifies it.</summary>
        internal static ErrorRecord ToErrorRecord(RdsBrokerException exception, object? target) => exception.ToErrorRecord(target);

        /// <summary>An ErrorRecord of the module's own (not from the native library), its category from the table.</summary>
        internal static ErrorRecord Record(Exception exception, string errorId, object? target)
        {
            (ErrorCategory category, string? action) = Describe(errorId, string.Empty);
            var record = new ErrorRecord(exception, errorId, category, target);
            if (action is not null)
            {
                record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = action };
            }

            return record;
        }
    }
}
