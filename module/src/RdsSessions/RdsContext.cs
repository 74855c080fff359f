// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using RdsSessions.Native;

namespace RdsSessions
{
    /// <summary>
    /// The connection context of a PowerShell session, as <c>Add-RdsAccount</c> creates it and
    /// <c>Get-RdsContext</c> shows it (the original's RdMgmtContext shape). It never holds a
    /// token: credentials live in the native connection, which this object only references.
    /// </summary>
    public sealed class RdsContext
    {
        internal RdsContext(string deploymentUrl, string tenantGroupName, string? userName, RdsConnection connection)
        {
            DeploymentUrl = deploymentUrl;
            TenantGroupName = tenantGroupName;
            UserName = userName;
            Connection = connection;
            ArmEndpoint = NativeCalls.ArmEndpoint(connection);
            ArmPacing = connection.Pacing().Is;
            RetrySettings retry = NativeCalls.RetrySettingsOf(connection);
            MaximumRetryCount = (int)retry.max_retries;
            RetryIntervalSec = retry.initial_delay_ms / 1000.0;
            RetryTimeoutSec = Seconds(retry.total_deadline_ms);
            TimeoutSec = Seconds(retry.request_timeout_ms);
        }

        /// <summary>The broker URL every call goes to.</summary>
        public string DeploymentUrl { get; }

        /// <summary>The tenant group every call uses (default "Default Tenant Group").</summary>
        public string TenantGroupName { get; }

        /// <summary>Who signed in, when known (null for a token obtained elsewhere).</summary>
        public string? UserName { get; }

        /// <summary>"ARM" (Azure Virtual Desktop on Azure Resource Manager) or "Classic" (a classic broker).</summary>
        public string Backend => ArmEndpoint is null ? "Classic" : "ARM";

        /// <summary>The Azure Resource Manager endpoint every call goes to; null for a classic broker.</summary>
        public string? ArmEndpoint { get; }

        /// <summary>
        /// The ARM api-version in use now (read from the connection each time: after ARM refused the
        /// default and the fallback took over, it says so); null for a classic broker.
        /// </summary>
        public string? ApiVersion => ArmEndpoint is null ? null : NativeCalls.ArmApiVersion(Connection);

        /// <summary>Whether ARM requests are paced to ARM's token buckets (always false for a classic broker).</summary>
        public bool ArmPacing { get; }

        /// <summary>Retries of a transiently failed request (0 = none).</summary>
        public int MaximumRetryCount { get; }

        /// <summary>Seconds before the first retry; the wait doubles per retry up to 30 s.</summary>
        public double RetryIntervalSec { get; }

        /// <summary>No retry starts later than this many seconds after the first attempt.</summary>
        public int RetryTimeoutSec { get; }

        /// <summary>Seconds each request may take.</summary>
        public int TimeoutSec { get; }

        /// <summary>The native connection (URL, tenant group, credentials, shared HTTP pool).</summary>
        internal RdsConnection Connection { get; }

        /// <summary>A context for the same credentials and another tenant group (Set-RdsContext).</summary>
        internal RdsContext ForTenantGroup(string tenantGroupName)
        {
            RdsConnection connection = NativeCalls.ForTenantGroup(Connection, tenantGroupName);
            return new RdsContext(DeploymentUrl, NativeCalls.TenantGroup(connection), UserName, connection);
        }

        /// <summary>A context for the same credentials and tenant group with other retry settings.</summary>
        internal RdsContext WithRetrySettings(RetrySettings settings) =>
            new(DeploymentUrl, TenantGroupName, UserName, NativeCalls.WithRetrySettings(Connection, settings));

        /// <summary>A context for the same credentials with ARM pacing on or off.</summary>
        internal RdsContext WithPacing(bool enabled) =>
            new(DeploymentUrl, TenantGroupName, UserName, NativeCalls.WithPacing(Connection, enabled));

        /// <summary>Builds the context of a new native connection.</summary>
        internal static RdsContext From(RdsConnection connection) =>
            new(NativeCalls.DeploymentUrl(connection), NativeCalls.TenantGroup(connection), NativeCalls.UserName(connection), connection);

        private static int Seconds(ulong milliseconds) => (int)Math.Min(int.MaxValue, (milliseconds + 500) / 1000);

        /// <inheritdoc />
        public override string ToString() => UserName is null
            ? $"{DeploymentUrl} ({TenantGroupName})"
            : $"{UserName} @ {DeploymentUrl} ({TenantGroupName})";

        /// <summary>Frees the native connection once no variable or session refers to the context.</summary>
        ~RdsContext() => Connection.Dispose();
    }

    /// <summary>
    /// Keeps one <see cref="RdsContext"/> per runspace, like the original module's
    /// per-session context: two runspaces in one process never share credentials.
    /// </summary>
    internal static class RdsContextStore
    {
        private static readonly ConditionalWeakTable<Runspace, RdsContext> s_contexts = new();

        public static RdsContext? Current
        {
            get
            {
                Runspace? runspace = Runspace.DefaultRunspace;
                return runspace is not null && s_contexts.TryGetValue(runspace, out RdsContext? context) ? context : null;
            }
        }

        public static void Set(RdsContext context)
        {
            Runspace runspace = Runspace.DefaultRunspace
                ?? throw new InvalidOperationException("RdsSessions cmdlets must run in a PowerShell runspace.");
            s_contexts.AddOrUpdate(runspace, context);
        }
    }
}
