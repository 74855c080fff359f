// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Host;

namespace RdsSessions.SessionActions
{
    /// <summary>
    /// What Ctrl+C leaves undone: the warning listing the sessions that were not processed (or
    /// whose outcome is unknown), so the admin knows which to run again.
    /// </summary>
    internal static class StopReport
    {
        /// <summary>Sessions named in the warning; the rest are counted.</summary>
        private const int Shown = 20;

        /// <summary>
        /// Warns through the host (a stopped pipeline can no longer write records) which sessions
        /// the stop left undone, or that every session received was done.
        /// </summary>
        public static void Write(PSHost host, IReadOnlyList<SessionIdentity> notProcessed)
        {
            string warning;
            if (notProcessed.Count == 0)
            {
                // Ctrl+C while the upstream command was producing the next session: everything
                // this command had received was done, and what the upstream still held was never
                // sent. Said all the same: a stopped run must never look like a finished one.
                warning = "Stopped: every session received before the stop was processed; the sessions not yet received were not processed.";
            }
            else
            {
                string list = string.Join(", ", notProcessed.Take(Shown).Select(s => s.ToString()));
                string more = notProcessed.Count > Shown ? $" and {notProcessed.Count - Shown} more" : string.Empty;
                warning = $"Stopped: {notProcessed.Count} session(s) were not processed (or their outcome is unknown): {list}{more}.";
            }

            try
            {
                host.UI.WriteWarningLine(warning);
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
    }
}
