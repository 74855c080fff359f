using System;
using System.Linq;
using System.Net.Http;
using System.Text.Json.Nodes;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>The real cmdlet through a broker that injects 20 % faults of every kind.</summary>
[Collection("Engine")]
public sealed class FaultToleranceTests : IDisposable
{
    private readonly Emulator _emulator;

    public FaultToleranceTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
    }

    public void Dispose() => _emulator.ClearFaults();

    [Fact]
    public void Every_session_is_logged_off_exactly_once_and_retries_are_reported()
    {
        _emulator.Admin(HttpMethod.Post, "/_emulator/generate", "{\"tenantGroup\":\"Default Tenant Group\",\"tenant\":\"Bulk\",\"hostPool\":\"Pool-Bulk\",\"hosts\":6,\"sessionsPerHost\":50,\"firstSessionId\":1}");
        _emulator.SetFaults("{\"seed\":7,\"rate\":0.2,\"kinds\":{\"throttle\":1,\"serverError\":1,\"reset\":1,\"stall\":1,\"malformed\":1,\"appliedLost\":1},\"retryAfterSeconds\":1,\"stallMs\":300,\"routes\":[\"logoffUser\"]}");
        using var engine = new Engine().SignIn(_emulator);
        // At a 20 % fault rate the default 4 retries leave about one chance in ten that one of
        // 300 sessions meets five faults in a row (0.2^5 each); with 8 it is 0.2^9 each, as in
        // the Rust fault matrix. A nightly run over a flaky network would raise it the same way.
        Assert.Empty(engine.Run("Set-RdsContext -MaximumRetryCount 8 -RetryIntervalSec 0.1").Errors);
        var r = engine.Run("Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru -Verbose");
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Take(3)));
        Assert.Equal(300, r.Output.Count);
        Assert.DoesNotContain(_emulator.SessionsLeft(), s => s.StartsWith("Bulk/", StringComparison.Ordinal));

        var activity = _emulator.AdminJson("/_emulator/activity");
        var logoffs = activity["logoffs"]!.AsArray().Select(l => $"{l!["sessionHost"]}/{l["sessionId"]}").ToList();
        Assert.Equal(300, logoffs.Count);
        Assert.Equal(300, logoffs.Distinct().Count()); // nobody logged off twice

        var stats = _emulator.AdminJson("/_emulator/faults/stats");
        var faults = stats["faults"]!.AsObject();
        Assert.True(faults.Sum(f => (int)f.Value!) >= 30, stats.ToJsonString());
        var verbose = r.PowerShell.Streams.Verbose.Select(v => v.Message).ToList();
        Assert.Contains(verbose, v => v.Contains("throttled (HTTP 429); retrying in", StringComparison.Ordinal));
        Assert.Contains(verbose, v => v.Contains("counted as logged off", StringComparison.Ordinal) || v.Contains("the connection failed", StringComparison.Ordinal));
    }
}
