// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Globalization;
using System.Management.Automation;
using RdsSessions.Native;

namespace RdsSessions
{
    /// <summary>The retry and timeout settings a parameter may set.</summary>
    public enum RetrySetting
    {
        /// <summary>-MaximumRetryCount.</summary>
        MaximumRetryCount,

        /// <summary>-RetryIntervalSec.</summary>
        RetryIntervalSec,

        /// <summary>-RetryTimeoutSec.</summary>
        RetryTimeoutSec,

        /// <summary>-TimeoutSec.</summary>
        TimeoutSec,
    }

    /// <summary>
    /// Validates a retry or timeout parameter against the native library's own limits, read
    /// over the FFI: the range a parameter accepts is by construction the range the core
    /// enforces (a binding error, like ValidateRange, before anything changes).
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateRetrySettingAttribute : ValidateArgumentsAttribute
    {
        /// <summary>Validates the parameter as <paramref name="setting"/>.</summary>
        public ValidateRetrySettingAttribute(RetrySetting setting) => Setting = setting;

        /// <summary>Which setting the parameter is.</summary>
        public RetrySetting Setting { get; }

        /// <summary>The smallest and largest value the native library accepts for <paramref name="setting"/>, in the parameter's unit.</summary>
        public static (double Min, double Max) RangeOf(RetrySetting setting)
        {
            RetryLimits limits = NativeCalls.RetryLimits();
            return setting switch
            {
                RetrySetting.MaximumRetryCount => (0, limits.max_retry_count),
                RetrySetting.RetryIntervalSec => (limits.min_retry_interval_ms / 1000.0, limits.max_retry_interval_ms / 1000.0),
                RetrySetting.RetryTimeoutSec => (0, limits.max_retry_timeout_ms / 1000.0),
                RetrySetting.TimeoutSec => (1, limits.max_request_timeout_ms / 1000.0),
                _ => throw new ArgumentOutOfRangeException(nameof(setting)),
            };
        }

        /// <inheritdoc />
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            if (arguments is null)
            {
                throw new ValidationMetadataException($"-{Setting} needs a number; $null was given.");
            }

            double value = Convert.ToDouble(arguments, CultureInfo.InvariantCulture);
            (double min, double max) = RangeOf(Setting);
            if (double.IsNaN(value) || value < min || value > max)
            {
                throw new ValidationMetadataException(string.Format(
                    CultureInfo.InvariantCulture,
                    "-{0} {1} is outside the range from {2} to {3}.",
                    Setting, value, min, max));
            }
        }
    }
}
