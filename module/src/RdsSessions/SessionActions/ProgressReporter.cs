// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Threading;

namespace RdsSessions.SessionActions
{
    /// <summary>
    /// Progress of a run: done/total when the total is known (all input received), rate and
    /// time left; nothing for a single session; always completed when anything was shown.
    /// </summary>
    /// <remarks>Only the pipeline thread may call it: it writes through the cmdlet.</remarks>
    internal sealed class ProgressReporter
    {
        private static int s_nextActivityId = 1;
        private readonly Cmdlet _cmdlet;
        private readonly string _activity;
        // A distinct id per run, so two session cmdlets in one pipeline keep separate bars.
        private readonly int _activityId = Interlocked.Increment(ref s_nextActivityId);
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _lastWrite = TimeSpan.MinValue;
        private int _started;
        private int _finished;
        private int _failed;
        private bool _shown;

        public ProgressReporter(Cmdlet cmdlet, string activity)
        {
            _cmdlet = cmdlet;
            _activity = activity;
        }

        /// <summary>A request was started.</summary>
        public void Started() => _started++;

        /// <summary>A request's outcome was written.</summary>
        public void Finished(bool failed)
        {
            _finished++;
            if (failed)
            {
                _failed++;
            }
        }

        /// <summary>
        /// Writes a record, at most every 200 ms unless <paramref name="force"/>, so a fast run
        /// does not spend its time redrawing the bar.
        /// </summary>
        public void Update(bool totalKnown, bool force = false)
        {
            if (_started < 2)
            {
                return; // quiet for a single session
            }

            TimeSpan now = _clock.Elapsed;
            if (!force && _shown && now - _lastWrite < TimeSpan.FromMilliseconds(200))
            {
                return;
            }

            double rate = _finished / Math.Max(now.TotalSeconds, 0.001);
            string failed = _failed > 0 ? $", {_failed} failed" : string.Empty;
            var record = new ProgressRecord(_activityId, _activity, totalKnown
                ? string.Format(CultureInfo.InvariantCulture, "{0} of {1} sessions done{2} ({3:F1}/s)", _finished, _started, failed, rate)
                : string.Format(CultureInfo.InvariantCulture, "{0} sessions done{1} ({2:F1}/s)", _finished, failed, rate));
            if (totalKnown)
            {
                record.PercentComplete = (int)(100L * _finished / Math.Max(_started, 1));
                if (rate > 0)
                {
                    record.SecondsRemaining = (int)Math.Ceiling((_started - _finished) / rate);
                }
            }

            _cmdlet.WriteProgress(record);
            _shown = true;
            _lastWrite = now;
        }

        /// <summary>The end of the run: a last "n of n" record, then Completed so the host removes the bar.</summary>
        public void Complete()
        {
            Update(totalKnown: true, force: true);

            if (_shown)
            {
                _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
        }
    }
}
