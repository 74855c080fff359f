// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

namespace RdsSessions.Commands
{
    /// <summary>
    /// The ranges of the retry parameters (rds-core's RetryPolicy::validate and MAX_REQUEST_TIMEOUT),
    /// checked at binding so a bad value is a binding error that changes nothing.
    /// </summary>
    internal static class RetryLimits
    {
        public const int MaxRetries = 20;
        public const double MinIntervalSec = 0.01;
        public const double MaxIntervalSec = 300.0;
        public const int MaxRetryTimeoutSec = 3600;
        public const int MaxTimeoutSec = 3600;
    }
}
