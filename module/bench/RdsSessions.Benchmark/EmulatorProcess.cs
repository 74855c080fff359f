using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json.Nodes;

namespace RdsSessions.Benchmark;

/// <summary>
/// The project's broker emulator as a child process on 127.0.0.1 (random port), with the admin
/// routes the benchmark needs. It is started with --exit-on-stdin-eof, so it also dies when this
/// process dies, however that happens.
/// </summary>
internal sealed class EmulatorProcess : IDisposable
{
    public const string Token = "rds-emulator-token";
    public const string TenantGroup = "Default Tenant Group";
    public const string Tenant = "Bulk";
    public const string HostPool = "Pool-Bulk";

    private readonly Process _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(2) };
    private readonly Queue<string> _stderrTail = new();
    private long _stderrLines;
    private bool _disposed;

    public EmulatorProcess(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The emulator binary {path} does not exist; build first: bash scripts/build.sh");
        }

        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            // The emulator writes one stderr line per request; drain it (a full pipe would stall it).
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--port");
        psi.ArgumentList.Add("0");
        psi.ArgumentList.Add("--exit-on-stdin-eof");
        _process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start " + path);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_stderrTail)
            {
                _stderrLines++;
                _stderrTail.Enqueue(e.Data);
                while (_stderrTail.Count > 20)
                {
                    _stderrTail.Dequeue();
                }
            }
        };
        _process.BeginErrorReadLine();

        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result is null
            || line.Result.IndexOf("http://", StringComparison.Ordinal) < 0)
        {
            Kill();
            throw new InvalidOperationException("The emulator did not report its URL. stderr: " + StdErrTail());
        }

        // "RDS broker emulator listening on http://127.0.0.1:PORT"
        Url = line.Result.Substring(line.Result.IndexOf("http://", StringComparison.Ordinal)).Trim();
    }

    public string Url { get; }

    public int ProcessId => _process.Id;

    public long StdErrLines
    {
        get { lock (_stderrTail) return _stderrLines; }
    }

    public string StdErrTail()
    {
        lock (_stderrTail)
        {
            return string.Join("\n", _stderrTail);
        }
    }

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

    /// <summary>What the activity record says about one run on a pool: how often sessions were targeted, and the most requests in flight.</summary>
    public RunCheck Check(string hostPool, int expected)
    {
        JsonNode activity = Activity();
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
            Ok: calls.Count == expected && exactlyOnce == expected && left == 0);
    }

    private void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            // --exit-on-stdin-eof: closing stdin stops it; kill only if it does not stop in time.
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _http.Dispose();
    }
}

internal sealed record RunCheck(int Targeted, int LoggedOffOnce, int Left, int MaxInFlight, long BrokerRequests, bool Ok);
