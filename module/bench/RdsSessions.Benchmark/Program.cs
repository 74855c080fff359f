using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Reflection;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;

namespace RdsSessions.Benchmark;

/// <summary>Runs before any System.Management.Automation type is touched: a hermetic, telemetry-free engine.</summary>
internal static class BenchEnv
{
    [ModuleInitializer]
    internal static void Init()
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
        Environment.SetEnvironmentVariable("POWERSHELL_UPDATECHECK", "Off");
        // Nothing here signs in with a managed identity; never let anything reach the real metadata address.
        Environment.SetEnvironmentVariable("IMDS_ENDPOINT", "http://127.0.0.1:9");
        Environment.SetEnvironmentVariable("PSModuleAnalysisCachePath",
            Path.Combine(Path.GetTempPath(), $"rds-bench-psmac-{Environment.ProcessId}"));
    }

    public static string Metadata(string key) => typeof(BenchEnv).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string ManifestPath => Metadata("ModuleManifest");
    public static string EmulatorPath => Metadata("EmulatorPath");
    public static string RepoRoot => Metadata("RepoRoot");
    public static string Version => Metadata("RdsVersion");
}

/// <summary>Sizes of one run: the full benchmark, or --quick (smaller N, same shape).</summary>
internal sealed record Config(
    string Mode,
    int BulkHosts, int BulkPerHost, int BulkLatencyMs, int[] Limits,
    int GridHosts, int GridPerHost, int[] GridLatencies, int[] GridLimits,
    int PerCallWarmup, int PerCallN,
    int Imports,
    int MemHosts, int MemPerHost, int MemThrottleLimit)
{
    public int BulkN => BulkHosts * BulkPerHost;
    public int GridN => GridHosts * GridPerHost;
    public int MemN => MemHosts * MemPerHost;

    public static readonly Config Full = new("full",
        10, 100, 25, new[] { 1, 4, 8, 16, 32, 64 },
        2, 100, new[] { 10, 25, 50 }, new[] { 1, 8, 32, 64 },
        50, 1000,
        20,
        40, 250, 32);

    public static readonly Config Quick = new("quick",
        2, 100, 25, new[] { 1, 4, 8, 16, 32, 64 },
        1, 50, new[] { 10, 25, 50 }, new[] { 1, 8, 32, 64 },
        50, 200,
        5,
        8, 250, 32);
}

internal static partial class Program
{
    private const string Pool = EmulatorProcess.HostPool;
    private const string RawPool = "Pool-Raw";

    private static Config s_cfg = Config.Full;
    private static readonly List<Table> s_tables = new();
    private static readonly List<Table> s_armTables = new();
    private static bool s_armOnly;
    private static readonly JsonObject s_json = new();
    private static bool s_allVerified = true;

    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == ImportProbeArg)
        {
            return ImportProbe(args[1]);
        }

        const string Usage = "usage: RdsSessions.Benchmark [--quick] [--arm-only]   (see module/bench/README.md)";
        foreach (string arg in args)
        {
            if (arg is "--quick")
            {
                s_cfg = Config.Quick;
                s_arm = ArmSizes.Quick;
            }
            else if (arg is "--arm-only")
            {
                s_armOnly = true;
            }
            else if (arg is "-h" or "--help")
            {
                Console.WriteLine(Usage);
                return 0;
            }
            else
            {
                Console.Error.WriteLine($"Unknown argument '{arg}'. " + Usage);
                return 2;
            }
        }

        if (!File.Exists(BenchEnv.ManifestPath))
        {
            Console.Error.WriteLine($"The module is not built ({BenchEnv.ManifestPath}); run: bash scripts/build.sh");
            return 2;
        }

        var total = Stopwatch.StartNew();
        Console.WriteLine($"RdsSessions {BenchEnv.Version} benchmark ({s_cfg.Mode}{(s_armOnly ? ", ARM section only" : string.Empty)}): the real cmdlets in the hosted PowerShell engine against rds-emulator");
        JsonObject machine = MachineInfo();
        Console.WriteLine($"  {machine["processorCount"]} CPUs ({machine["cpuModel"]}), {machine["os"]}, {machine["dotnet"]}, PowerShell engine {machine["powershellEngine"]}, {machine["date"]}");
        Console.WriteLine($"  module {BenchEnv.ManifestPath}");
        if ((double?)machine["loadAverageAtStart"] is double load && load > Environment.ProcessorCount * 0.5)
        {
            Console.WriteLine($"  WARNING: load average {load:F2} on {Environment.ProcessorCount} CPUs: other work is running; the numbers will be pessimistic.");
        }

        using var emu = new EmulatorProcess(BenchEnv.EmulatorPath);
        Runspace? main = null;
        try
        {
            Console.WriteLine($"  emulator {emu.Url} (pid {emu.ProcessId})");
            emu.RequestLog(false);
            if (!s_armOnly)
            {
                // Section 3 (a) must be measured before anything else imports the module.
                var engineClock = Stopwatch.StartNew();
                main = OpenRunspace();
                double engineStartMs = engineClock.Elapsed.TotalMilliseconds;
                double firstImportMs = ImportModule(main);
                SignIn(main, emu.Url);
                Console.WriteLine($"  engine start {engineStartMs:F0} ms, first Import-Module {firstImportMs:F1} ms; warming up...");
                Console.WriteLine();
                WarmUp(emu, main);

                Bulk(emu, main);
                Grid(emu, main);
                PerCall(emu, main);
                Imports(engineStartMs, firstImportMs);
                Memory(emu, main);
            }
            else
            {
                Console.WriteLine();
            }

            Arm(emu);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("Benchmark failed: " + e);
            Console.Error.WriteLine("Emulator stderr (last lines):\n" + emu.StdErrTail());
            return 2;
        }
        finally
        {
            main?.Dispose();
        }

        if (s_armOnly)
        {
            // The classic figures in latest.json are kept as they were; these describe this run only.
            s_json["arm"]!["totalSeconds"] = Math.Round(total.Elapsed.TotalSeconds, 1);
            s_json["arm"]!["allRunsVerified"] = s_allVerified;
        }
        else
        {
            s_json["totalSeconds"] = Math.Round(total.Elapsed.TotalSeconds, 1);
            s_json["allRunsVerified"] = s_allVerified;
        }

        WriteResults(machine);
        Console.WriteLine($"Total {total.Elapsed.TotalSeconds:F0} s; every run verified against the emulator: {(s_allVerified ? "yes" : "NO")}");
        return s_allVerified ? 0 : 1;
    }

    #region Engine

    /// <summary>
    /// A runspace with the Core cmdlets only. ReuseThread, as pwsh's console host opens its runspace
    /// (one pipeline thread for every command); the API default starts a new thread per Invoke.
    /// </summary>
    private static Runspace OpenRunspace(bool reuseThread = true)
    {
        var iss = InitialSessionState.CreateDefault2();
        iss.ThrowOnRunspaceOpenError = true;
        iss.Variables.Add(new SessionStateVariableEntry(
            "PSModuleAutoLoadingPreference", PSModuleAutoLoadingPreference.None, null));
        Runspace runspace = RunspaceFactory.CreateRunspace(iss);
        if (reuseThread)
        {
            runspace.ThreadOptions = PSThreadOptions.ReuseThread;
        }

        runspace.Open();
        return runspace;
    }

    /// <summary>Import-Module of the built manifest, timed around Invoke only.</summary>
    private static double ImportModule(Runspace runspace)
    {
        using var ps = PowerShell.Create(runspace);
        ps.AddCommand("Import-Module").AddParameter("Name", BenchEnv.ManifestPath).AddParameter("ErrorAction", "Stop");
        long t0 = Stopwatch.GetTimestamp();
        ps.Invoke();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    private static void SignIn(Runspace runspace, string url)
    {
        using var ps = PowerShell.Create(runspace);
        ps.AddScript("Add-RdsAccount -DeploymentUrl $args[0] -AccessToken $args[1] | Out-Null")
            .AddArgument(url).AddArgument(EmulatorProcess.Token);
        ps.Invoke();
        if (ps.Streams.Error.Count > 0)
        {
            throw new InvalidOperationException("Add-RdsAccount failed: " + ps.Streams.Error[0]);
        }
    }

    private sealed record PipelineRun(double Seconds, int Errors, string? FirstError);

    /// <summary>The documented bulk command, timed around Invoke (one list request plus N logoffs).</summary>
    private static PipelineRun LogoffPipeline(Runspace runspace, int throttleLimit, string pool = Pool)
    {
        Quiesce();
        using var ps = PowerShell.Create(runspace);
        ps.AddScript($"Get-RdsUserSession Bulk {pool} | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit {throttleLimit}");
        long t0 = Stopwatch.GetTimestamp();
        ps.Invoke();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return new PipelineRun(seconds, ps.Streams.Error.Count, ps.Streams.Error.FirstOrDefault()?.ToString());
    }

    /// <summary>Get-RdsUserSession alone (the first stage of the bulk command).</summary>
    private static (double Seconds, List<(string Host, int Id)> Sessions) ListSessions(Runspace runspace, string pool = Pool)
    {
        using var ps = PowerShell.Create(runspace);
        ps.AddCommand("Get-RdsUserSession").AddArgument("Bulk").AddArgument(pool);
        long t0 = Stopwatch.GetTimestamp();
        Collection<PSObject> output = ps.Invoke();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (ps.Streams.Error.Count > 0)
        {
            throw new InvalidOperationException("Get-RdsUserSession failed: " + ps.Streams.Error[0]);
        }

        return (seconds, output.Select(o => ((string)o.Properties["SessionHostName"].Value, (int)o.Properties["SessionId"].Value)).ToList());
    }

    /// <summary>Keeps garbage of the previous run out of the next measurement.</summary>
    private static void Quiesce()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static void WarmUp(EmulatorProcess emu, Runspace main)
    {
        emu.SetLatency(0);
        foreach (int c in new[] { 1, 8, 32 })
        {
            emu.Generate(2, 100);
            LogoffPipeline(main, c);
        }

        emu.Generate(1, 100);
        var sessions = ListSessions(main).Sessions;
        using var ps = PowerShell.Create(main);
        foreach (var (host, id) in sessions)
        {
            ps.Commands.Clear();
            ps.AddCommand("Invoke-RdsUserSessionLogoff").AddArgument("Bulk").AddArgument(Pool).AddArgument(host).AddArgument(id).AddParameter("NoUserPrompt");
            ps.Invoke();
        }
    }

    private static string Verified(RunCheck check, PipelineRun run, int n)
    {
        bool ok = check.Ok && run.Errors == 0;
        if (!ok)
        {
            s_allVerified = false;
            Console.WriteLine($"  !! run not verified: {n} expected, {check.Targeted} targeted, {check.LoggedOffOnce} logged off exactly once, {check.Left} left, {run.Errors} errors; first error: {run.FirstError}");
        }

        return ok ? $"{check.LoggedOffOnce}/{n} ok" : $"FAIL ({check.LoggedOffOnce}/{n}, {check.Left} left, {run.Errors} err)";
    }

    private static JsonObject CheckJson(RunCheck check, PipelineRun run) => new()
    {
        ["verified"] = check.Ok && run.Errors == 0,
        ["sessionsTargeted"] = check.Targeted,
        ["loggedOffExactlyOnce"] = check.LoggedOffOnce,
        ["sessionsLeft"] = check.Left,
        ["errors"] = run.Errors,
        ["maxInFlight"] = check.MaxInFlight,
        ["brokerRequests"] = check.BrokerRequests,
    };

    #endregion

    #region 1. Bulk

    private static void Bulk(EmulatorProcess emu, Runspace main)
    {
        Config cfg = s_cfg;
        int n = cfg.BulkN, latency = cfg.BulkLatencyMs;
        emu.SetLatency(latency);
        // What one request really takes at this setting (timer granularity, HTTP), measured without the module.
        emu.Generate(1, 45, RawPool);
        var rawSessions = ListSessions(main, RawPool).Sessions;
        var (rawTimes, _) = TimeRawLogoffs(emu, rawSessions, 5);
        double effectiveMs = Stats.Of(rawTimes).P50;
        emu.Generate(cfg.BulkHosts, cfg.BulkPerHost);
        double listSeconds = ListSessions(main).Seconds;

        var table = new Table($"1. Bulk logoff: {n:N0} sessions, broker latency {latency} ms",
            "ThrottleLimit", "seconds", "sessions/s", "ideal s (N*L/C)", "measured/ideal", "speedup vs C=1", "maxInFlight", "verified");
        var rows = new JsonArray();
        double? c1 = null;
        double ratio32 = double.NaN, speedup32 = double.NaN;
        foreach (int c in cfg.Limits)
        {
            emu.Generate(cfg.BulkHosts, cfg.BulkPerHost);
            emu.ClearActivity();
            PipelineRun run = LogoffPipeline(main, c);
            RunCheck check = emu.Check(Pool, n);
            double ideal = n * latency / 1000.0 / c;
            c1 ??= run.Seconds;
            double ratio = run.Seconds / ideal, speedup = c1.Value / run.Seconds;
            if (c == 32)
            {
                ratio32 = ratio;
                speedup32 = speedup;
            }

            table.Row(c, Fmt.F(run.Seconds, 3), Fmt.F(n / run.Seconds, 1), Fmt.F(ideal, 3), Fmt.F(ratio, 2) + "x",
                Fmt.F(speedup, 1) + "x", check.MaxInFlight, Verified(check, run, n));
            var row = CheckJson(check, run);
            row["throttleLimit"] = c;
            row["seconds"] = Math.Round(run.Seconds, 4);
            row["sessionsPerSecond"] = Math.Round(n / run.Seconds, 1);
            row["idealSeconds"] = Math.Round(ideal, 4);
            row["measuredOverIdeal"] = Math.Round(ratio, 3);
            row["speedupVsC1"] = Math.Round(speedup, 2);
            rows.Add(row);
        }

        bool ratioPass = ratio32 <= 1.2, speedupPass = speedup32 >= 25;
        table.Notes.Add($"Command: Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit C ({cfg.BulkHosts} hosts x {cfg.BulkPerHost}, pool re-generated before each run, request log off).");
        table.Notes.Add($"Seconds include the one list request; Get-RdsUserSession alone takes {listSeconds:F3} s at {latency} ms.");
        table.Notes.Add($"One logoff request at this setting measured from HttpClient (no module): p50 {effectiveMs:F2} ms; against N*{effectiveMs:F2} ms/C, ThrottleLimit 32 is at {Fmt.F(ratio32 * latency / effectiveMs, 2)}x.");
        if (cfg.Mode == "quick")
        {
            table.Notes.Add($"--quick: the goals are set for 1,000 sessions; with {n} the list request and the last partial wave (ceil(N/C) rounds of L) weigh more.");
        }

        table.Notes.Add($"Goal: ThrottleLimit 32 within 1.2x of N*L/C ............ {Fmt.F(ratio32, 2)}x  {Fmt.Verdict(ratioPass)}");
        table.Notes.Add($"Goal: ThrottleLimit 32 at least 25x faster than C=1 ...... {Fmt.F(speedup32, 1)}x  {Fmt.Verdict(speedupPass)}");
        Emit(table);

        s_json["bulk"] = new JsonObject
        {
            ["sessions"] = n,
            ["latencyMs"] = latency,
            ["listOnlySeconds"] = Math.Round(listSeconds, 4),
            ["effectiveRequestMsHttpClientP50"] = Math.Round(effectiveMs, 3),
            ["runs"] = rows,
            ["goals"] = new JsonObject
            {
                ["ratioAtC32"] = Math.Round(ratio32, 3),
                ["ratioAtC32Max"] = 1.2,
                ["ratioPass"] = ratioPass,
                ["speedupAtC32"] = Math.Round(speedup32, 2),
                ["speedupAtC32Min"] = 25,
                ["speedupPass"] = speedupPass,
            },
        };
    }

    private static void Grid(EmulatorProcess emu, Runspace main)
    {
        Config cfg = s_cfg;
        int n = cfg.GridN;
        var table = new Table($"1b. Latency grid: {n} sessions, throughput by latency and ThrottleLimit",
            "latency ms", "ThrottleLimit", "seconds", "sessions/s", "ideal sessions/s (C/L)", "measured/ideal", "maxInFlight", "verified");
        var rows = new JsonArray();
        foreach (int latency in cfg.GridLatencies)
        {
            emu.SetLatency(latency);
            foreach (int c in cfg.GridLimits)
            {
                emu.Generate(cfg.GridHosts, cfg.GridPerHost);
                emu.ClearActivity();
                PipelineRun run = LogoffPipeline(main, c);
                RunCheck check = emu.Check(Pool, n);
                double rate = n / run.Seconds, idealRate = c * 1000.0 / latency;
                table.Row(latency, c, Fmt.F(run.Seconds, 3), Fmt.F(rate, 1), Fmt.F(idealRate, 0), Fmt.F(idealRate / rate, 2) + "x",
                    check.MaxInFlight, Verified(check, run, n));
                var row = CheckJson(check, run);
                row["latencyMs"] = latency;
                row["throttleLimit"] = c;
                row["seconds"] = Math.Round(run.Seconds, 4);
                row["sessionsPerSecond"] = Math.Round(rate, 1);
                row["idealSessionsPerSecond"] = Math.Round(idealRate, 1);
                rows.Add(row);
            }
        }

        table.Notes.Add($"Same command as above on {cfg.GridHosts} host(s) x {cfg.GridPerHost}; the chart is bench-results/throughput.svg.");
        Emit(table);
        s_json["latencyGrid"] = new JsonObject { ["sessions"] = n, ["runs"] = rows };
    }

    #endregion

    #region 2. Per-call overhead

    private sealed record Stats(double P50, double P95, double P99, double Mean, double Min, double Max)
    {
        public static Stats Of(double[] samples)
        {
            double[] s = samples.OrderBy(x => x).ToArray();
            double Pct(double p) => s[Math.Clamp((int)Math.Ceiling(p / 100.0 * s.Length) - 1, 0, s.Length - 1)];
            return new Stats(Pct(50), Pct(95), Pct(99), s.Average(), s[0], s[^1]);
        }

        public object[] Cells(string name) => new object[] { name, Fmt.F(P50, 3), Fmt.F(P95, 3), Fmt.F(P99, 3), Fmt.F(Mean, 3), Fmt.F(Min, 3), Fmt.F(Max, 3) };

        public JsonObject Json() => new()
        {
            ["p50Ms"] = Math.Round(P50, 4), ["p95Ms"] = Math.Round(P95, 4), ["p99Ms"] = Math.Round(P99, 4),
            ["meanMs"] = Math.Round(Mean, 4), ["minMs"] = Math.Round(Min, 4), ["maxMs"] = Math.Round(Max, 4),
        };
    }

    /// <summary>Times <paramref name="invoke"/> for each item after <paramref name="warmup"/> untimed ones (ms).</summary>
    private static double[] TimeEach<T>(IReadOnlyList<T> items, int warmup, Action<T> prepare, Action invoke)
    {
        var times = new double[items.Count - warmup];
        for (int i = 0; i < items.Count; i++)
        {
            prepare(items[i]);
            long t0 = Stopwatch.GetTimestamp();
            invoke();
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (i >= warmup)
            {
                times[i - warmup] = ms;
            }
        }

        return times;
    }

    /// <summary>One Invoke-RdsUserSessionLogoff per PowerShell.Invoke on <paramref name="runspace"/>: ms per call after the warm-up.</summary>
    private static (double[] Times, int Errors, string? FirstError) TimeSingleLogoffs(Runspace runspace, List<(string Host, int Id)> sessions, int warm)
    {
        int errors = 0;
        string? firstError = null;
        using var ps = PowerShell.Create(runspace);
        Quiesce();
        double[] times = TimeEach(sessions, warm,
            s =>
            {
                ps.Commands.Clear();
                ps.Streams.ClearStreams();
                ps.AddCommand("Invoke-RdsUserSessionLogoff").AddArgument("Bulk").AddArgument(Pool)
                    .AddArgument(s.Host).AddArgument(s.Id).AddParameter("NoUserPrompt");
            },
            () =>
            {
                ps.Invoke();
                if (ps.Streams.Error.Count > 0)
                {
                    errors++;
                    firstError ??= ps.Streams.Error[0].ToString();
                }
            });
        return (times, errors, firstError);
    }

    /// <summary>
    /// What the cmdlet does per session without PowerShell around it, through the module's own
    /// (internal) code: NativeCalls.CreateThrottled, SessionActionAsync, a wait on the task's
    /// handle as WaitForOldest does, Dispose. Null when the internals are no longer shaped so.
    /// </summary>
    private sealed class ModuleInternals
    {
        private readonly object _connection;
        private readonly MethodInfo _createThrottled;
        private readonly MethodInfo _sessionAction;
        private readonly object _logoff;
        private readonly ConstructorInfo _identity;

        private ModuleInternals(object connection, MethodInfo createThrottled, MethodInfo sessionAction, object logoff, ConstructorInfo identity)
        {
            _connection = connection;
            _createThrottled = createThrottled;
            _sessionAction = sessionAction;
            _logoff = logoff;
            _identity = identity;
        }

        public static ModuleInternals? From(Runspace runspace)
        {
            try
            {
                using var ps = PowerShell.Create(runspace);
                object context = ps.AddCommand("Get-RdsContext").Invoke().Single().BaseObject;
                Assembly asm = context.GetType().Assembly;
                const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;
                object connection = context.GetType().GetProperty("Connection", Any)!.GetValue(context)!;
                Type calls = asm.GetType("RdsSessions.NativeCalls", throwOnError: true)!;
                Type kind = asm.GetType("RdsSessions.Native.SessionActionKind", throwOnError: true)!;
                Type identity = asm.GetType("RdsSessions.SessionIdentity", throwOnError: true)!;
                return new ModuleInternals(
                    connection,
                    calls.GetMethod("CreateThrottled", Any)!,
                    calls.GetMethod("SessionActionAsync", Any)!,
                    kind.GetProperty("Logoff", Any)!.GetValue(null)!,
                    identity.GetConstructor(new[] { typeof(string), typeof(string), typeof(string), typeof(string), typeof(int) })!);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Console.WriteLine("  (module internals probe unavailable: " + e.GetType().Name + ": " + e.Message + ")");
                return null;
            }
        }

        public IDisposable Throttled(int limit) => (IDisposable)_createThrottled.Invoke(null, new[] { _connection, (object)limit })!;

        public bool Logoff(IDisposable throttled, string pool, string host, int id)
        {
            object session = _identity.Invoke(new object[] { EmulatorProcess.TenantGroup, EmulatorProcess.Tenant, pool, host, id });
            // Task<T> of whatever the module completes with (its result type is internal and may change).
            var task = (System.Threading.Tasks.Task)_sessionAction.Invoke(null,
                new object?[] { throttled, _logoff, session, false, null, null, CancellationToken.None })!;
            ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
            return task.IsCompletedSuccessfully;
        }
    }

    /// <summary>The logoff request itself from HttpClient over loopback (pooled connection): ms per request after the warm-up.</summary>
    private static (double[] Times, int Failures) TimeRawLogoffs(EmulatorProcess emu, List<(string Host, int Id)> sessions, int warm)
    {
        int failures = 0;
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) });
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", EmulatorProcess.Token);
        HttpRequestMessage? request = null;
        Quiesce();
        double[] times = TimeEach(sessions, warm,
            s => request = new HttpRequestMessage(HttpMethod.Post,
                $"{emu.Url}/RdsManagement/V1/TenantGroups/{Uri.EscapeDataString(EmulatorProcess.TenantGroup)}/Tenants/{EmulatorProcess.Tenant}/HostPools/{RawPool}" +
                $"/SessionHosts/{Uri.EscapeDataString(s.Host)}/Sessions/{s.Id}/actions/logoff-user")
            {
                Content = new StringContent("{}", Encoding.UTF8, "application/json"),
            },
            () =>
            {
                using HttpResponseMessage response = http.Send(request!);
                response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
                if (!response.IsSuccessStatusCode)
                {
                    failures++;
                }
            });
        return (times, failures);
    }

    private static void PerCall(EmulatorProcess emu, Runspace main)
    {
        Config cfg = s_cfg;
        int warm = cfg.PerCallWarmup, n = cfg.PerCallN, count = warm + n;
        emu.SetLatency(0);
        var table = new Table($"2. Per-call overhead at 0 ms broker latency ({n:N0} calls after {warm} warm-up, ms)",
            "measurement", "p50", "p95", "p99", "mean", "min", "max");
        var json = new JsonObject { ["calls"] = n, ["warmup"] = warm, ["latencyMs"] = 0 };

        // (a) Invoke-RdsUserSessionLogoff, one session per PowerShell.Invoke (AddCommand, positional arguments).
        emu.Generate(10, count / 10);
        var sessions = ListSessions(main).Sessions;
        emu.ClearActivity();
        var (cmdlet, errors, firstError) = TimeSingleLogoffs(main, sessions, warm);
        RunCheck perCallCheck = emu.Check(Pool, count);
        string perCallVerified = Verified(perCallCheck, new PipelineRun(0, errors, firstError), count);
        Stats cmdletStats = Stats.Of(cmdlet);
        table.Row(cmdletStats.Cells("Invoke-RdsUserSessionLogoff Bulk Pool-Bulk <host> <id> -NoUserPrompt"));
        json["invokeRdsUserSessionLogoff"] = cmdletStats.Json();
        json["verified"] = perCallCheck.Ok && errors == 0;

        // The same on a runspace with the API's default ThreadOptions (a new pipeline thread per Invoke, as the tests' harness has).
        using (Runspace defaultThreads = OpenRunspace(reuseThread: false))
        {
            ImportModule(defaultThreads);
            SignIn(defaultThreads, emu.Url);
            emu.Generate(10, count / 10);
            var again = ListSessions(defaultThreads).Sessions;
            emu.ClearActivity();
            var (times, errs, first) = TimeSingleLogoffs(defaultThreads, again, warm);
            RunCheck check = emu.Check(Pool, count);
            Verified(check, new PipelineRun(0, errs, first), count);
            Stats st = Stats.Of(times);
            table.Row(st.Cells("  same, runspace with default ThreadOptions (new thread per Invoke)"));
            json["invokeRdsUserSessionLogoffDefaultThreadOptions"] = st.Json();
        }

        // Floor 1: the engine's own cost of one Invoke of a module cmdlet that does no I/O.
        using (var ps = PowerShell.Create(main))
        {
            double[] engine = TimeEach(Enumerable.Range(0, count).ToList(), warm,
                _ =>
                {
                    ps.Commands.Clear();
                    ps.Streams.ClearStreams();
                    ps.AddCommand("Get-RdsContext");
                },
                () => ps.Invoke());
            Stats st = Stats.Of(engine);
            table.Row(st.Cells("floor: Get-RdsContext (1 Invoke each, no I/O)"));
            json["floorGetRdsContext"] = st.Json();
        }

        // Floor 2: the module's own code per session without PowerShell (reflection on its internals).
        ModuleInternals? internals = ModuleInternals.From(main);
        if (internals is not null)
        {
            emu.Generate(10, count / 10, RawPool);
            var probe = ListSessions(main, RawPool).Sessions;
            emu.ClearActivity();
            int failures = 0;
            (string Host, int Id) next = default;
            Quiesce();
            double[] native = TimeEach(probe, warm,
                s => next = s,
                () =>
                {
                    using IDisposable throttled = internals.Throttled(32);
                    if (!internals.Logoff(throttled, RawPool, next.Host, next.Id))
                    {
                        failures++;
                    }
                });
            RunCheck check = emu.Check(RawPool, count);
            if (!check.Ok || failures > 0)
            {
                s_allVerified = false;
                Console.WriteLine($"  !! module internals probe not verified: {failures} failures, {check.Left} left");
            }

            Stats st = Stats.Of(native);
            table.Row(st.Cells("floor: module code, no PowerShell (CreateThrottled + SessionActionAsync + wait)"));
            json["floorModuleInternals"] = st.Json();
        }

        // Floor 3: the same logoff request over loopback HTTP from HttpClient (emulator + HTTP only).
        emu.Generate(10, count / 10, RawPool);
        var raw = ListSessions(main, RawPool).Sessions;
        emu.ClearActivity();
        var (httpFloor, rawFailures) = TimeRawLogoffs(emu, raw, warm);
        RunCheck rawCheck = emu.Check(RawPool, count);
        if (!rawCheck.Ok || rawFailures > 0)
        {
            s_allVerified = false;
            Console.WriteLine($"  !! raw HTTP floor not verified: {rawFailures} failures, {rawCheck.Left} left");
        }

        Stats httpStats = Stats.Of(httpFloor);
        table.Row(httpStats.Cells("floor: HttpClient POST logoff-user (no PowerShell, no module)"));
        json["floorHttpClient"] = httpStats.Json();

        bool pass = cmdletStats.P50 <= 1.0;
        table.Notes.Add($"Each call is its own PowerShell.Invoke on one reused runspace (AddCommand + positional AddArgument, no parser); verified: {perCallVerified}.");
        table.Notes.Add("Runspaces use ThreadOptions ReuseThread like pwsh's console host, except the row that says otherwise.");
        table.Notes.Add($"Goal: p50 <= 1 ms ............ {Fmt.F(cmdletStats.P50, 3)} ms  {Fmt.Verdict(pass)}");
        Emit(table);
        json["goalP50MaxMs"] = 1.0;
        json["pass"] = pass;

        // (b) The per-item cost inside one pipeline at 0 ms.
        int pn = cfg.BulkN;
        var pipeTable = new Table($"2b. Per-item cost inside one pipeline at 0 ms ({pn:N0} sessions)",
            "measurement", "total s", "per item ms", "items/s", "verified");
        var pipeRows = new JsonArray();
        emu.Generate(cfg.BulkHosts, cfg.BulkPerHost);
        double listOnly = ListSessions(main).Seconds;
        pipeTable.Row("Get-RdsUserSession alone (list + objects)", Fmt.F(listOnly, 3), Fmt.F(listOnly * 1000 / pn, 4), Fmt.F(pn / listOnly, 0), "-");
        pipeRows.Add(new JsonObject { ["what"] = "listOnly", ["seconds"] = Math.Round(listOnly, 4), ["perItemMs"] = Math.Round(listOnly * 1000 / pn, 4) });
        foreach (int c in new[] { 1, 32 })
        {
            emu.Generate(cfg.BulkHosts, cfg.BulkPerHost);
            emu.ClearActivity();
            PipelineRun run = LogoffPipeline(main, c);
            RunCheck check = emu.Check(Pool, pn);
            pipeTable.Row($"Get-RdsUserSession | Invoke-RdsUserSessionLogoff -ThrottleLimit {c}", Fmt.F(run.Seconds, 3),
                Fmt.F(run.Seconds * 1000 / pn, 4), Fmt.F(pn / run.Seconds, 0), Verified(check, run, pn));
            var row = CheckJson(check, run);
            row["what"] = $"pipelineThrottleLimit{c}";
            row["seconds"] = Math.Round(run.Seconds, 4);
            row["perItemMs"] = Math.Round(run.Seconds * 1000 / pn, 4);
            pipeRows.Add(row);
        }

        pipeTable.Notes.Add("Per item = total / N (the pipeline includes its one list request).");
        Emit(pipeTable);

        json["pipeline"] = pipeRows;
        s_json["perCall"] = json;
    }

    #endregion

    #region 3. Import-Module

    private const string ImportProbeArg = "--import-probe";

    /// <summary>Variants of the first-import probe: what is done between the empty import and RdsSessions'.</summary>
    private static readonly string[] ProbeVariants = { "plain", "preload-native", "preload-assembly", "no-format" };

    /// <summary>
    /// In a fresh process (started by <see cref="RunImportProbe"/>): a first Import-Module of an empty
    /// manifest (the engine's own first-import cost), then, per variant, NativeLibrary.Load of the
    /// module's native library or Assembly.LoadFrom of RdsSessions.dll + NativeLoader.EnsureLoaded
    /// (timed), then the first Import-Module of RdsSessions (for "no-format" a copy of the module
    /// without FormatsToProcess). Prints one JSON line.
    /// </summary>
    private static int ImportProbe(string variant)
    {
        string temp = Path.Combine(Path.GetTempPath(), $"rds-bench-probe-{Environment.ProcessId}");
        string emptyDir = Path.Combine(temp, "Empty");
        Directory.CreateDirectory(emptyDir);
        string empty = Path.Combine(emptyDir, "Empty.psd1");
        File.WriteAllText(empty, "@{ ModuleVersion = '1.0'; GUID = 'b6f6e7c4-6a57-4d4f-9c53-1e9f3c0a2b11'; FunctionsToExport = @(); CmdletsToExport = @() }\n");
        string moduleDir = Path.GetDirectoryName(BenchEnv.ManifestPath)!;
        string manifest = BenchEnv.ManifestPath;
        try
        {
            if (variant == "no-format")
            {
                string copy = Path.Combine(temp, "RdsSessions");
                foreach (string f in Directory.GetFiles(moduleDir, "*", SearchOption.AllDirectories))
                {
                    string target = Path.Combine(copy, Path.GetRelativePath(moduleDir, f));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(f, target);
                }

                manifest = Path.Combine(copy, Path.GetFileName(BenchEnv.ManifestPath));
                var lines = File.ReadAllLines(manifest).Where(l => !l.TrimStart().StartsWith("FormatsToProcess", StringComparison.Ordinal));
                File.WriteAllLines(manifest, lines);
            }

            using Runspace runspace = OpenRunspace();
            long t0 = Stopwatch.GetTimestamp();
            using (var ps = PowerShell.Create(runspace))
            {
                ps.AddCommand("Import-Module").AddParameter("Name", empty).AddParameter("ErrorAction", "Stop").Invoke();
            }

            double emptyMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            double preloadMs = 0;
            long t1 = Stopwatch.GetTimestamp();
            if (variant == "preload-native")
            {
                NativeLibrary.Load(Directory.GetFiles(Path.Combine(moduleDir, "runtimes"), "*rds_sessions*", SearchOption.AllDirectories)
                    .First(f => !f.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase)));
                preloadMs = Stopwatch.GetElapsedTime(t1).TotalMilliseconds;
            }
            else if (variant == "preload-assembly")
            {
                Assembly asm = Assembly.LoadFrom(Path.Combine(moduleDir, "RdsSessions.dll"));
                asm.GetType("RdsSessions.NativeLoader", throwOnError: true)!.GetMethod("EnsureLoaded")!.Invoke(null, null);
                preloadMs = Stopwatch.GetElapsedTime(t1).TotalMilliseconds;
            }

            long t2 = Stopwatch.GetTimestamp();
            using (var ps = PowerShell.Create(runspace))
            {
                ps.AddCommand("Import-Module").AddParameter("Name", manifest).AddParameter("ErrorAction", "Stop").Invoke();
            }

            double rdsMs = Stopwatch.GetElapsedTime(t2).TotalMilliseconds;
            Console.WriteLine("IMPORT-PROBE " + new JsonObject { ["emptyMs"] = emptyMs, ["preloadMs"] = preloadMs, ["rdsSessionsMs"] = rdsMs }.ToJsonString());
            return 0;
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    private sealed record ProbeResult(double EmptyMs, double PreloadMs, double RdsSessionsMs);

    private static ProbeResult? RunImportProbe(string variant)
    {
        string self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        }

        psi.ArgumentList.Add(ImportProbeArg);
        psi.ArgumentList.Add(variant);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith("IMPORT-PROBE ", StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
        {
            Console.WriteLine($"  (import probe '{variant}' failed: {stderr.Result.Split('\n').FirstOrDefault()})");
            return null;
        }

        JsonNode r = JsonNode.Parse(line.Substring("IMPORT-PROBE ".Length))!;
        return new ProbeResult((double)r["emptyMs"]!, (double)r["preloadMs"]!, (double)r["rdsSessionsMs"]!);
    }

    private static void Imports(double engineStartMs, double firstImportMs)
    {
        int count = s_cfg.Imports;
        var imports = new double[count];
        var opens = new double[count];
        for (int i = 0; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            using Runspace runspace = OpenRunspace();
            opens[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            imports[i] = ImportModule(runspace);
        }

        double Median(double[] v)
        {
            double[] s = v.OrderBy(x => x).ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
        }

        // Where the first import goes: fresh processes, each variant ProbeRuns times (medians).
        int probeRuns = s_cfg.Mode == "quick" ? 1 : 3;
        var probes = ProbeVariants.ToDictionary(v => v, v => Enumerable.Range(0, probeRuns).Select(_ => RunImportProbe(v)).OfType<ProbeResult>().ToList());

        double median = Median(imports);
        bool firstPass = firstImportMs <= 100, medianPass = median <= 100;
        var table = new Table("3. Import-Module of the built manifest (ms)", "measurement", "ms");
        table.Row("engine start-up: first runspace (CreateDefault2 + Open), excluded below", Fmt.F(engineStartMs, 1));
        table.Row("(a) first Import-Module in this process (loads RdsSessions.dll + native library)", Fmt.F(firstImportMs, 1));
        table.Row($"(b) Import-Module into a fresh runspace, median of {count}", Fmt.F(median, 1));
        table.Row($"    min / max of {count}", $"{Fmt.F(imports.Min(), 1)} / {Fmt.F(imports.Max(), 1)}");
        table.Row($"    (for scale) opening a fresh runspace, median of {count}", Fmt.F(Median(opens), 1));
        var breakdown = new JsonObject();
        if (probes.Values.All(list => list.Count > 0))
        {
            double Med(string v, Func<ProbeResult, double> f) => Median(probes[v].Select(f).ToArray());
            double engineFirst = Median(probes.Values.SelectMany(l => l).Select(r => r.EmptyMs).ToArray());
            table.Row($"(a) where it goes: fresh processes, {probeRuns} per variant, medians", "");
            table.Row("    engine's own first Import-Module (an EMPTY manifest, imported first)", Fmt.F(engineFirst, 1));
            table.Row("    then the first Import-Module of RdsSessions", Fmt.F(Med("plain", r => r.RdsSessionsMs), 1));
            table.Row("      NativeLibrary.Load of librds_sessions alone", Fmt.F(Med("preload-native", r => r.PreloadMs), 1));
            table.Row("      Assembly.LoadFrom(RdsSessions.dll) + NativeLoader.EnsureLoaded()", Fmt.F(Med("preload-assembly", r => r.PreloadMs), 1));
            table.Row("      Import-Module after that preload (cmdlet discovery + format file)", Fmt.F(Med("preload-assembly", r => r.RdsSessionsMs), 1));
            table.Row("      Import-Module of a copy without FormatsToProcess", Fmt.F(Med("no-format", r => r.RdsSessionsMs), 1));
            breakdown["probeRunsPerVariant"] = probeRuns;
            breakdown["engineFirstEmptyImportMs"] = Math.Round(engineFirst, 2);
            foreach (var (variant, list) in probes)
            {
                breakdown[variant] = new JsonObject
                {
                    ["preloadMs"] = Math.Round(Median(list.Select(r => r.PreloadMs).ToArray()), 2),
                    ["rdsSessionsImportMs"] = Math.Round(Median(list.Select(r => r.RdsSessionsMs).ToArray()), 2),
                    ["emptyImportMs"] = Math.Round(Median(list.Select(r => r.EmptyMs).ToArray()), 2),
                };
            }
        }

        table.Notes.Add($"Goal: (a) <= 100 ms ............ {Fmt.F(firstImportMs, 1)} ms  {Fmt.Verdict(firstPass)}");
        table.Notes.Add($"Goal: (b) <= 100 ms ............ {Fmt.F(median, 1)} ms  {Fmt.Verdict(medianPass)}");
        Emit(table);

        s_json["importModule"] = new JsonObject
        {
            ["engineStartMs"] = Math.Round(engineStartMs, 2),
            ["firstImportMs"] = Math.Round(firstImportMs, 2),
            ["freshRunspaceImportMedianMs"] = Math.Round(median, 2),
            ["freshRunspaceImportMinMs"] = Math.Round(imports.Min(), 2),
            ["freshRunspaceImportMaxMs"] = Math.Round(imports.Max(), 2),
            ["freshRunspaceImportsMs"] = new JsonArray(imports.Select(x => (JsonNode)Math.Round(x, 2)).ToArray()),
            ["freshRunspaceOpenMedianMs"] = Math.Round(Median(opens), 2),
            ["firstImportBreakdown"] = breakdown,
            ["goalMaxMs"] = 100,
            ["firstPass"] = firstPass,
            ["medianPass"] = medianPass,
        };
    }

    #endregion

    #region 4. Memory

    private static long SettledWorkingSet(Process self)
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Thread.Sleep(500);
        self.Refresh();
        return self.WorkingSet64;
    }

    /// <summary>
    /// The process's peak working set while <paramref name="run"/> runs, sampled every 20 ms on a
    /// thread of its own (the memory sections of the classic and the ARM runs).
    /// </summary>
    private static (T Result, long Peak) WithPeakWorkingSet<T>(long floor, Func<T> run, string name)
    {
        long peak = floor;
        using var stop = new ManualResetEventSlim();
        var sampler = new Thread(() =>
        {
            using var p = Process.GetCurrentProcess();
            while (!stop.Wait(20))
            {
                p.Refresh();
                peak = Math.Max(peak, p.WorkingSet64);
            }
        }) { IsBackground = true, Name = name };
        sampler.Start();
        try
        {
            return (run(), Interlocked.Read(ref peak));
        }
        finally
        {
            stop.Set();
            sampler.Join();
        }
    }

    private static void Memory(EmulatorProcess emu, Runspace main)
    {
        Config cfg = s_cfg;
        int n = cfg.MemN;
        const double MB = 1024.0 * 1024.0;
        emu.SetLatency(0);
        emu.RequestLog(false);
        emu.Generate(cfg.MemHosts, cfg.MemPerHost);
        emu.ClearActivity();

        using var self = Process.GetCurrentProcess();
        long before = SettledWorkingSet(self);
        long managedBefore = GC.GetTotalMemory(false);

        (PipelineRun run, long peak) = WithPeakWorkingSet(before, () => LogoffPipeline(main, cfg.MemThrottleLimit), "ws-sampler");

        long after = SettledWorkingSet(self);
        long managedAfter = GC.GetTotalMemory(false);
        self.Refresh();
        long processPeak = self.PeakWorkingSet64;
        RunCheck check = emu.Check(Pool, n);
        double growth = (after - before) / MB;
        bool pass = growth <= 50;

        var table = new Table($"4. Memory: logging off {n:N0} sessions in one pipeline (MB)", "measurement", "MB");
        table.Row("working set before (after full GC + 0.5 s settle)", Fmt.F(before / MB, 1));
        table.Row("working set after (after full GC + 0.5 s settle)", Fmt.F(after / MB, 1));
        table.Row("growth", Fmt.F(growth, 1));
        table.Row("peak working set during the run (sampled every 20 ms)", Fmt.F(peak / MB, 1));
        table.Row("process peak working set so far (VmHWM)", Fmt.F(processPeak / MB, 1));
        table.Row("managed heap before / after", $"{Fmt.F(managedBefore / MB, 1)} / {Fmt.F(managedAfter / MB, 1)}");
        table.Notes.Add($"Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit {cfg.MemThrottleLimit}: {cfg.MemHosts} hosts x {cfg.MemPerHost}, latency 0, request log off; " +
            $"{Fmt.F(run.Seconds, 2)} s ({Fmt.F(n / run.Seconds, 0)} sessions/s), maxInFlight {check.MaxInFlight}, verified: {Verified(check, run, n)}.");
        table.Notes.Add($"Goal: growth <= 50 MB ............ {Fmt.F(growth, 1)} MB  {Fmt.Verdict(pass)}");
        Emit(table);

        var json = CheckJson(check, run);
        json["sessions"] = n;
        json["throttleLimit"] = cfg.MemThrottleLimit;
        json["seconds"] = Math.Round(run.Seconds, 3);
        json["workingSetBeforeMB"] = Math.Round(before / MB, 2);
        json["workingSetAfterMB"] = Math.Round(after / MB, 2);
        json["growthMB"] = Math.Round(growth, 2);
        json["peakDuringRunMB"] = Math.Round(peak / MB, 2);
        json["processPeakMB"] = Math.Round(processPeak / MB, 2);
        json["managedHeapBeforeMB"] = Math.Round(managedBefore / MB, 2);
        json["managedHeapAfterMB"] = Math.Round(managedAfter / MB, 2);
        json["goalMaxGrowthMB"] = 50;
        json["pass"] = pass;
        s_json["memory"] = json;
    }

    #endregion

    #region Output

    private static void Emit(Table table)
    {
        s_tables.Add(table);
        Console.WriteLine(table.ToText());
    }

    /// <summary>A table of the ARM section: printed, and written between the ARM markers of latest.md.</summary>
    private static void EmitArmTable(Table table)
    {
        s_armTables.Add(table);
        Console.WriteLine(table.ToText());
    }

    private static JsonObject MachineInfo()
    {
        string cpu = "unknown";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?
                    .Split(':', 2)[1].Trim() ?? cpu;
            }
        }
        catch (IOException)
        {
        }

        string? Git(string args)
        {
            try
            {
                var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                psi.ArgumentList.Add("-C");
                psi.ArgumentList.Add(BenchEnv.RepoRoot);
                foreach (string a in args.Split(' '))
                {
                    psi.ArgumentList.Add(a);
                }

                using var p = Process.Start(psi)!;
                string output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                return p.ExitCode == 0 ? output.Trim() : null;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                return null;
            }
        }

        string? status = Git("status --porcelain");
        return new JsonObject
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", Fmt.C),
            ["processorCount"] = Environment.ProcessorCount,
            ["cpuModel"] = cpu,
            ["memoryTotalMB"] = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024.0),
            ["os"] = RuntimeInformation.OSDescription,
            ["osArchitecture"] = RuntimeInformation.OSArchitecture.ToString(),
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["powershellEngine"] = typeof(PowerShell).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+', ' ')[0]
                ?? typeof(PowerShell).Assembly.GetName().Version?.ToString(),
            ["moduleVersion"] = BenchEnv.Version,
            ["gitCommit"] = Git("rev-parse --short HEAD"),
            ["gitDirty"] = status is null ? null : status.Length > 0,
            ["mode"] = s_cfg.Mode,
            ["loadAverageAtStart"] = LoadAverage(),
        };
    }

    /// <summary>The 1-minute load average (Linux), to tell a quiet machine from a busy one.</summary>
    private static double? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg")
                ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], Fmt.C)
                : null;
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            return null;
        }
    }

    private const string ArmBegin = "<!-- arm-section:begin -->";
    private const string ArmEnd = "<!-- arm-section:end -->";

    private static void WriteResults(JsonObject machine)
    {
        machine["loadAverageAtEnd"] = LoadAverage();
        // The full run writes bench-results/latest.*; --quick writes bench-results/quick/ so it never replaces them.
        string dir = Path.Combine(BenchEnv.RepoRoot, "bench-results");
        string stem = "latest", chart = "throughput.svg";
        if (s_cfg.Mode == "quick")
        {
            dir = Path.Combine(dir, "quick");
        }

        Directory.CreateDirectory(dir);
        string jsonPath = Path.Combine(dir, stem + ".json"), mdPath = Path.Combine(dir, stem + ".md");
        var indented = new JsonSerializerOptions { WriteIndented = true };
        string armMarkdown = ArmMarkdown(machine);
        if (s_armOnly)
        {
            // --arm-only: the ARM section replaces its predecessor in latest.json/latest.md; the
            // classic sections (and the chart) stay as the last full run wrote them.
            JsonObject armJson = (JsonObject)s_json["arm"]!;
            s_json.Remove("arm");
            armJson["machine"] = machine;
            JsonObject existing = File.Exists(jsonPath) && JsonNode.Parse(File.ReadAllText(jsonPath)) is JsonObject o
                ? o
                : new JsonObject { ["benchmark"] = "RdsSessions" };
            existing["arm"] = armJson;
            File.WriteAllText(jsonPath, existing.ToJsonString(indented) + "\n");

            string md = File.Exists(mdPath) ? File.ReadAllText(mdPath) : "# RdsSessions benchmark results\n\n";
            int b = md.IndexOf(ArmBegin, StringComparison.Ordinal), e = md.IndexOf(ArmEnd, StringComparison.Ordinal);
            md = b >= 0 && e > b
                ? md[..b] + armMarkdown + md[(e + ArmEnd.Length)..].TrimStart('\n').Insert(0, "\n")
                : md.TrimEnd('\n') + "\n\n" + armMarkdown + "\n";
            File.WriteAllText(mdPath, md);
            Console.WriteLine($"Wrote the ARM section into {jsonPath} and {stem}.md (the other sections kept)");
            return;
        }

        var doc = new JsonObject { ["benchmark"] = "RdsSessions", ["machine"] = machine };
        foreach (var (key, value) in s_json.ToList())
        {
            s_json.Remove(key);
            doc[key] = value;
        }

        File.WriteAllText(jsonPath, doc.ToJsonString(indented) + "\n");

        string subtitle = $"RdsSessions {BenchEnv.Version}, PowerShell {machine["powershellEngine"]} (hosted), rds-emulator on loopback; " +
                          $"{machine["processorCount"]} CPUs, {(OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "macOS" : "Windows")} {RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}; {machine["date"]!.ToString()[..10]}";
        File.WriteAllText(Path.Combine(dir, chart), SvgChart.Throughput(
            "Get-RdsUserSession | Invoke-RdsUserSessionLogoff: throughput", subtitle, ChartSeries(doc), s_cfg.Limits.Union(s_cfg.GridLimits).OrderBy(c => c).ToList()));

        var mdb = new StringBuilder();
        mdb.AppendLine("# RdsSessions benchmark results");
        mdb.AppendLine();
        mdb.AppendLine($"Produced by `bash scripts/bench.sh{(s_cfg.Mode == "quick" ? " --quick" : string.Empty)}` (module/bench/RdsSessions.Benchmark): the real cmdlets in the hosted " +
                      "PowerShell engine against `rds-emulator`, one run on one machine. Numbers: `" + stem + ".json`; chart: `" + chart + "`.");
        mdb.AppendLine();
        mdb.AppendLine($"- Date: {machine["date"]}; commit {machine["gitCommit"] ?? "?"}{((bool?)machine["gitDirty"] == true ? " (with uncommitted changes)" : string.Empty)}; mode: {s_cfg.Mode}");
        mdb.AppendLine($"- Machine: {machine["processorCount"]} CPUs ({machine["cpuModel"]}), {machine["memoryTotalMB"]} MB, {machine["os"]} {machine["osArchitecture"]}");
        mdb.AppendLine($"- Runtime: {machine["dotnet"]}, PowerShell engine (System.Management.Automation) {machine["powershellEngine"]}, RdsSessions {machine["moduleVersion"]}");
        mdb.AppendLine($"- Emulator and benchmark share the machine's CPUs; 1-minute load average at start {machine["loadAverageAtStart"]}, at end {machine["loadAverageAtEnd"]}.");
        mdb.AppendLine();
        mdb.AppendLine($"![throughput]({chart})");
        mdb.AppendLine();
        foreach (Table t in s_tables)
        {
            mdb.Append(t.ToMarkdown());
        }

        mdb.Append(armMarkdown);
        mdb.AppendLine();
        File.WriteAllText(mdPath, mdb.ToString());
        Console.WriteLine($"Wrote {jsonPath}, {stem}.md and {chart}");
    }

    /// <summary>The ARM section of latest.md, between markers so that --arm-only can replace it alone.</summary>
    private static string ArmMarkdown(JsonObject machine)
    {
        var md = new StringBuilder();
        md.AppendLine(ArmBegin);
        md.AppendLine("# ARM flavour (Azure Resource Manager)");
        md.AppendLine();
        string args = (s_cfg.Mode == "quick" ? " --quick" : string.Empty) + (s_armOnly ? " --arm-only" : string.Empty);
        md.AppendLine($"Produced by `bash scripts/bench.sh{args}`{(s_armOnly ? " (this section alone; the sections above are from the last full run)" : string.Empty)}: " +
                      "the same cmdlets signed in to the emulator's ARM flavour with an ARM mapping; numbers under `arm` in `latest.json`.");
        md.AppendLine();
        md.AppendLine($"- Date: {machine["date"]}; commit {machine["gitCommit"] ?? "?"}{((bool?)machine["gitDirty"] == true ? " (with uncommitted changes)" : string.Empty)}; mode: {s_cfg.Mode}");
        md.AppendLine($"- Machine: {machine["processorCount"]} CPUs ({machine["cpuModel"]}); 1-minute load average at start {machine["loadAverageAtStart"]}, at end {machine["loadAverageAtEnd"] ?? LoadAverage()}.");
        md.AppendLine();
        foreach (Table t in s_armTables)
        {
            md.Append(t.ToMarkdown());
        }

        md.Append(ArmEnd);
        return md.ToString();
    }

    private static List<Series> ChartSeries(JsonObject doc)
    {
        var series = new List<Series>();
        string[] colors = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e" };
        var grid = doc["latencyGrid"]!["runs"]!.AsArray();
        int i = 0;
        foreach (int latency in s_cfg.GridLatencies)
        {
            var pts = grid.Where(r => (int)r!["latencyMs"]! == latency)
                .Select(r => ((int)r!["throttleLimit"]!, (double)r["sessionsPerSecond"]!)).ToList();
            series.Add(new Series($"{latency} ms latency (N={s_cfg.GridN})", colors[i++ % colors.Length], pts));
        }

        int bulkLatency = s_cfg.BulkLatencyMs;
        var bulk = doc["bulk"]!["runs"]!.AsArray().Select(r => ((int)r!["throttleLimit"]!, (double)r["sessionsPerSecond"]!)).ToList();
        series.Add(new Series($"{bulkLatency} ms latency (N={s_cfg.BulkN:N0})", "#9467bd", bulk, MarkersOnly: true));
        var ideal = s_cfg.Limits.Union(s_cfg.GridLimits).OrderBy(c => c).Select(c => (c, c * 1000.0 / bulkLatency)).ToList();
        series.Add(new Series($"ideal C/L at {bulkLatency} ms", "#777777", ideal, Dashed: true));
        return series;
    }

    #endregion
}
