// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Threading;
using System.Threading.Tasks;
using RdsSessions.Native;

namespace RdsSessions.Commands
{
    /// <summary>
    /// The shared body of Invoke-RdsUserSessionLogoff, Disconnect-RdsUserSession and
    /// Send-RdsUserSessionMessage: the original four identity parameters and -NoUserPrompt,
    /// the per-session confirmation, and a concurrent pipeline.
    /// </summary>
    /// <remarks>
    /// Requests run in the native runtime, at most -ThrottleLimit at once (the limit is a
    /// semaphore in Rust, shared by this pipeline's requests). The cmdlet only starts requests and
    /// collects their outcomes in input order, so output, errors, verbose and progress records are
    /// all written from the pipeline thread, every input gets exactly one result or one error, and
    /// -PassThru results keep the input order. While confirmation is still being asked per
    /// session, or when -ErrorAction is Stop, each request is awaited before the next one, as
    /// the original sequential cmdlet did, so "stop at the first failure" still holds.
    /// </remarks>
    public abstract class SessionActionCommandBase : RdsCmdletBase
    {
        /// <summary>Default -ThrottleLimit: enough to hide 25-100 ms broker latency, gentle on the broker.</summary>
        public const int DefaultThrottleLimit = 32;

        private readonly Queue<PendingAction> _pending = new();
        private readonly List<SessionIdentity> _notProcessed = new();
        private ProgressReporter? _progress;
        private RdsContext _context = null!;
        private RdsConnection? _throttled;
        private bool _yesToAll;
        private bool _noToAll;
        private bool _inputComplete;
        private bool _stopOnFirstError;
        private bool _stopReported;

        #region Parameters

        /// <summary>Tenant name.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string TenantName { get; set; } = string.Empty;

        /// <summary>HostPool name.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string HostPoolName { get; set; } = string.Empty;

        /// <summary>Name of SessionHost.</summary>
        [Parameter(Mandatory = true, Position = 2, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public string SessionHostName { get; set; } = string.Empty;

        /// <summary>Id of Session.</summary>
        [Parameter(Mandatory = true, Position = 3, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public int SessionId { get; set; }

        /// <summary>Whether user prompt is required or not.</summary>
        [Parameter]
        public SwitchParameter NoUserPrompt { get; set; }

        /// <summary>
        /// How many requests may be in flight at once when no prompt is needed (-NoUserPrompt or
        /// "Yes to All"). Default 32; 1 gives the one-at-a-time behaviour of the original.
        /// </summary>
        [Parameter]
        [ValidateRange(1, 1024)]
        public int ThrottleLimit { get; set; } = DefaultThrottleLimit;

        /// <summary>Writes one result object per session (by default nothing is written, like the original).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        #endregion

        #region What each cmdlet does

        /// <summary>Which native action to run.</summary>
        private protected abstract SessionActionKind Kind { get; }

        /// <summary>"Logging off", "Disconnecting", "Sending a message to".</summary>
        protected abstract string Doing { get; }

        /// <summary>"Logged off", "Disconnected", "Sent the message to".</summary>
        protected abstract string Done { get; }

        /// <summary>Caption of the confirmation prompt.</summary>
        protected abstract string PromptCaption { get; }

        /// <summary>The confirmation question for one session.</summary>
        protected abstract string PromptQuery(SessionIdentity session);

        /// <summary>The -PassThru object for a session the action succeeded on.</summary>
        protected abstract RdsUserSessionActionResult Result(SessionIdentity session, string correlationId);

        /// <summary>Logoff's -Force.</summary>
        protected virtual bool ForceAction => false;

        /// <summary>Message title and body.</summary>
        protected virtual (string? Title, string? Body) MessageText => (null, null);

        /// <summary>Extra words for the verbose line (for example " with force").</summary>
        protected virtual string VerboseSuffix => string.Empty;

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            _context = RequireContext();
            try
            {
                _throttled = NativeCalls.CreateThrottled(_context.Connection, ThrottleLimit);
            }
            catch (RdsBrokerException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, e.ErrorId, e.Category, ThrottleLimit));
            }

            _progress = new ProgressReporter(this, Doing + " user sessions");
            _stopOnFirstError = ErrorActionIsStop();
            if (_stopOnFirstError)
            {
                WriteDebug("ErrorAction is Stop: sessions are processed one at a time so the first failure stops the run.");
            }
        }

        /// <summary>-ErrorAction Stop, or $ErrorActionPreference = 'Stop' in scope.</summary>
        private bool ErrorActionIsStop()
        {
            if (MyInvocation.BoundParameters.TryGetValue("ErrorAction", out object? bound))
            {
                return bound is ActionPreference.Stop || string.Equals(bound?.ToString(), "Stop", StringComparison.OrdinalIgnoreCase);
            }

            object? preference = SessionState.PSVariable.GetValue("ErrorActionPreference");
            return preference is ActionPreference.Stop || string.Equals(preference?.ToString(), "Stop", StringComparison.OrdinalIgnoreCase);
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            try
            {
                ProcessOne();
            }
            catch (PipelineStoppedException) when (CancelToken.IsCancellationRequested && !_stopReported)
            {
                // Ctrl+C landed while a record was being written: still say what was not done.
                Stopped();
            }
        }

        private void ProcessOne()
        {
            var session = new SessionIdentity(_context.TenantGroupName, TenantName, HostPoolName, SessionHostName, SessionId);
            if (!Confirm(session))
            {
                WriteVerbose($"Skipped session {session}: not confirmed.");
                return;
            }

            WriteVerbose(string.Format(
                CultureInfo.InvariantCulture,
                "{0} session {1} on session host '{2}' (tenant '{3}', host pool '{4}'){5}.",
                Doing, SessionId, SessionHostName, TenantName, HostPoolName, VerboseSuffix));

            (string? title, string? body) = MessageText;
            Task<ActionDone> task = NativeCalls.SessionActionAsync(_throttled!, Kind, session, ForceAction, title, body, CancelToken);
            _pending.Enqueue(new PendingAction(session, task));
            _progress!.Started();

            if ((!NoUserPrompt.IsPresent && !_yesToAll) || _stopOnFirstError)
            {
                // Still asking per session, or -ErrorAction Stop: settle this one before the
                // next prompt or request, so a failure stops the run where a script expects.
                DrainAll();
                return;
            }

            WriteCompleted();
            // Bound the memory of a long pipeline: beyond twice the limit, wait for the oldest.
            while (_pending.Count >= 2 * ThrottleLimit)
            {
                WaitForOldest();
                WriteCompleted();
            }
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            _inputComplete = true;
            try
            {
                DrainAll();
                _progress?.Complete();
            }
            catch (PipelineStoppedException) when (CancelToken.IsCancellationRequested && !_stopReported)
            {
                Stopped();
            }
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _throttled?.Dispose();
            }

            base.Dispose(disposing);
        }

        #endregion

        private void DrainAll()
        {
            while (_pending.Count > 0)
            {
                WaitForOldest();
                WriteCompleted();
            }
        }

        /// <summary>Waits for the oldest request, keeping progress current and noticing Ctrl+C.</summary>
        private void WaitForOldest()
        {
            Task head = _pending.Peek().Task;
            while (!head.IsCompleted)
            {
                ((IAsyncResult)head).AsyncWaitHandle.WaitOne(TimeSpan.FromMilliseconds(250));
                if (CancelToken.IsCancellationRequested)
                {
                    Stopped();
                }

                WriteRetryNotes();
                _progress!.Update(_inputComplete);
            }
        }

        /// <summary>
        /// Writes each retry as a verbose record when it starts waiting ("Session
        /// Contoso/Pool1/sh1/17: throttled (HTTP 429); retrying in 2.0 s (retry 1 of at most 4)."),
        /// so a long Retry-After is explained while it happens. Only this thread may write.
        /// </summary>
        private void WriteRetryNotes()
        {
            foreach (string note in NativeCalls.TakeRetryNotes(_throttled!))
            {
                WriteVerbose($"Session {note}.");
            }
        }

        /// <summary>Writes the outcome of every finished request at the head of the queue, in input order.</summary>
        private void WriteCompleted()
        {
            // Retries of requests still running or just finished, before their outcomes.
            WriteRetryNotes();
            while (_pending.Count > 0 && _pending.Peek().Task.IsCompleted)
            {
                if (CancelToken.IsCancellationRequested)
                {
                    Stopped();
                }

                PendingAction done = _pending.Dequeue();
                Task<ActionDone> task = done.Task;
                if (task.IsCompletedSuccessfully)
                {
                    _progress!.Finished(failed: false);
                    foreach (string note in task.Result.Notes)
                    {
                        // What only the end of a request can tell, such as a logoff counted as
                        // done after a lost answer (its retries were written as they happened).
                        WriteVerbose($"Session {done.Session}: {note}.");
                    }

                    WriteVerbose($"{Done} session {done.Session} (correlation id {task.Result.CorrelationId}).");
                    if (PassThru)
                    {
                        WriteObject(Result(done.Session, task.Result.CorrelationId));
                    }
                }
                else if (task.Exception?.InnerException is RdsBrokerException e)
                {
                    // One failed session is not the end of the pipeline: report it and go on.
                    _progress!.Finished(failed: true);
                    WriteError(BrokerErrors.ToErrorRecord(e, done.Session));
                }
                else
                {
                    // Cancelled by the native side without Ctrl+C: a bug (for example a caught panic).
                    _progress!.Finished(failed: true);
                    Exception inner = task.Exception?.InnerException ?? new OperationCanceledException("The native library abandoned the request.");
                    WriteError(new ErrorRecord(
                        new InvalidOperationException($"Internal error in the RdsSessions native library for session {done.Session}: {inner.Message}", inner),
                        "NativeLibraryError", ErrorCategory.NotSpecified, done.Session));
                }

                _progress.Update(_inputComplete);
            }
        }

        /// <summary>
        /// Ctrl+C: in-flight requests were cancelled in Rust and queued ones never start. Tell the
        /// user which sessions were not processed (the pipeline can no longer write records, so
        /// through the host), then end the pipeline.
        /// </summary>
        private void Stopped()
        {
            _stopReported = true;
            foreach (PendingAction pending in _pending)
            {
                // A request that completed before the stop was processed, even if not reported.
                if (!pending.Task.IsCompletedSuccessfully)
                {
                    _notProcessed.Add(pending.Session);
                }
            }

            _pending.Clear();
            if (_notProcessed.Count > 0)
            {
                const int Shown = 20;
                string list = string.Join(", ", _notProcessed.Take(Shown).Select(s => s.ToString()));
                string more = _notProcessed.Count > Shown ? $" and {_notProcessed.Count - Shown} more" : string.Empty;
                string warning = $"Stopped: {_notProcessed.Count} session(s) were not processed (or their outcome is unknown): {list}{more}.";
                try
                {
                    Host.UI.WriteWarningLine(warning);
                }
                catch (Exception e) when (e is HostException or NotImplementedException)
                {
                    // A host without a UI (the default host throws HostException; custom hosts
                    // may leave WriteWarningLine unimplemented), typically a service or a
                    // scheduled job: the process's standard error is the one place left where
                    // the list of sessions to run again can still reach the admin.
                    Console.Error.WriteLine("WARNING: " + warning);
                }
            }

            throw new PipelineStoppedException();
        }

        /// <summary>
        /// The original's own confirmation: asked for every session unless -NoUserPrompt, with
        /// "Yes to All" / "No to All" remembered for the rest of the pipeline.
        /// </summary>
        private bool Confirm(SessionIdentity session)
        {
            if (NoUserPrompt.IsPresent)
            {
                return true;
            }

            try
            {
                return ShouldContinue(PromptQuery(session), PromptCaption, ref _yesToAll, ref _noToAll);
            }
            catch (Exception e) when (e is HostException or PSInvalidOperationException)
            {
                // HostException: a host without UI; PSInvalidOperationException: pwsh -NonInteractive.
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException(
                        $"{MyInvocation.MyCommand.Name} asks for confirmation, but this PowerShell host cannot prompt. " +
                        "Add -NoUserPrompt to run without confirmation.", e),
                    BrokerErrors.ConfirmationNotPossible,
                    ErrorCategory.InvalidOperation,
                    session));
                return false;
            }
        }

        private sealed record PendingAction(SessionIdentity Session, Task<ActionDone> Task);

        /// <summary>
        /// Progress of a run: done/total when the total is known (all input received), rate and
        /// time left; nothing for a single session; always completed when anything was shown.
        /// </summary>
        private sealed class ProgressReporter
        {
            private static int s_nextActivityId = 1;
            private readonly Cmdlet _cmdlet;
            private readonly string _activity;
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

            public void Started() => _started++;

            public void Finished(bool failed)
            {
                _finished++;
                if (failed)
                {
                    _failed++;
                }
            }

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

            public void Complete()
            {
                // A last "n of n" record, then Completed.
                Update(totalKnown: true, force: true);

                if (_shown)
                {
                    _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity, "Done") { RecordType = ProgressRecordType.Completed });
                }
            }
        }
    }
}
