// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;
using RdsSessions.Native;

namespace RdsSessions.Commands
{
    /// <summary>
    /// The retry and timeout parameters that <c>Add-RdsAccount</c> and <c>Set-RdsContext</c>
    /// share. They change the context, so a nightly script sets them once and every later
    /// cmdlet uses them. The names follow <c>Invoke-RestMethod</c>'s (<c>-MaximumRetryCount</c>,
    /// <c>-RetryIntervalSec</c>, <c>-TimeoutSec</c>).
    /// </summary>
    /// <remarks>
    /// Each command declares the properties itself (overrides) because their parameter sets
    /// differ: every set of Add-RdsAccount, but only the retry-settings set of Set-RdsContext
    /// (see there). The ranges are the native library's own limits
    /// (<see cref="ValidateRetrySettingAttribute"/>), checked at binding so a bad value is a
    /// binding error that changes nothing.
    /// </remarks>
    public abstract class RetrySettingsCommandBase : RdsCmdletBase
    {
        #region Parameters

        /// <summary>Retries of a request that failed transiently (408, 429, 5xx, network). 0 turns retries off. Default 4.</summary>
        public abstract int? MaximumRetryCount { get; set; }

        /// <summary>Seconds before the first retry; the wait doubles per retry (with jitter) up to 30 s, and never undercuts the broker's Retry-After. Default 0.5.</summary>
        public abstract double? RetryIntervalSec { get; set; }

        /// <summary>No retry starts later than this many seconds after the first attempt. Default 120.</summary>
        public abstract int? RetryTimeoutSec { get; set; }

        /// <summary>Seconds each request may take before it counts as timed out (and is retried). Default 60.</summary>
        public abstract int? TimeoutSec { get; set; }

        /// <summary>Sends ARM requests as fast as -ThrottleLimit allows instead of pacing them to ARM's token buckets (-NoArmPacing:$false paces again).</summary>
        public abstract SwitchParameter NoArmPacing { get; set; }

        #endregion

        /// <summary>Whether any retry or timeout parameter was given.</summary>
        protected bool HasRetryValues =>
            MaximumRetryCount.HasValue || RetryIntervalSec.HasValue || RetryTimeoutSec.HasValue || TimeoutSec.HasValue;

        /// <summary>Whether any setting of the context (retry values or -NoArmPacing) was given.</summary>
        protected bool HasRetrySettings => HasRetryValues || MyInvocation.BoundParameters.ContainsKey(nameof(NoArmPacing));

        /// <summary>The given settings over <paramref name="current"/> (the others are kept).</summary>
        protected RetrySettings MergeRetrySettings(RetrySettings current) => new()
        {
            max_retries = MaximumRetryCount is int retries ? (uint)retries : current.max_retries,
            initial_delay_ms = RetryIntervalSec is double interval ? Milliseconds(interval) : current.initial_delay_ms,
            total_deadline_ms = RetryTimeoutSec is int deadline ? (ulong)deadline * 1000 : current.total_deadline_ms,
            request_timeout_ms = TimeoutSec is int timeout ? (ulong)timeout * 1000 : current.request_timeout_ms,
        };

        /// <summary>
        /// The context with the given settings applied over its current ones (the others are
        /// kept); the same context when none were given.
        /// </summary>
        protected RdsContext ApplyRetrySettings(RdsContext context)
        {
            if (!HasRetrySettings)
            {
                return context;
            }

            RdsContext changed = context;
            if (HasRetryValues)
            {
                changed = changed.WithRetrySettings(MergeRetrySettings(NativeCalls.RetrySettingsOf(context.Connection)));
                WriteVerbose($"Retry settings: {changed.MaximumRetryCount} retries, first after {changed.RetryIntervalSec} s, " +
                    $"none later than {changed.RetryTimeoutSec} s; request timeout {changed.TimeoutSec} s.");
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(NoArmPacing)))
            {
                changed = changed.WithPacing(!NoArmPacing.IsPresent);
                WriteVerbose(changed.ArmPacing
                    ? "ARM requests are paced to Azure Resource Manager's token buckets."
                    : changed.ArmEndpoint is null
                        ? "-NoArmPacing has no effect on a classic broker (it has no token buckets)."
                        : "ARM requests are not paced: they go as fast as -ThrottleLimit allows, and ARM's 429 answers are retried.");
            }

            return changed;
        }

        private static ulong Milliseconds(double seconds) => (ulong)Math.Round(seconds * 1000.0);
    }
}
