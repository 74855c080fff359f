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
            string code = info.error_code.String;
            ErrorCode = code.Length == 0 ? null : code;
            (ErrorId, Category) = BrokerErrors.Classify(info.kind, info.not_found, ErrorCode, Message);
        }

        private RdsBrokerException(string kind, string code, string message, string errorId, ErrorCategory category)
            : base(message)
        {
            Kind = kind;
            NotFoundObject = "Unknown";
            ErrorCode = code;
            ErrorId = errorId;
            Category = category;
        }

        /// <summary>A failure found by the module itself (for example a certificate missing from the store).</summary>
        internal static RdsBrokerException Local(string code, string message)
        {
            (string id, ErrorCategory category) = BrokerErrors.Classify(Native.ErrorKind.InvalidInput, Native.BrokerObject.Unknown, code, message);
            return new RdsBrokerException("InvalidInput", code, message, id, category);
        }

        /// <summary>Coarse kind from the native library (NotFound, Unauthorized, ...).</summary>
        public string Kind { get; }

        /// <summary>For NotFound: which object (Tenant, HostPool, SessionHost, Session, ...).</summary>
        public string NotFoundObject { get; }

        /// <summary>HTTP status of the broker's answer, 0 when there was none.</summary>
        public int HttpStatus { get; }

        /// <summary>Seconds the broker asked to wait before retrying, 0 when it did not say.</summary>
        public long RetryAfterSeconds { get; }

        /// <summary>
        /// The most specific code: the broker's (TenantNotFound, InvalidDataFormat), Entra ID's
        /// (AADSTS7000215, invalid_client) or the module's own (CertificateExpired, AuthorityUnreachable).
        /// </summary>
        public string? ErrorCode { get; }

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
            : k.IsTimeout ? "Timeout" : k.IsProtocol ? "Protocol" : k.IsCancelled ? "Cancelled"
            : k.IsAuthentication ? "Authentication" : "Internal";

        internal static string ObjectName(BrokerObject o) =>
            o.IsTenantGroup ? "TenantGroup" : o.IsTenant ? "Tenant" : o.IsHostPool ? "HostPool"
            : o.IsSessionHost ? "SessionHost" : o.IsSession ? "Session" : "Unknown";

        internal static (string ErrorId, ErrorCategory Category) Classify(ErrorKind kind, BrokerObject notFound, string? code, string message)
        {
            if (kind.IsAuthentication)
            {
                return ClassifySignIn(code, message);
            }

            switch (code)
            {
                case "AuthorityUnreachable": return ("AuthorityUnreachable", ErrorCategory.ConnectionError);
                case "ManagedIdentityUnavailable": return ("ManagedIdentityUnavailable", ErrorCategory.ConnectionError);
                case "CertificateNotFound": return ("CertificateNotFound", ErrorCategory.ObjectNotFound);
                case "InvalidCertificateThumbprint": return ("InvalidCertificateThumbprint", ErrorCategory.InvalidArgument);
                case "CertificatePasswordInvalid": return ("CertificatePasswordInvalid", ErrorCategory.AuthenticationError);
                case "CertificateInvalid": return ("CertificateInvalid", ErrorCategory.InvalidData);
            }

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

        /// <summary>Sign-in refusals, by Entra ID code (AADSTS) or OAuth error.</summary>
        private static (string ErrorId, ErrorCategory Category) ClassifySignIn(string? code, string message)
        {
            switch (code)
            {
                case "AADSTS7000215": return ("InvalidClientSecret", ErrorCategory.AuthenticationError);
                case "AADSTS700016": return ("ApplicationNotFound", ErrorCategory.AuthenticationError);
                case "AADSTS50126": return ("InvalidUserCredentials", ErrorCategory.AuthenticationError);
                case "AADSTS700027": return ("InvalidClientCertificate", ErrorCategory.AuthenticationError);
                case "AADSTS700024": return ("ClientAssertionExpired", ErrorCategory.AuthenticationError);
                case "AADSTS90002": return ("AadTenantNotFound", ErrorCategory.ObjectNotFound);
                case "AADSTS70011": return ("InvalidScope", ErrorCategory.InvalidArgument);
                case "CertificateExpired": return ("CertificateExpired", ErrorCategory.SecurityError);
                case "CertificateNotYetValid": return ("CertificateNotYetValid", ErrorCategory.SecurityError);
                case "SignInExpired": return ("SignInExpired", ErrorCategory.AuthenticationError);
            }

            // Device-code outcomes are OAuth errors (RFC 8628); the message quotes the error name.
            if (code == "expired_token" || message.Contains("(expired_token)", StringComparison.Ordinal))
            {
                return ("DeviceCodeExpired", ErrorCategory.OperationTimeout);
            }

            if (code is "authorization_declined" or "access_denied"
                || message.Contains("(authorization_declined)", StringComparison.Ordinal)
                || message.Contains("(access_denied)", StringComparison.Ordinal))
            {
                return ("DeviceCodeDeclined", ErrorCategory.PermissionDenied);
            }

            return ("AuthenticationFailed", ErrorCategory.AuthenticationError);
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
                "BrokerConflict" => "If the session host is gone for good, log the session off with Invoke-RdsUserSessionLogoff -Force to remove the session record.",
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
                info.error_code.Dispose();
                info.message.Dispose();
            }
        }
    }
}
