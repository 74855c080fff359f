// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;
using RdsSessions.Native;

namespace RdsSessions
{
    /// <summary>
    /// A failure reported by the native library, with everything the broker said about it.
    /// The message never contains a token or secret.
    /// </summary>
    public sealed class RdsBrokerException : Exception
    {
        internal RdsBrokerException(ErrorInfo info)
            : base(info.message.String)
        {
            Kind = BrokerErrors.KindName(info.kind);
            NotFoundObject = BrokerErrors.ObjectName(info.not_found);
            HttpStatus = info.http_status;
            RetryAfterSeconds = info.retry_after_secs;
            string code = info.broker_code.String;
            BrokerErrorCode = code.Length == 0 ? null : code;
            (ErrorId, Category) = BrokerErrors.Classify(info.kind, info.not_found);
        }

        /// <summary>Coarse kind from the native library (NotFound, Unauthorized, ...).</summary>
        public string Kind { get; }

        /// <summary>For NotFound: which object (Tenant, HostPool, SessionHost, Session, ...).</summary>
        public string NotFoundObject { get; }

        /// <summary>HTTP status of the broker's answer, 0 when there was none.</summary>
        public int HttpStatus { get; }

        /// <summary>Seconds the broker asked to wait before retrying, 0 when it did not say.</summary>
        public long RetryAfterSeconds { get; }

        /// <summary>The broker's own error code (TenantNotFound, InvalidDataFormat, ...).</summary>
        public string? BrokerErrorCode { get; }

        /// <summary>Stable PascalCase ErrorId of the ErrorRecord built from this exception.</summary>
        public string ErrorId { get; }

        /// <summary>ErrorCategory of the ErrorRecord built from this exception.</summary>
        public ErrorCategory Category { get; }
    }

    /// <summary>
    /// The one mapping from native error kinds to PowerShell ErrorIds and categories.
    /// ErrorIds are part of the module's contract: scripts match on them.
    /// </summary>
    public static class BrokerErrors
    {
        /// <summary>ErrorId when no Add-RdsAccount ran in this session.</summary>
        public const string NoContext = "NoRdsContext";

        /// <summary>ErrorId when a prompt is needed but the host cannot show one.</summary>
        public const string ConfirmationNotPossible = "ConfirmationNotPossible";

        internal static string KindName(ErrorKind k) =>
            k.IsInvalidInput ? "InvalidInput" : k.IsNotFound ? "NotFound" : k.IsUnauthorized ? "Unauthorized"
            : k.IsForbidden ? "Forbidden" : k.IsThrottled ? "Throttled" : k.IsBadRequest ? "BadRequest"
            : k.IsConflict ? "Conflict" : k.IsServerError ? "ServerError" : k.IsNetwork ? "Network"
            : k.IsTimeout ? "Timeout" : k.IsProtocol ? "Protocol" : k.IsCancelled ? "Cancelled" : "Internal";

        internal static string ObjectName(BrokerObject o) =>
            o.IsTenantGroup ? "TenantGroup" : o.IsTenant ? "Tenant" : o.IsHostPool ? "HostPool"
            : o.IsSessionHost ? "SessionHost" : o.IsSession ? "Session" : "Unknown";

        internal static (string ErrorId, ErrorCategory Category) Classify(ErrorKind kind, BrokerObject notFound)
        {
            if (kind.IsNotFound)
            {
                string id = notFound.IsTenantGroup ? "TenantGroupNotFound"
                    : notFound.IsTenant ? "TenantNotFound"
                    : notFound.IsHostPool ? "HostPoolNotFound"
                    : notFound.IsSessionHost ? "SessionHostNotFound"
                    : notFound.IsSession ? "SessionNotFound"
                    : "BrokerObjectNotFound";
                return (id, ErrorCategory.ObjectNotFound);
            }

            if (kind.IsInvalidInput) return ("InvalidInput", ErrorCategory.InvalidArgument);
            if (kind.IsUnauthorized) return ("BrokerUnauthorized", ErrorCategory.AuthenticationError);
            if (kind.IsForbidden) return ("BrokerForbidden", ErrorCategory.PermissionDenied);
            if (kind.IsThrottled) return ("BrokerThrottled", ErrorCategory.LimitsExceeded);
            if (kind.IsBadRequest) return ("BrokerBadRequest", ErrorCategory.InvalidArgument);
            if (kind.IsConflict) return ("BrokerConflict", ErrorCategory.ResourceUnavailable);
            if (kind.IsServerError) return ("BrokerServerError", ErrorCategory.ResourceUnavailable);
            if (kind.IsNetwork) return ("BrokerUnreachable", ErrorCategory.ConnectionError);
            if (kind.IsTimeout) return ("BrokerTimeout", ErrorCategory.OperationTimeout);
            if (kind.IsProtocol) return ("BrokerProtocolError", ErrorCategory.InvalidResult);
            if (kind.IsCancelled) return ("OperationCancelled", ErrorCategory.OperationStopped);
            return ("NativeLibraryError", ErrorCategory.NotSpecified);
        }

        /// <summary>Builds the ErrorRecord for a failed item; <paramref name="target"/> identifies it.</summary>
        internal static ErrorRecord ToErrorRecord(RdsBrokerException exception, object? target)
        {
            var record = new ErrorRecord(exception, exception.ErrorId, exception.Category, target);
            string? action = exception.ErrorId switch
            {
                "BrokerUnauthorized" => "Run Add-RdsAccount again to obtain a new token.",
                "BrokerForbidden" => "Ask an RDS Owner to assign you a role on the tenant (New-RdsRoleAssignment).",
                "BrokerThrottled" => "Wait and run the command again for the sessions that failed.",
                "BrokerConflict" => "If the session host is gone for good, add -Force to remove the session record.",
                "SessionNotFound" => "The session may already be logged off; list the sessions again.",
                _ => null,
            };
            if (action is not null)
            {
                record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = action };
            }

            return record;
        }

        /// <summary>Takes ownership of <paramref name="info"/>'s native strings and frees them.</summary>
        internal static RdsBrokerException ToException(ErrorInfo info)
        {
            try
            {
                return new RdsBrokerException(info);
            }
            finally
            {
                info.broker_code.Dispose();
                info.message.Dispose();
            }
        }
    }
}
