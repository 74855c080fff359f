using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Net.Http;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>The session family on the classic broker.</summary>
public sealed class SessionFamilyOnClassicTests : SessionFamilyTests
{
    public SessionFamilyOnClassicTests(EmulatorFixture fixture)
        : base(fixture, Flavour.Classic)
    {
    }
}

/// <summary>The session family on Azure Resource Manager, through a mapping.</summary>
public sealed class SessionFamilyOnArmTests : SessionFamilyTests
{
    public SessionFamilyOnArmTests(EmulatorFixture fixture)
        : base(fixture, Flavour.Arm)
    {
    }
}

/// <summary>
/// Get-RdsUserSession, Send-RdsUserSessionMessage, Disconnect-RdsUserSession, and the concurrent
/// pipeline, on both backends (one subclass each).
/// </summary>
[Collection("Engine")]
public abstract class SessionFamilyTests : IDisposable
{
    private readonly Emulator _emulator;
    private readonly Engine _engine;
    private static readonly HttpClient Http = new();

    protected SessionFamilyTests(EmulatorFixture fixture, Flavour flavour)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
        SetLatency(0, 0);
        if (flavour == Flavour.Arm)
        {
            // The generated pool Bulk/Pool-Bulk the tests add must be in the mapping too.
            Generate(hosts: 1, perHost: 1);
            _engine = new Engine().SignIn(_emulator, flavour);
            _emulator.SetState(Seed.Default());
            // Buckets far larger than ARM's: these tests are about concurrency, not throttling
            // (the pacing tests and the benchmark use ARM's own). The headers still count down.
            _emulator.Admin(HttpMethod.Put, "/_emulator/arm/ratelimits",
                """{"reads": {"burst": 1000000, "perSecond": 1000000}, "deletes": {"burst": 1000000, "perSecond": 1000000}, "writes": {"burst": 1000000, "perSecond": 1000000}}""");
        }
        else
        {
            _engine = new Engine().SignIn(_emulator);
        }
    }

    public void Dispose()
    {
        SetLatency(0, 0);
        _engine.Dispose();
    }

    private void SetLatency(int fixedMs, int jitterMs)
    {
        using var content = new StringContent($"{{\"fixedMs\":{fixedMs},\"jitterMs\":{jitterMs},\"seed\":7}}", Encoding.UTF8, "application/json");
        Assert.True(Http.PutAsync(_emulator.Url + "/_emulator/latency", content).GetAwaiter().GetResult().IsSuccessStatusCode);
    }

    private JsonNode Activity() => JsonNode.Parse(Http.GetStringAsync(_emulator.Url + "/_emulator/activity").GetAwaiter().GetResult())!;

    /// <summary>Adds host pool "Pool-Bulk" of tenant "Bulk" with hosts × perHost sessions (ids 1..).</summary>
    private void Generate(int hosts, int perHost)
    {
        string body = $"{{\"tenantGroup\":\"Default Tenant Group\",\"tenant\":\"Bulk\",\"hostPool\":\"Pool-Bulk\",\"hosts\":{hosts},\"sessionsPerHost\":{perHost},\"firstSessionId\":1}}";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = Http.PostAsync(_emulator.Url + "/_emulator/generate", content).GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, response.ToString());
    }

    private int BulkLeft() => _emulator.SessionsLeft().Count(s => s.StartsWith("Bulk/", StringComparison.Ordinal));

    [Fact]
    public void Get_RdsUserSession_returns_the_original_properties_with_their_types()
    {
        var r = _engine.Run("Get-RdsUserSession Contoso Pool1");
        Assert.Empty(r.Errors);
        Assert.Equal(6, r.Output.Count);
        PSObject first = r.Output[0];
        var expected = new (string Name, Type Type)[]
        {
            ("TenantGroupName", typeof(string)), ("TenantName", typeof(string)), ("HostPoolName", typeof(string)),
            ("SessionHostName", typeof(string)), ("SessionId", typeof(int)), ("UserPrincipalName", typeof(string)),
            ("AdUserName", typeof(string)), ("SessionState", typeof(string)), ("ApplicationType", typeof(string)),
            ("CreateTime", typeof(DateTime)),
        };
        foreach (var (name, type) in expected)
        {
            var value = first.Properties[name]?.Value;
            Assert.True(value is not null, name);
            Assert.IsType(type, value);
        }

        Assert.Equal("Default Tenant Group", first.Properties["TenantGroupName"].Value);
        Assert.Equal(17, first.Properties["SessionId"].Value);
        Assert.Equal("user17@contoso.com", first.Properties["UserPrincipalName"].Value);
        Assert.Equal("Microsoft.RDInfra.RDManagementData.RdMgmtUserSession", first.TypeNames[0]);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero).LocalDateTime, first.Properties["CreateTime"].Value);
        Assert.Equal(DateTimeKind.Local, ((DateTime)first.Properties["CreateTime"].Value).Kind);
    }

    [Fact]
    public void Objects_with_TenantName_and_HostPoolName_pipe_into_Get_RdsUserSession()
    {
        var r = _engine.Run("[pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1' } | Get-RdsUserSession | ForEach-Object SessionId");
        Assert.Equal(new object[] { 17, 18, 19, 20, 21, 30 }, r.Output.Select(o => o.BaseObject).ToArray());
    }

    [Fact]
    public void An_unknown_host_pool_is_a_non_terminating_error()
    {
        var r = _engine.Run("Get-RdsUserSession Contoso Nope; 'after'");
        Assert.Equal("after", Assert.Single(r.Output).BaseObject);
        Assert.Equal("HostPoolNotFound,RdsSessions.Commands.GetRdsUserSessionCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Theory]
    [InlineData("Where-Object SessionHostName -eq 'sh2.contoso.com'", new[] { "Contoso/Pool1/sh2.contoso.com/20", "Contoso/Pool1/sh2.contoso.com/21" })]
    [InlineData("Where-Object UserPrincipalName -eq 'user18@contoso.com'", new[] { "Contoso/Pool1/sh1.contoso.com/18" })]
    [InlineData("Where-Object { $_.SessionState -eq 'Disconnected' -and $_.SessionHostName -ne 'stale1.contoso.com' }", new[] { "Contoso/Pool1/sh1.contoso.com/18", "Contoso/Pool1/sh2.contoso.com/20" })]
    [InlineData("Where-Object { $_.CreateTime -lt [datetime]'2026-11-10' }", new[] { "Contoso/Pool1/sh1.contoso.com/17", "Contoso/Pool1/sh1.contoso.com/18" })]
    public void Filter_then_pipe_logs_off_exactly_the_filtered_sessions(string filter, string[] gone)
    {
        var r = _engine.Run($"Get-RdsUserSession Contoso Pool1 | {filter} | Invoke-RdsUserSessionLogoff -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(gone), _emulator.SessionsLeft());
    }

    [Fact]
    public void Send_RdsUserSessionMessage_is_recorded_by_the_broker()
    {
        const string title = "Maintenance at 22:00 & 100% sure";
        const string body = "Please save your work.\nZoë 東京 + you";
        var r = _engine.Run("Get-RdsUserSession Contoso Pool1 | Where-Object SessionHostName -eq 'sh2.contoso.com' | Send-RdsUserSessionMessage -MessageTitle $args[0] -MessageBody $args[1] -NoUserPrompt -PassThru",
            title, body);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "MessageSent", "MessageSent" }, r.Output.Select(o => (string)o.Properties["Status"].Value));
        var messages = Activity()["messages"]!.AsArray();
        Assert.Equal(2, messages.Count);
        Assert.All(messages, m =>
        {
            Assert.Equal(title, (string?)m!["title"]);
            Assert.Equal(body, (string?)m["body"]);
            Assert.Equal("sh2.contoso.com", (string?)m["sessionHost"]);
        });
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft()); // messages log nobody off
    }

    [Fact]
    public void Positional_message_title_and_body()
    {
        var r = _engine.Run("Send-RdsUserSessionMessage Contoso Pool1 sh1.contoso.com 17 'Title' 'Body' -NoUserPrompt");
        Assert.Empty(r.Errors);
        var message = Assert.Single(Activity()["messages"]!.AsArray());
        Assert.Equal("Title", (string?)message!["title"]);
        Assert.Equal(17, (int?)message["sessionId"]);
    }

    [Fact]
    public void Disconnect_RdsUserSession_changes_the_state_and_prompts_like_logoff()
    {
        _engine.Host.TestUI.Answers.Enqueue(TestUI.Yes);
        var r = _engine.Run("Disconnect-RdsUserSession Contoso Pool1 sh1.contoso.com 17");
        Assert.Empty(r.Errors);
        Assert.Contains("Disconnect the user of session 17", Assert.Single(_engine.Host.TestUI.Prompts).Message);
        var listed = _engine.Run("Get-RdsUserSession Contoso Pool1 | Where-Object SessionId -eq 17 | ForEach-Object SessionState");
        Assert.Equal("Disconnected", Assert.Single(listed.Output).BaseObject);
        Assert.Single(Activity()["disconnects"]!.AsArray());
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
    }

    [Fact]
    public void Five_hundred_sessions_are_logged_off_concurrently_each_exactly_once()
    {
        Generate(hosts: 10, perHost: 50);
        SetLatency(20, 10);
        var watch = Stopwatch.StartNew();
        var r = _engine.Run("Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 32 -PassThru");
        watch.Stop();
        Assert.Empty(r.Errors);
        Assert.Equal(500, r.Output.Count);
        Assert.Equal(0, BulkLeft());
        var activity = Activity();
        var calls = activity["callsPerSession"]!.AsArray().Where(c => (string?)c!["tenant"] == "Bulk").ToList();
        Assert.Equal(500, calls.Count);
        Assert.All(calls, c => Assert.Equal(1, (int?)c!["logoff"]));
        int maxInFlight = (int)activity["maxInFlight"]!;
        Assert.InRange(maxInFlight, 2, 32); // concurrent, and never above the limit
        // Results keep the input order even though requests overlap.
        var ids = r.Output.Select(o => $"{o.Properties["SessionHostName"].Value}/{o.Properties["SessionId"].Value}").ToList();
        Assert.Equal(500, ids.Distinct().Count());
        Assert.Equal(ids.OrderBy(x => x.Split('/')[0], StringComparer.Ordinal).ThenBy(x => int.Parse(x.Split('/')[1])), ids);
    }

    [Fact]
    public void One_failing_session_among_many_gives_one_error_and_the_rest_succeed()
    {
        Generate(hosts: 2, perHost: 50);
        var r = _engine.Run(@"
            $sessions = @(Get-RdsUserSession Bulk Pool-Bulk)
            $bad = [pscustomobject]@{ TenantName = 'Bulk'; HostPoolName = 'Pool-Bulk'; SessionHostName = 'host-0999.bulk.test'; SessionId = 99999 }
            @($sessions[0..49]) + $bad + @($sessions[50..99]) | Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru");
        // A session host that does not exist: an error on both backends (ARM answers a missing
        // session on a real host 204, which counts as done).
        var e = Assert.Single(r.Errors);
        Assert.Equal("SessionHostNotFound,RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand", e.FullyQualifiedErrorId);
        Assert.EndsWith("/99999", e.TargetObject!.ToString());
        Assert.Equal(100, r.Output.Count);
        Assert.Equal(0, BulkLeft());
    }

    [Fact]
    public void ThrottleLimit_1_never_overlaps_requests()
    {
        Generate(hosts: 1, perHost: 20);
        SetLatency(10, 0);
        var r = _engine.Run("Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 1");
        Assert.Empty(r.Errors);
        Assert.Equal(1, (int)Activity()["maxInFlight"]!);
        Assert.Equal(0, BulkLeft());
    }

    [Fact]
    public void Progress_is_reported_and_completed_for_many_sessions_and_quiet_for_one()
    {
        Generate(hosts: 2, perHost: 100);
        SetLatency(5, 0);
        var r = _engine.Run("Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 8");
        Assert.Empty(r.Errors);
        var progress = r.PowerShell.Streams.Progress.ToList();
        Assert.NotEmpty(progress);
        Assert.Equal(ProgressRecordType.Completed, progress.Last().RecordType);
        Assert.Contains(progress, p => p.StatusDescription.Contains("of 200 sessions done", StringComparison.Ordinal) && p.PercentComplete >= 0);
        Assert.Contains(progress, p => p.StatusDescription.Contains("/s)", StringComparison.Ordinal));

        var single = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt");
        Assert.Empty(single.PowerShell.Streams.Progress);
    }

    [Fact]
    public async Task Stop_during_a_1000_session_run_returns_promptly_reports_what_was_not_processed_and_a_second_run_works()
    {
        Generate(hosts: 10, perHost: 100);
        SetLatency(50, 0);
        using var ps = PowerShell.Create(_engine.Runspace);
        ps.AddScript("Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 4");
        var started = new TaskCompletionSource();
        ps.Streams.Progress.DataAdded += (_, _) => started.TrySetResult();
        var run = ps.InvokeAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var watch = Stopwatch.StartNew();
        ps.Stop();
        await Assert.ThrowsAsync<PipelineStoppedException>(() => run);
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"Stop took {watch.Elapsed}");
        int left = BulkLeft();
        Assert.InRange(left, 1, 999); // some done, the rest untouched
        // Either the sessions in flight are named, or (a stop while the upstream was producing
        // the next one) the warning says that everything received was done and the rest was not.
        var warning = _engine.Host.TestUI.Warnings.First(w => w.StartsWith("Stopped: ", StringComparison.Ordinal));
        Assert.Contains("not processed", warning);
        // No new request starts after Stop: the count settles at once.
        await Task.Delay(300);
        int settled = (int)Activity()["brokerRequests"]!;
        await Task.Delay(500);
        Assert.Equal(settled, (int)Activity()["brokerRequests"]!);

        SetLatency(0, 0);
        var again = _engine.Run("Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt");
        Assert.Empty(again.Errors);
        Assert.Equal(0, BulkLeft());
    }
}
