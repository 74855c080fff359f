// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading.Tasks;
using RdsSessions.Native;
using RdsSessions.SessionActions;

namespace RdsSessions.Commands
{
    /// <summary>
    /// The shared body of Invoke-RdsUserSessionLogoff, Disconnect-RdsUserSession and
    /// Send-RdsUserSessionMessage: the original four identity parameters and -NoUserPrompt,
    /// the per-session confirmation, and a concurrent pipeline.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The run: validate once (a context, a throttled connection), then per session confirm →
    /// start → write the completed outcomes in input order; at the end, wait for the rest.
    /// The parts live apart: <see cref="SessionConfirmation"/> (the prompt),
    /// <see cref="CompletionQueue"/> (input order, bounded), <see cref="ProgressReporter"/> and
    /// <see cref="StopReport"/> (Ctrl+C).
    /// </para>
    /// <para>
    /// Requests run in the native runtime, at most -ThrottleLimit at once (the limit is a
    /// semaphore in Rust, shared by this pipeline's requests). The cmdlet only starts requests and
    /// collects their outcomes in input order, so output, errors, verbose and progress records are
    /// all written from the pipeline thread, every input gets exactly one result or one error, and
    /// -PassThru results keep the input order. While confirmation is still being asked per
    /// session, or when -ErrorAction is Stop, each request is awaited before the next one, as
    /// the original sequential cmdlet did, so "stop at the first failure" still holds.
    /// </para>
    /// </remarks>
    public abstract class SessionActionCommandBase : RdsCmdletBase
    {
        /// <summary>Default -ThrottleLimit: enough to hide 25-100 ms broker latency, gentle on the broker.</summary>
        public const int DefaultThrottleLimit = 32;

        /// <summary>How often a wait wakes up to notice Ctrl+C and write retry notes and progress.</summary>
        private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

        private RdsContext _context = null!;
        private RdsConnection? _throttled;
        private SessionConfirmation _confirmation = null!;
        private CompletionQueue _pending = null!;
        private ProgressReporter _progress = null!;
        private bool _inputComplete;
        private bool _stopOnFirstError;
        private bool _stopReported;

        #region Parameters

        /// <summary>Tenant name.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TenantNameCompleter))]
        public string TenantName { get; set; } = string.Empty;

        /// <summary>HostPool name.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(HostPoolNameCompleter))]
        public string HostPoolName { get; set; } = string.Empty;

        /// <summary>Name of SessionHost.</summary>
        [Parameter(Mandatory = true, Position = 2, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(SessionHostNameCompleter))]
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

            _confirmation = new SessionConfirmation(this, NoUserPrompt.IsPresent, PromptCaption, PromptQuery);
            _pending = new CompletionQueue(ThrottleLimit);
            _progress = new ProgressReporter(this, Doing + " user sessions");
            _stopOnFirstError = ErrorActionIsStop();
            if (_stopOnFirstError)
            {
                WriteDebug("ErrorAction is Stop: sessions are processed one at a time so the first failure stops the run.");
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            try
            {
                ProcessSession(new SessionIdentity(_context.TenantGroupName, TenantName, HostPoolName, SessionHostName, SessionId));
            }
            catch (PipelineStoppedException) when (IsStopping && !_stopReported)
            {
                // Ctrl+C landed while a record was being written: still say what was not done.
                Stopped();
            }
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            _inputComplete = true;
            try
            {
                WriteAll();
                _progress.Complete();
            }
            catch (PipelineStoppedException) when (IsStopping && !_stopReported)
            {
                Stopped();
            }
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing && IsStopping && !_stopReported && _pending is not null)
            {
                // Ctrl+C while another command of the pipeline was running (the upstream
                // Get-RdsUserSession writing its next object): this command's own methods never
                // saw the stop, and teardown is the last moment to say what was not done.
                _stopReported = true;
                StopReport.Write(Host, _pending.TakeUnfinished());
            }

            if (disposing)
            {
                _throttled?.Dispose();
            }

            base.Dispose(disposing);
        }

        #endregion

        /// <summary>Confirm, start, then write whatever has completed, in input order.</summary>
        private void ProcessSession(SessionIdentity session)
        {
            if (!_confirmation.Confirm(session))
            {
                WriteVerbose($"Skipped session {session}: not confirmed.");
                return;
            }

            Start(session);

            if (_confirmation.AsksPerSession || _stopOnFirstError)
            {
                // Still asking per session, or -ErrorAction Stop: settle this one before the
                // next prompt or request, so a failure stops the run where a script expects.
                WriteAll();
                return;
            }

            WriteCompleted();
            while (_pending.IsFull)
            {
                WaitForOldest();
                WriteCompleted();
            }
        }

        /// <summary>Starts the native request for one session; it runs while the pipeline goes on.</summary>
        private void Start(SessionIdentity session)
        {
            WriteVerbose(string.Format(
                CultureInfo.InvariantCulture,
                "{0} session {1} on session host '{2}' (tenant '{3}', host pool '{4}'){5}.",
                Doing, session.SessionId, session.SessionHostName, session.TenantName, session.HostPoolName, VerboseSuffix));

            (string? title, string? body) = MessageText;
            Task<ActionDone> task = NativeCalls.SessionActionAsync(_throttled!, Kind, session, ForceAction, title, body, CancelToken);
            _pending.Add(session, task);
            _progress.Started();
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

        /// <summary>Waits for every pending request and writes its outcome, in input order.</summary>
        private void WriteAll()
        {
            while (!_pending.IsEmpty)
            {
                WaitForOldest();
                WriteCompleted();
            }
        }

        /// <summary>Waits for the oldest request, keeping progress current and noticing Ctrl+C.</summary>
        private void WaitForOldest()
        {
            while (!_pending.OldestIsDone)
            {
                _pending.WaitForOldest(PollInterval);
                if (CancelToken.IsCancellationRequested)
                {
                    Stopped();
                }

                WriteRetryNotes();
                _progress.Update(_inputComplete);
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
                // Complete sentences from the native library ("Session Contoso/Pool1/sh1/17: ...").
                WriteVerbose(note + ".");
            }
        }

        /// <summary>Writes the outcome of every finished request at the head of the queue, in input order.</summary>
        private void WriteCompleted()
        {
            // Retries of requests still running or just finished, before their outcomes.
            WriteRetryNotes();
            while (_pending.OldestIsDone)
            {
                if (CancelToken.IsCancellationRequested)
                {
                    // Before taking it: an outcome not yet written belongs in the stop report.
                    Stopped();
                }

                WriteOutcome(_pending.TakeOldest());
                _progress.Update(_inputComplete);
            }
        }

        /// <summary>One session's result (or -PassThru object) or its error: exactly one per input.</summary>
        private void WriteOutcome(PendingAction done)
        {
            Task<ActionDone> task = done.Task;
            if (task.IsCompletedSuccessfully)
            {
                _progress.Finished(failed: false);
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
                _progress.Finished(failed: true);
                WriteError(BrokerErrors.ToErrorRecord(e, done.Session));
            }
            else
            {
                // Cancelled by the native side without Ctrl+C: a bug (for example a caught panic).
                _progress.Finished(failed: true);
                Exception inner = task.Exception?.InnerException ?? new OperationCanceledException("The native library abandoned the request.");
                WriteError(new ErrorRecord(
                    new InvalidOperationException($"Internal error in the RdsSessions native library for session {done.Session}: {inner.Message}", inner),
                    "NativeLibraryError", ErrorCategory.NotSpecified, done.Session));
            }
        }

        /// <summary>
        /// Whether the pipeline is being stopped (Ctrl+C). PowerShell marks the pipeline as
        /// stopping before it calls each command's StopProcessing, so a write can fail with
        /// PipelineStoppedException before this command's token is cancelled; both count.
        /// (<c>Select-Object -First</c> ends the upstream without stopping the pipeline: not a stop.)
        /// </summary>
        private bool IsStopping => Stopping || CancelToken.IsCancellationRequested;

        /// <summary>
        /// Ctrl+C: in-flight requests were cancelled in Rust and queued ones never start. Report
        /// which sessions were not processed, then end the pipeline.
        /// </summary>
        private void Stopped()
        {
            _stopReported = true;
            StopReport.Write(Host, _pending.TakeUnfinished());
            throw new PipelineStoppedException();
        }
    }
}
