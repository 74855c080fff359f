using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json.Nodes;
using RdsSessions.Tooling;

namespace RdsSessions.Benchmark;

/// <summary>
/// The project's broker emulator as a child process on 127.0.0.1 (random port), started by the
/// shared launcher (module/tools/Shared/EmulatorLauncher.cs, also used by the xunit tests), with
/// the admin routes the benchmark needs. It is started with --exit-on-stdin-eof, so it also dies
/// when this process dies, however that happens.
/// </summary>
internal sealed class EmulatorProcess : IDisposable
{
    public const string Token = EmulatorLauncher.DefaultToken;
    public const string TenantGroup = "Default Tenant Group";
    public const string Tenant = "Bulk";
    public const string HostPool = "Pool-Bulk";

    /// <summary>The emulator's static ARM token (its default; principal 88888888-8888-8888-8888-888888888888).</summary>
    public const string ArmToken = "rds-emulator-arm-token";

    private readonly EmulatorLauncher _launcher;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(2) };
    private bool _disposed;

    public EmulatorProcess(string path)
    {
        // Only the last stderr lines are kept: a run logs one per request, and this process's
        // memory growth is one of the measurements.
        _launcher = new EmulatorLauncher(path, new EmulatorLaunchOptions { Token = Token, RetainLines = 20 });
        Url = _launcher.Url;
    }

    public string Url { get; }

    public int ProcessId => _launcher.ProcessId;

    public long StdErrLines => _launcher.StdErrLineCount;

    public string StdErrTail() => string.Join("\n", _launcher.StdErr());

    private void Send(HttpMethod method, string route, string? json)
    {
        using var request = new HttpRequestMessage(method, Url + route);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = _http.Send(request);
        if (!response.IsSuccessStatusCode)
        {
            string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            throw new InvalidOperationException($"{method} {route} failed: {(int)response.StatusCode} {body}");
        }
    }

    private JsonNode Get(string route) =>
        JsonNode.Parse(_http.GetStringAsync(Url + route).GetAwaiter().GetResult())!;

    /// <summary>Creates (or re-creates: an existing pool of that name is replaced) hosts × perHost sessions, ids 1.. per host.</summary>
    public void Generate(int hosts, int perHost, string hostPool = HostPool) =>
        Send(HttpMethod.Post, "/_emulator/generate", string.Create(CultureInfo.InvariantCulture,
            $"{{\"tenantGroup\":\"{TenantGroup}\",\"tenant\":\"{Tenant}\",\"hostPool\":\"{hostPool}\",\"hosts\":{hosts},\"sessionsPerHost\":{perHost},\"firstSessionId\":1}}"));

    public void SetLatency(int fixedMs) =>
        Send(HttpMethod.Put, "/_emulator/latency", string.Create(CultureInfo.InvariantCulture, $"{{\"fixedMs\":{fixedMs},\"jitterMs\":0}}"));

    public void RequestLog(bool on) =>
        Send(HttpMethod.Put, "/_emulator/settings", on ? "{\"requestLog\":true}" : "{\"requestLog\":false}");

    public void ClearActivity() => Send(HttpMethod.Delete, "/_emulator/activity", null);

    public JsonNode Activity() => Get("/_emulator/activity");

    public JsonNode State() => Get("/_emulator/state");

    /// <summary>Sessions left in a pool of tenant Bulk (from GET /_emulator/state).</summary>
    public int SessionsLeft(string hostPool = HostPool)
    {
        int left = 0;
        foreach (var tg in State()["tenantGroups"]!.AsArray())
        foreach (var t in tg!["tenants"]!.AsArray())
        {
            if ((string?)t!["name"] != Tenant)
            {
                continue;
            }

            foreach (var hp in t["hostPools"]!.AsArray())
            {
                if ((string?)hp!["name"] != hostPool)
                {
                    continue;
                }

                foreach (var sh in hp["sessionHosts"]!.AsArray())
                {
                    left += sh!["sessions"]!.AsArray().Count;
                }
            }
        }

        return left;
    }

    /// <summary>
    /// Sets ARM's rate limits: the deletes bucket as given, every other field at its default
    /// (PUT /_emulator/arm/ratelimits); every bucket is refilled.
    /// </summary>
    public void SetDeleteBucket(int burst, int perSecond) =>
        Send(HttpMethod.Put, "/_emulator/arm/ratelimits", string.Create(CultureInfo.InvariantCulture,
            $"{{\"deletes\":{{\"burst\":{burst},\"perSecond\":{perSecond}}}}}"));

    /// <summary>Restores ARM's default rate limits (DELETE /_emulator/arm/ratelimits).</summary>
    public void DefaultRateLimits() => Send(HttpMethod.Delete, "/_emulator/arm/ratelimits", null);

    /// <summary>The ARM settings in force (GET /_emulator/arm): api-versions, page size, rate limits.</summary>
    public JsonNode ArmSettings() => Get("/_emulator/arm");

    /// <summary>Where a pool of tenant Bulk is under ARM (GET /_emulator/arm/hostPools).</summary>
    public ArmPlacement ArmPlacementOf(string hostPool)
    {
        foreach (var p in Get("/_emulator/arm/hostPools").AsArray())
        {
            if ((string?)p!["tenant"] == Tenant && (string?)p["hostPool"] == hostPool)
            {
                return new ArmPlacement((string)p["subscriptionId"]!, (string)p["resourceGroup"]!, (string)p["armHostPoolName"]!, (string)p["id"]!);
            }
        }

        throw new InvalidOperationException($"The emulator has no ARM placement for {Tenant}/{hostPool}.");
    }

    /// <summary>What the activity record says about one run on a pool: how often sessions were targeted, and the most requests in flight.</summary>
    public RunCheck Check(string hostPool, int expected, JsonNode? activity = null)
    {
        activity ??= Activity();
        var calls = activity["callsPerSession"]!.AsArray()
            .Where(c => (string?)c!["tenant"] == Tenant && (string?)c["hostPool"] == hostPool)
            .ToList();
        int exactlyOnce = calls.Count(c => (long?)c!["logoff"] == 1);
        int left = SessionsLeft(hostPool);
        return new RunCheck(
            Targeted: calls.Count,
            LoggedOffOnce: exactlyOnce,
            Left: left,
            MaxInFlight: (int)activity["maxInFlight"]!,
            BrokerRequests: (long)activity["brokerRequests"]!,
            Ok: calls.Count == expected && exactlyOnce == expected && left == 0)
        {
            MoreThanOnce = calls.Count(c => (long?)c!["logoff"] > 1),
        };
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _launcher.Dispose();
        _http.Dispose();
    }
}

internal sealed record RunCheck(int Targeted, int LoggedOffOnce, int Left, int MaxInFlight, long BrokerRequests, bool Ok)
{
    /// <summary>Sessions whose logoff reached the broker more than once.</summary>
    public int MoreThanOnce { get; init; }
}

/// <summary>A host pool's ARM coordinates in the emulator.</summary>
internal sealed record ArmPlacement(string SubscriptionId, string ResourceGroup, string ArmHostPoolName, string Id);
