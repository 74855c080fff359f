using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Threading;

namespace RdsSessions.Benchmark;

/// <summary>Sizes of the ARM section: the full benchmark, or --quick (smaller N, same shape).</summary>
internal sealed record ArmSizes(
    int LatencyMs, int ThrottleLimit,
    int PacedHosts, int PacedPerHost, int PacedBurst, int PacedPerSecond,
    int OneHosts, int OnePerHost,
    int ScaleHosts, int ScalePerHost, int ScaleBurst, int ScalePerSecond,
    int ShapeHosts, int ShapePerHost)
{
    public int PacedN => PacedHosts * PacedPerHost;
    public int OneN => OneHosts * OnePerHost;
    public int ScaleN => ScaleHosts * ScalePerHost;
    public int ShapeN => ShapeHosts * ShapePerHost;

    /// <summary>(a)/(b) 1,000 sessions against ARM's documented deletes bucket (200, then 10/s).</summary>
    public static readonly ArmSizes Full = new(
        100, 32,
        10, 100, 200, 10,
        1, 100,
        40, 250, 200, 200,
        3, 50);

    /// <summary>The same shapes in about a minute: (a)/(b) 250 sessions over a 150-token bucket at 10/s.</summary>
    public static readonly ArmSizes Quick = new(
        100, 32,
        5, 50, 150, 10,
        1, 30,
        8, 250, 200, 200,
        1, 30);
}

/// <summary>Section 5: the same cmdlets against the emulator's Azure Resource Manager flavour.</summary>
internal static partial class Program
{
    private const string ArmPool = "Pool-Arm";

    private static ArmSizes s_arm = ArmSizes.Full;

    /// <summary>One ARM run: what is run, on how many sessions, against which deletes bucket.</summary>
    private sealed record ArmSpec(
        string Key, string Label, string Script, int Hosts, int PerHost, int Burst, int PerSecond,
        bool Paced, int ThrottleLimit, int Concurrency, bool FailuresExpected = false)
    {
        public int N => Hosts * PerHost;
    }

    /// <summary>Successful logoffs in time (the emulator's activity `at`), relative to the Invoke.</summary>
    private sealed record Timeline(double FirstS, double LastS, double? BurstEndS, double? SteadyRate, int[] PerSecond);

    private sealed record ArmRun(
        ArmSpec Spec, double Seconds, int Errors, string? FirstError, RunCheck Check,
        long Reads, long Deletes, long Requests, long Throttled, long DeletesThrottled,
        double Floor, Timeline? Timeline)
    {
        public double Rate => Spec.N / Seconds;
        public double ThrottledPercent => Requests == 0 ? 0 : 100.0 * Throttled / Requests;
    }

    #region 5. ARM

    private static void Arm(EmulatorProcess emu)
    {
        ArmSizes z = s_arm;
        int latency = z.LatencyMs;
        var clock = Stopwatch.StartNew();
        using Runspace rs = OpenRunspace();
        ImportModule(rs);
        emu.RequestLog(false);
        emu.DefaultRateLimits();
        emu.SetLatency(0);
        emu.Generate(1, 10, ArmPool);
        ArmPlacement placement = emu.ArmPlacementOf(ArmPool);
        JsonNode settings = emu.ArmSettings();
        string apiVersion = (string)settings["apiVersions"]![0]!;
        int pageSize = (int)settings["pageSize"]!;
        Hashtable mapping = ArmMapping(emu.Url, placement);

        // Warm-up (JIT of the ARM paths: pipeline, single calls), default buckets, 0 ms.
        emu.Generate(2, 50, ArmPool);
        SignInArm(rs, emu.Url, mapping, paced: true);
        InvokeTimed(rs, $"Get-RdsUserSession Bulk {ArmPool} | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 32");
        emu.Generate(1, 10, ArmPool);
        InvokeTimed(rs, LoopScript);

        // What one ARM request takes at this latency, from HttpClient (no module): GET of one user session.
        emu.SetLatency(latency);
        emu.Generate(1, 1, ArmPool);
        double effectiveMs = Stats.Of(TimeRawArmGets(emu, placement, apiVersion, 25, 5)).P50;
        double l = effectiveMs / 1000.0;

        int c = z.ThrottleLimit;
        string pipe = $"Get-RdsUserSession Bulk {ArmPool} | Invoke-RdsUserSessionLogoff -NoUserPrompt";
        var specs = new List<ArmSpec>
        {
            new("a", "a. pipeline, paced", $"{pipe} -ThrottleLimit {c}", z.PacedHosts, z.PacedPerHost, z.PacedBurst, z.PacedPerSecond, true, c, c),
            new("b", "b. pipeline, -NoArmPacing", $"{pipe} -ThrottleLimit {c}", z.PacedHosts, z.PacedPerHost, z.PacedBurst, z.PacedPerSecond, false, c, c, FailuresExpected: true),
            new("c", "c. one at a time (-ThrottleLimit 1)", $"{pipe} -ThrottleLimit 1", z.OneHosts, z.OnePerHost, z.PacedBurst, z.PacedPerSecond, true, 1, 1),
            new("d", "d. scale, paced", $"{pipe} -ThrottleLimit {c}", z.ScaleHosts, z.ScalePerHost, z.ScaleBurst, z.ScalePerSecond, true, c, c),
            new("e1", "e1. foreach loop, one Invoke per session", LoopScript, z.ShapeHosts, z.ShapePerHost, z.PacedBurst, z.PacedPerSecond, true, 32, 1),
            new("e2", "e2. pipeline under $ErrorActionPreference='Stop'", $"$ErrorActionPreference = 'Stop'; {pipe}", z.ShapeHosts, z.ShapePerHost, z.PacedBurst, z.PacedPerSecond, true, 32, 1),
            new("e3", "e3. fix for e1: the loop collects, one pipe", CollectedLoopScript, z.ShapeHosts, z.ShapePerHost, z.PacedBurst, z.PacedPerSecond, true, 32, 32),
            new("e4", "e4. fix for e2: Invoke -ErrorAction Continue", $"$ErrorActionPreference = 'Stop'; {pipe} -ErrorAction Continue", z.ShapeHosts, z.ShapePerHost, z.PacedBurst, z.PacedPerSecond, true, 32, 32),
        };

        var runs = new List<ArmRun>();
        JsonObject? memory = null;
        foreach (ArmSpec spec in specs)
        {
            Console.WriteLine($"  ARM {spec.Label}: {spec.N:N0} sessions, deletes bucket {spec.Burst} + {spec.PerSecond}/s, latency {latency} ms ...");
            ArmRun run;
            if (spec.Key == "d")
            {
                (run, memory) = RunArmWithMemory(emu, rs, mapping, spec, l);
            }
            else
            {
                run = RunArm(emu, rs, mapping, spec, l);
            }

            runs.Add(run);
            Console.WriteLine($"    {run.Seconds:F2} s, {run.Rate:F1} sessions/s (floor {run.Floor:F2} s), {run.Throttled} 429s of {run.Requests} ARM requests, {run.Errors} errors");
        }

        emu.DefaultRateLimits();
        emu.SetLatency(0);
        EmitArm(runs, memory, latency, effectiveMs, pageSize, apiVersion, placement, clock.Elapsed.TotalSeconds);
    }

    private const string LoopScript =
        "foreach ($s in Get-RdsUserSession Bulk " + ArmPool + ") { Invoke-RdsUserSessionLogoff -TenantName Bulk -HostPoolName " + ArmPool +
        " -SessionHostName $s.SessionHostName -SessionId $s.SessionId -NoUserPrompt }";

    private const string CollectedLoopScript =
        "$todo = foreach ($s in Get-RdsUserSession Bulk " + ArmPool + ") { $s }; $todo | Invoke-RdsUserSessionLogoff -NoUserPrompt";

    /// <summary>The mapping of tenant Bulk, in the mapping file's shape, with the emulator as the ARM endpoint.</summary>
    private static Hashtable ArmMapping(string url, ArmPlacement placement)
    {
        var tenant = new Hashtable(StringComparer.OrdinalIgnoreCase)
        {
            ["SubscriptionId"] = placement.SubscriptionId,
            ["ResourceGroup"] = placement.ResourceGroup,
        };
        if (placement.ArmHostPoolName != ArmPool)
        {
            tenant["HostPools"] = new Hashtable { [ArmPool] = new Hashtable { ["Name"] = placement.ArmHostPoolName } };
        }

        return new Hashtable(StringComparer.OrdinalIgnoreCase)
        {
            ["ArmEndpoint"] = url,
            ["Tenants"] = new Hashtable(StringComparer.OrdinalIgnoreCase) { [EmulatorProcess.Tenant] = tenant },
        };
    }

    /// <summary>
    /// A fresh ARM sign-in (a new context, so a new pacer whose copy of the buckets starts full):
    /// Add-RdsAccount -DeploymentUrl &lt;emulator&gt; -AccessToken &lt;ARM token&gt; -ArmMapping @{...} [-NoArmPacing].
    /// </summary>
    private static void SignInArm(Runspace runspace, string url, Hashtable mapping, bool paced)
    {
        using var ps = PowerShell.Create(runspace);
        ps.AddCommand("Add-RdsAccount").AddParameter("DeploymentUrl", url).AddParameter("AccessToken", EmulatorProcess.ArmToken)
            .AddParameter("ArmMapping", mapping);
        if (!paced)
        {
            ps.AddParameter("NoArmPacing");
        }

        PSObject? context = ps.Invoke().FirstOrDefault();
        if (ps.Streams.Error.Count > 0 || context is null)
        {
            throw new InvalidOperationException("Add-RdsAccount (ARM) failed: " + ps.Streams.Error.FirstOrDefault());
        }

        if (context.Properties["ArmEndpoint"]?.Value is null)
        {
            throw new InvalidOperationException("Add-RdsAccount did not select the ARM flavour (the context has no ArmEndpoint).");
        }

        if (context.Properties["ArmPacing"]?.Value is bool pacing && pacing != paced)
        {
            throw new InvalidOperationException($"Add-RdsAccount: ArmPacing is {pacing}, expected {paced}.");
        }
    }

    /// <summary>A script in its own scope (so $ErrorActionPreference and variables do not outlive it), timed around Invoke.</summary>
    private static PipelineRun InvokeTimed(Runspace runspace, string script)
    {
        using var ps = PowerShell.Create(runspace);
        ps.AddScript(script, useLocalScope: true);
        long t0 = Stopwatch.GetTimestamp();
        string? thrown = null;
        try
        {
            ps.Invoke();
        }
        catch (RuntimeException e)
        {
            // -ErrorAction Stop: the first failure ends the script.
            thrown = e.Message;
        }

        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        int errors = ps.Streams.Error.Count + (thrown is null ? 0 : 1);
        return new PipelineRun(seconds, errors, thrown ?? ps.Streams.Error.FirstOrDefault()?.ToString());
    }

    /// <summary>Fresh pool, fresh sign-in, the bucket set (and refilled), activity cleared.</summary>
    private static void PrepareArm(EmulatorProcess emu, Runspace rs, Hashtable mapping, ArmSpec spec)
    {
        emu.Generate(spec.Hosts, spec.PerHost, ArmPool);
        SignInArm(rs, emu.Url, mapping, spec.Paced);
        emu.SetDeleteBucket(spec.Burst, spec.PerSecond);
        emu.ClearActivity();
    }

    private static ArmRun RunArm(EmulatorProcess emu, Runspace rs, Hashtable mapping, ArmSpec spec, double l)
    {
        PrepareArm(emu, rs, mapping, spec);
        Quiesce();
        DateTimeOffset start = DateTimeOffset.UtcNow;
        PipelineRun run = InvokeTimed(rs, spec.Script);
        return Measure(emu, spec, run, start, l);
    }

    /// <summary>(d): the run, with the working set before and after (settled, as section 4) and its peak.</summary>
    private static (ArmRun Run, JsonObject Memory) RunArmWithMemory(EmulatorProcess emu, Runspace rs, Hashtable mapping, ArmSpec spec, double l)
    {
        const double MB = 1024.0 * 1024.0;
        PrepareArm(emu, rs, mapping, spec);
        using var self = Process.GetCurrentProcess();
        long before = SettledWorkingSet(self);
        long managedBefore = GC.GetTotalMemory(false);
        DateTimeOffset start = DateTimeOffset.UtcNow;
        (PipelineRun pipeline, long peak) = WithPeakWorkingSet(before, () => InvokeTimed(rs, spec.Script), "ws-sampler-arm");
        long after = SettledWorkingSet(self);
        long managedAfter = GC.GetTotalMemory(false);
        ArmRun run = Measure(emu, spec, pipeline, start, l);
        double growth = (after - before) / MB;
        var memory = new JsonObject
        {
            ["workingSetBeforeMB"] = Math.Round(before / MB, 2),
            ["workingSetAfterMB"] = Math.Round(after / MB, 2),
            ["growthMB"] = Math.Round(growth, 2),
            ["peakDuringRunMB"] = Math.Round(peak / MB, 2),
            ["managedHeapBeforeMB"] = Math.Round(managedBefore / MB, 2),
            ["managedHeapAfterMB"] = Math.Round(managedAfter / MB, 2),
            ["goalMaxGrowthMB"] = 50,
            ["pass"] = growth <= 50,
        };
        return (run, memory);
    }

    /// <summary>What the emulator saw of the run: verification, ARM request and 429 counts, logoff times.</summary>
    private static ArmRun Measure(EmulatorProcess emu, ArmSpec spec, PipelineRun run, DateTimeOffset start, double l)
    {
        JsonNode activity = emu.Activity();
        RunCheck check = emu.Check(ArmPool, spec.N, activity);
        JsonNode? arm = activity["arm"];
        long Count(string what, string cls) => (long?)arm?[what]?[cls] ?? 0;
        long reads = Count("requests", "reads"), deletes = Count("requests", "deletes"), writes = Count("requests", "writes");
        long throttled = Count("throttled", "reads") + Count("throttled", "deletes") + Count("throttled", "writes");

        var times = activity["logoffs"]!.AsArray()
            .Where(r => (string?)r!["hostPool"] == ArmPool && (string?)r["flavour"] == "arm")
            .Select(r => (DateTimeOffset.Parse((string)r!["at"]!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) - start).TotalSeconds)
            .OrderBy(t => t)
            .ToArray();
        Timeline? timeline = null;
        if (times.Length > 0)
        {
            bool beyond = times.Length > spec.Burst;
            double? burstEnd = beyond ? times[spec.Burst - 1] : null;
            double? steady = beyond && times[^1] > times[spec.Burst - 1]
                ? (times.Length - spec.Burst) / (times[^1] - times[spec.Burst - 1])
                : null;
            var perSecond = new int[(int)Math.Floor(Math.Max(0, times[^1])) + 1];
            foreach (double t in times)
            {
                perSecond[Math.Clamp((int)Math.Floor(t), 0, perSecond.Length - 1)]++;
            }

            timeline = new Timeline(times[0], times[^1], burstEnd, steady, perSecond);
        }

        // The lower bound no client can beat: the list pages one after another (R reads), then
        // the deletes, limited by the bucket (the k-th admitted no earlier than (k - B)/r after
        // the first, which itself is L after it was sent) and by the concurrency (ceil(N/C) rounds of L).
        // N counts the sessions logged off: a run whose last logoffs gave up (b) had fewer to pace.
        int n = check.LoggedOffOnce > 0 ? Math.Min(spec.N, check.LoggedOffOnce) : spec.N;
        double bucketBound = l + Math.Max(0, (n - spec.Burst) / (double)spec.PerSecond);
        double concurrencyBound = Math.Ceiling(n / (double)spec.Concurrency) * l;
        double floor = reads * l + Math.Max(bucketBound, concurrencyBound);
        return new ArmRun(spec, run.Seconds, run.Errors, run.FirstError, check, reads, deletes, reads + deletes + writes,
            throttled, Count("throttled", "deletes"), floor, timeline);
    }

    /// <summary>
    /// Verified: every session logged off exactly once, none left, no error. For the unpaced run
    /// (b), logoffs that failed after their retries were used up are the measurement, not a
    /// benchmark failure, as long as no session was logged off twice and each failure is a session left.
    /// </summary>
    private static string ArmVerified(ArmRun run)
    {
        RunCheck check = run.Check;
        int n = run.Spec.N;
        bool ok = check.Ok && run.Errors == 0;
        bool consistentFailures = run.Spec.FailuresExpected && check.MoreThanOnce == 0
            && check.LoggedOffOnce + check.Left == n && run.Errors == check.Left;
        if (ok)
        {
            return $"{check.LoggedOffOnce}/{n} ok";
        }

        if (consistentFailures)
        {
            return $"{check.LoggedOffOnce}/{n} ok, {check.Left} failed";
        }

        s_allVerified = false;
        Console.WriteLine($"  !! ARM run {run.Spec.Key} not verified: {n} expected, {check.Targeted} targeted, {check.LoggedOffOnce} logged off exactly once, " +
            $"{check.MoreThanOnce} more than once, {check.Left} left, {run.Errors} errors; first error: {run.FirstError}");
        return $"FAIL ({check.LoggedOffOnce}/{n}, {check.MoreThanOnce} twice+, {check.Left} left, {run.Errors} err)";
    }

    /// <summary>GET of one user session over loopback from HttpClient with the ARM token: ms per request after the warm-up.</summary>
    private static double[] TimeRawArmGets(EmulatorProcess emu, ArmPlacement placement, string apiVersion, int count, int warm)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) });
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", EmulatorProcess.ArmToken);
        string url = $"{emu.Url}{placement.Id}/sessionhosts/host-0001.bulk.test/usersessions/1?api-version={apiVersion}";
        int failures = 0;
        double[] times = TimeEach(Enumerable.Range(0, count).ToList(), warm, _ => { },
            () =>
            {
                using HttpResponseMessage response = http.GetAsync(url).GetAwaiter().GetResult();
                response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
                if (!response.IsSuccessStatusCode)
                {
                    failures++;
                }
            });
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} raw ARM GETs of {url} failed.");
        }

        return times;
    }

    private static void EmitArm(List<ArmRun> runs, JsonObject? memory, int latency, double effectiveMs, int pageSize, string apiVersion,
        ArmPlacement placement, double sectionSeconds)
    {
        ArmRun Get(string key) => runs.Single(r => r.Spec.Key == key);
        ArmRun a = Get("a"), b = Get("b"), one = Get("c"), d = Get("d");
        double oneRate = one.Rate;

        var table = new Table($"5. ARM flavour: logoffs through Azure Resource Manager, latency {latency} ms (one request measured: {effectiveMs:F1} ms)",
            "run", "N", "ThrottleLimit", "deletes bucket", "seconds", "sessions/s", "vs one at a time", "floor s", "seconds/floor",
            "ARM requests", "429s", "429 %", "maxInFlight", "verified");
        var rows = new JsonArray();
        foreach (ArmRun r in runs)
        {
            string verified = ArmVerified(r);
            table.Row(r.Spec.Label, r.Spec.N, r.Spec.Concurrency == r.Spec.ThrottleLimit ? r.Spec.ThrottleLimit.ToString(Fmt.C) : $"{r.Spec.ThrottleLimit} (1 in effect)",
                $"{r.Spec.Burst} + {r.Spec.PerSecond}/s", Fmt.F(r.Seconds, 2), Fmt.F(r.Rate, 1), Fmt.F(r.Rate / oneRate, 2) + "x",
                Fmt.F(r.Floor, 2), Fmt.F(r.Seconds / r.Floor, 3) + "x", r.Requests, r.Throttled, Fmt.F(r.ThrottledPercent, 2),
                r.Check.MaxInFlight, verified);
            var row = CheckJson(r.Check, new PipelineRun(r.Seconds, r.Errors, r.FirstError));
            row["verified"] = verified.EndsWith(" ok", StringComparison.Ordinal);
            row["key"] = r.Spec.Key;
            row["label"] = r.Spec.Label;
            row["command"] = r.Spec.Script;
            row["sessions"] = r.Spec.N;
            row["throttleLimit"] = r.Spec.ThrottleLimit;
            row["effectiveConcurrency"] = r.Spec.Concurrency;
            row["paced"] = r.Spec.Paced;
            row["deletesBucket"] = new JsonObject { ["burst"] = r.Spec.Burst, ["perSecond"] = r.Spec.PerSecond };
            row["seconds"] = Math.Round(r.Seconds, 3);
            row["sessionsPerSecond"] = Math.Round(r.Rate, 2);
            row["ratioToOneAtATime"] = Math.Round(r.Rate / oneRate, 3);
            row["floorSeconds"] = Math.Round(r.Floor, 3);
            row["secondsOverFloor"] = Math.Round(r.Seconds / r.Floor, 4);
            row["armReads"] = r.Reads;
            row["armDeletes"] = r.Deletes;
            row["armRequests"] = r.Requests;
            row["throttled429"] = r.Throttled;
            row["throttled429Deletes"] = r.DeletesThrottled;
            row["throttledPercent"] = Math.Round(r.ThrottledPercent, 3);
            row["sessionsLoggedOffMoreThanOnce"] = r.Check.MoreThanOnce;
            row["firstError"] = r.FirstError;
            if (r.Timeline is Timeline t)
            {
                row["timeline"] = new JsonObject
                {
                    ["firstLogoffS"] = Math.Round(t.FirstS, 3),
                    ["lastLogoffS"] = Math.Round(t.LastS, 3),
                    ["burstSpentAtS"] = t.BurstEndS is double e ? Math.Round(e, 3) : null,
                    ["steadyLogoffsPerSecondAfterBurst"] = t.SteadyRate is double s ? Math.Round(s, 3) : null,
                    ["logoffsPerSecond"] = new JsonArray(t.PerSecond.Select(x => (JsonNode)x).ToArray()),
                };
            }

            if (r.Spec.Key == "d" && memory is not null)
            {
                row["memory"] = memory;
            }

            rows.Add(row);
        }

        double aRatio = a.Seconds / a.Floor;
        bool aTimePass = aRatio <= 1.05, a429Pass = a.ThrottledPercent <= 1.0;
        double growth = memory is null ? double.NaN : (double)memory["growthMB"]!;
        bool memPass = growth <= 50;
        table.Notes.Add($"Signed in with Add-RdsAccount -DeploymentUrl <emulator> -AccessToken 'rds-emulator-arm-token' -ArmMapping @{{ ArmEndpoint = <emulator>; Tenants = @{{ Bulk = @{{ SubscriptionId = '{placement.SubscriptionId}'; ResourceGroup = '{placement.ResourceGroup}' }} }} }} " +
                        "(plus -NoArmPacing for b), afresh before every run (a new context: the pacer's copy of the bucket starts full); the emulator's buckets are set and refilled before every run (PUT /_emulator/arm/ratelimits; reads at the default 250 + 25/s).");
        table.Notes.Add($"Commands: a, b, d: Get-RdsUserSession Bulk {ArmPool} | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit {s_arm.ThrottleLimit}; c: the same with -ThrottleLimit 1; e1: {LoopScript}; " +
                        $"e2: $ErrorActionPreference = 'Stop'; Get-RdsUserSession Bulk {ArmPool} | Invoke-RdsUserSessionLogoff -NoUserPrompt; e3: {CollectedLoopScript}; e4: e2 with -ErrorAction Continue on Invoke-RdsUserSessionLogoff.");
        table.Notes.Add($"Floor = R*L + max(L + max(0, (N - B)/r), ceil(N/C)*L): R = the run's ARM reads (the session list's pages, {pageSize} sessions each, one after another), L = {effectiveMs:F1} ms " +
                        $"(one ARM GET from HttpClient at {latency} ms injected, p50), N = the sessions logged off, B/r = the deletes bucket, C = the requests that can be in flight (1 for e1 and e2). A lower bound no client can beat.");
        table.Notes.Add("429s: the emulator's activity counters (GET /_emulator/activity: arm.requests and arm.throttled per operation class); ARM requests = reads + deletes of the run, retries included. " +
                        "Verified from callsPerSession (each session's logoff reached the broker exactly once) and the state (none left); for b a logoff that failed after its retries is counted as failed, not as a benchmark error.");
        if (a.Timeline is Timeline at)
        {
            table.Notes.Add($"a in time: first logoff at {at.FirstS:F2} s (list: {a.Reads} reads), burst of {a.Spec.Burst} spent at {Fmt.F(at.BurstEndS ?? double.NaN, 2)} s, last logoff at {at.LastS:F2} s; " +
                            $"after the burst {Fmt.F(at.SteadyRate ?? double.NaN, 2)} logoffs/s against a refill of {a.Spec.PerSecond}/s; span first to last {at.LastS - at.FirstS:F2} s against (N - B)/r = {(a.Spec.N - a.Spec.Burst) / (double)a.Spec.PerSecond:F2} s.");
        }

        if (b.Timeline is Timeline bt)
        {
            table.Notes.Add($"b in time: last logoff at {bt.LastS:F2} s; after the burst {Fmt.F(bt.SteadyRate ?? double.NaN, 2)} logoffs/s; {b.DeletesThrottled} of {b.Deletes} deletes answered 429; " +
                            $"{b.Check.Left} sessions left after their retries{(b.FirstError is null ? string.Empty : "; first error: " + Trim(b.FirstError, 200))}.");
        }

        table.Notes.Add($"Ratios: a is {a.Rate / oneRate:F2}x one at a time (c), b is {b.Rate / oneRate:F2}x; a takes {a.Seconds / b.Seconds:F2}x the seconds of b with {a.Throttled} 429s against {b.Throttled}.");
        if (s_arm == ArmSizes.Quick)
        {
            table.Notes.Add($"--quick: a and b run {a.Spec.N} sessions against a {a.Spec.Burst}-token bucket (the full run: 1,000 against 200), d {d.Spec.N:N0} sessions; the goals are set for the full run.");
        }

        table.Notes.Add($"Goal: a within 1.05x of its floor ............ {a.Seconds:F2} s / {a.Floor:F2} s = {aRatio:F3}x  {Fmt.Verdict(aTimePass)}");
        table.Notes.Add($"Goal: a 429 answers <= 1 % of requests ...... {a.Throttled}/{a.Requests} = {a.ThrottledPercent:F2} %  {Fmt.Verdict(a429Pass)}");
        table.Notes.Add($"Goal: d working-set growth <= 50 MB ......... {Fmt.F(growth, 1)} MB  {Fmt.Verdict(memPass)}");
        EmitArmTable(table);

        if (memory is not null)
        {
            var mem = new Table($"5b. ARM scale run: {d.Spec.N:N0} sessions, deletes bucket {d.Spec.Burst} + {d.Spec.PerSecond}/s (MB)", "measurement", "MB");
            mem.Row("working set before (after full GC + 0.5 s settle)", Fmt.F((double)memory["workingSetBeforeMB"]!, 1));
            mem.Row("working set after (after full GC + 0.5 s settle)", Fmt.F((double)memory["workingSetAfterMB"]!, 1));
            mem.Row("growth", Fmt.F(growth, 1));
            mem.Row("peak working set during the run (sampled every 20 ms)", Fmt.F((double)memory["peakDuringRunMB"]!, 1));
            mem.Row("managed heap before / after", $"{Fmt.F((double)memory["managedHeapBeforeMB"]!, 1)} / {Fmt.F((double)memory["managedHeapAfterMB"]!, 1)}");
            mem.Notes.Add($"{d.Seconds:F2} s, {d.Rate:F1} sessions/s (floor {d.Floor:F2} s: {d.Reads} list pages at {effectiveMs:F1} ms, then (N - B)/r = {(d.Spec.N - d.Spec.Burst) / (double)d.Spec.PerSecond:F1} s), " +
                          $"{d.Throttled} 429s of {d.Requests} requests, verified: {ArmVerifiedText(d)}.");
            if (d.Timeline is Timeline dt)
            {
                mem.Notes.Add($"First logoff at {dt.FirstS:F2} s, last at {dt.LastS:F2} s; after the burst {Fmt.F(dt.SteadyRate ?? double.NaN, 1)} logoffs/s against a refill of {d.Spec.PerSecond}/s.");
            }

            mem.Notes.Add($"Goal: growth <= 50 MB ............ {Fmt.F(growth, 1)} MB  {Fmt.Verdict(memPass)}");
            EmitArmTable(mem);
        }

        s_json["arm"] = new JsonObject
        {
            ["mode"] = s_cfg.Mode,
            ["latencyMs"] = latency,
            ["effectiveRequestMsHttpClientP50"] = Math.Round(effectiveMs, 3),
            ["pageSize"] = pageSize,
            ["apiVersion"] = apiVersion,
            ["subscriptionId"] = placement.SubscriptionId,
            ["resourceGroup"] = placement.ResourceGroup,
            ["floorFormula"] = "R*L + max(L + max(0, (N - B)/r), ceil(N/C)*L)",
            ["runs"] = rows,
            ["goals"] = new JsonObject
            {
                ["pacedSecondsOverFloor"] = Math.Round(aRatio, 4),
                ["pacedSecondsOverFloorMax"] = 1.05,
                ["pacedTimePass"] = aTimePass,
                ["pacedThrottledPercent"] = Math.Round(a.ThrottledPercent, 3),
                ["pacedThrottledPercentMax"] = 1.0,
                ["paced429Pass"] = a429Pass,
                ["scaleGrowthMB"] = double.IsNaN(growth) ? null : Math.Round(growth, 2),
                ["scaleGrowthMaxMB"] = 50,
                ["scaleMemoryPass"] = memPass,
            },
            ["sectionSeconds"] = Math.Round(sectionSeconds, 1),
        };
    }

    private static string ArmVerifiedText(ArmRun run) =>
        run.Check.Ok && run.Errors == 0 ? $"{run.Check.LoggedOffOnce}/{run.Spec.N} ok" : $"NOT verified ({run.Check.LoggedOffOnce}/{run.Spec.N}, {run.Check.Left} left)";

    private static string Trim(string text, int max)
    {
        string one = text.ReplaceLineEndings(" ");
        return one.Length <= max ? one : one[..max] + "...";
    }

    #endregion
}
