// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Runtime.CompilerServices;
using System.Threading;

namespace RdsSessions
{
    /// <summary>
    /// Tab completion of names from the signed-in service (classic broker or ARM): quick and
    /// quiet. Lists are cached per context for a short time (typing Tab repeatedly must not
    /// send a request each time), each lookup gives up after a few seconds, and any failure
    /// (no context, network, refusal) completes nothing rather than writing an error while
    /// the admin types.
    /// </summary>
    public abstract class NameCompleter : IArgumentCompleter
    {
        /// <summary>How long a list is reused.</summary>
        private static readonly TimeSpan s_cacheFor = TimeSpan.FromSeconds(30);

        /// <summary>The longest a completion waits for the service.</summary>
        private static readonly TimeSpan s_giveUpAfter = TimeSpan.FromSeconds(3);

        private static readonly ConcurrentDictionary<string, (DateTime At, string[] Names)> s_cache = new(StringComparer.Ordinal);

        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(
            string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string typed = wordToComplete.Trim('\'', '"');
            string[] names;
            try
            {
                RdsContext? context = RdsContextStore.Current;
                if (context is null)
                {
                    return Array.Empty<CompletionResult>();
                }

                string? tenant = fakeBoundParameters["TenantName"] as string;
                string? hostPool = fakeBoundParameters["HostPoolName"] as string;
                string key = string.Join('\u0001', GetType().Name, RuntimeHelpers.GetHashCode(context.Connection), context.TenantGroupName, tenant, hostPool);
                if (s_cache.TryGetValue(key, out var cached) && DateTime.UtcNow - cached.At < s_cacheFor)
                {
                    names = cached.Names;
                }
                else
                {
                    using var giveUp = new CancellationTokenSource(s_giveUpAfter);
                    names = Names(context, tenant, hostPool, giveUp.Token)?.Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(n => n, StringComparer.OrdinalIgnoreCase).ToArray()
                        ?? Array.Empty<string>();
                    s_cache[key] = (DateTime.UtcNow, names);
                }
            }
            catch (Exception)
            {
                // Quiet while typing: whatever went wrong, there is nothing to complete.
                return Array.Empty<CompletionResult>();
            }

            return names
                .Where(n => n.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
                .Select(n => new CompletionResult(Quote(n), n, CompletionResultType.ParameterValue, n));
        }

        /// <summary>The names to offer; null when the other parameters needed are not typed yet.</summary>
        private protected abstract IEnumerable<string>? Names(RdsContext context, string? tenant, string? hostPool, CancellationToken cancel);

        /// <summary>Quoted when the name would not parse bare (spaces, quotes, PowerShell's special characters).</summary>
        private static string Quote(string name) =>
            name.Any(c => char.IsWhiteSpace(c) || "'\"`$&@(){}[];,|<>#".Contains(c))
                ? "'" + name.Replace("'", "''", StringComparison.Ordinal) + "'"
                : name;
    }

    /// <summary>Completes -TenantName from the tenants of the service (on ARM, of the mapping).</summary>
    public sealed class TenantNameCompleter : NameCompleter
    {
        private protected override IEnumerable<string>? Names(RdsContext context, string? tenant, string? hostPool, CancellationToken cancel) =>
            NativeCalls.ListTenants(context.Connection, null, cancel).Items.Select(t => t.TenantName);
    }

    /// <summary>Completes -HostPoolName from the host pools of the -TenantName typed.</summary>
    public sealed class HostPoolNameCompleter : NameCompleter
    {
        private protected override IEnumerable<string>? Names(RdsContext context, string? tenant, string? hostPool, CancellationToken cancel) =>
            string.IsNullOrEmpty(tenant) ? null : NativeCalls.ListHostPools(context.Connection, tenant, null, cancel).Items.Select(p => p.HostPoolName);
    }

    /// <summary>Completes -SessionHostName from the session hosts of the -TenantName and -HostPoolName typed.</summary>
    public sealed class SessionHostNameCompleter : NameCompleter
    {
        private protected override IEnumerable<string>? Names(RdsContext context, string? tenant, string? hostPool, CancellationToken cancel) =>
            string.IsNullOrEmpty(tenant) || string.IsNullOrEmpty(hostPool)
                ? null
                : NativeCalls.ListSessionHosts(context.Connection, tenant, hostPool, null, cancel).Items.Select(h => h.SessionHostName);
    }

    /// <summary>
    /// Completes -TenantGroupName with the groups known here: the context's and the default.
    /// No service route lists tenant groups (UNCONFIRMED for the classic broker; ARM has none).
    /// </summary>
    public sealed class TenantGroupNameCompleter : NameCompleter
    {
        private protected override IEnumerable<string>? Names(RdsContext context, string? tenant, string? hostPool, CancellationToken cancel) =>
            new[] { context.TenantGroupName, RdsModule.DefaultTenantGroup };
    }
}
