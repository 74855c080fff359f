// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace RdsSessions.SessionActions
{
    /// <summary>A started session action: the session and the native request's task.</summary>
    internal sealed record PendingAction(SessionIdentity Session, Task<ActionDone> Task);

    /// <summary>
    /// The session actions started, in input order. Outcomes are taken from the head only, so
    /// they are written in input order however the requests finish; the queue is full at
    /// <see cref="LookAhead"/> actions (or twice the throttle limit, if more), where the cmdlet
    /// waits for the oldest before reading more input.
    /// </summary>
    /// <remarks>
    /// The native semaphore, not this queue, bounds the requests in flight (-ThrottleLimit); the
    /// actions beyond it wait there, in order, at the cost of a small task each. Reading that far
    /// ahead lets the input of a typical run (a host pool's sessions, a list in a variable) arrive
    /// at once, so the progress bar shows the total from the start instead of only for the last
    /// few sessions; the bound keeps the memory of a very long pipeline flat.
    /// </remarks>
    internal sealed class CompletionQueue
    {
        /// <summary>How many sessions a run reads ahead of the oldest unfinished one.</summary>
        public const int LookAhead = 2048;

        private readonly Queue<PendingAction> _pending = new();
        private readonly int _capacity;

        public CompletionQueue(int throttleLimit) => _capacity = Math.Max(LookAhead, 2 * throttleLimit);

        /// <summary>Whether no action is pending.</summary>
        public bool IsEmpty => _pending.Count == 0;

        /// <summary>Whether the cmdlet must wait for the oldest action before starting another.</summary>
        public bool IsFull => _pending.Count >= _capacity;

        /// <summary>Whether the oldest action has finished (false when none is pending).</summary>
        public bool OldestIsDone => _pending.Count > 0 && _pending.Peek().Task.IsCompleted;

        /// <summary>Adds an action just started.</summary>
        public void Add(SessionIdentity session, Task<ActionDone> task) => _pending.Enqueue(new PendingAction(session, task));

        /// <summary>Blocks until the oldest action finishes or <paramref name="timeout"/> passes.</summary>
        public void WaitForOldest(TimeSpan timeout) => ((IAsyncResult)_pending.Peek().Task).AsyncWaitHandle.WaitOne(timeout);

        /// <summary>Removes the oldest action; call only when <see cref="OldestIsDone"/>.</summary>
        public PendingAction TakeOldest() => _pending.Dequeue();

        /// <summary>
        /// Empties the queue (Ctrl+C) and returns the sessions whose outcome is not known to be a
        /// success: cancelled, failed or still running. A request that succeeded before the stop
        /// was carried out, even though its outcome was never written.
        /// </summary>
        public List<SessionIdentity> TakeUnfinished()
        {
            var unfinished = new List<SessionIdentity>();
            foreach (PendingAction pending in _pending)
            {
                if (!pending.Task.IsCompletedSuccessfully)
                {
                    unfinished.Add(pending.Session);
                }
            }

            _pending.Clear();
            return unfinished;
        }
    }
}
