// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;
using System.Threading;

namespace RdsSessions.Commands
{
    /// <summary>
    /// The base of every RdsSessions cmdlet: one cancellation token per invocation, cancelled by
    /// Ctrl+C, and the lookup of the session's RDS context.
    /// </summary>
    /// <remarks>
    /// The token is the module's only cancellation mechanism: every native call that can wait
    /// (sign-in in every mode, session actions, lists) takes it, and cancelling drops the
    /// native task at once. PowerShell creates a new cmdlet instance for every invocation, so the source created
    /// with the instance is the invocation's own, and it disposes the instance at the end.
    /// </remarks>
    public abstract class RdsCmdletBase : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private bool _disposed;

        /// <summary>Cancelled when the user presses Ctrl+C (or the pipeline is stopped).</summary>
        protected CancellationToken CancelToken => _cancel.Token;

        /// <summary>The current RDS context, or the terminating <c>NoRdsContext</c> error telling the user to run Add-RdsAccount.</summary>
        protected RdsContext RequireContext() => RdsModule.RequireContext(this);

        /// <inheritdoc />
        protected override void StopProcessing() => _cancel.Cancel();

        /// <summary>
        /// Runs one read (or drain) call and writes its objects, tagged with the original type
        /// name, after its notes as verbose records; a failure is this item's non-terminating
        /// error (the pipeline goes on), Ctrl+C ends the pipeline.
        /// </summary>
        private protected void WriteRead<T>(System.Func<(System.Collections.Generic.List<T> Items, string[] Notes)> call, string typeName, object target)
        {
            try
            {
                (var items, string[] notes) = call();
                foreach (string note in notes)
                {
                    WriteVerbose(note + ".");
                }

                foreach (T item in items)
                {
                    var wrapped = new PSObject(item);
                    wrapped.TypeNames.Insert(0, typeName);
                    WriteObject(wrapped);
                }
            }
            catch (RdsBrokerException e)
            {
                WriteError(e.ToErrorRecord(target));
            }
            catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <inheritdoc />
        public void Dispose()
        {
            Dispose(disposing: true);
            GC.SuppressFinalize(this);
        }

        /// <summary>Frees what the invocation held; derived classes free their own, then call this.</summary>
        protected virtual void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _cancel.Dispose();
            }

            _disposed = true;
        }
    }
}
