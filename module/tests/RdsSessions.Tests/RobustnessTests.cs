using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>Bad input never changes the route or reaches the broker unannounced; runspaces never mix contexts.</summary>
[Collection("Engine")]
public sealed class RobustnessTests : IDisposable
{
    private readonly Emulator _emulator;
    private readonly Engine _engine;

    public RobustnessTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
        _engine = new Engine().SignIn(_emulator);
    }

    public void Dispose() => _engine.Dispose();

    private static readonly string[] Commands =
    {
        "Invoke-RdsUserSessionLogoff", "Disconnect-RdsUserSession",
        "Send-RdsUserSessionMessage -MessageTitle t -MessageBody b",
    };

    /// <summary>Values that cannot be sent as one path segment: each must fail before any request.</summary>
    public static IEnumerable<object[]> Unsendable()
    {
        foreach (string command in Commands)
        {
            foreach (int position in new[] { 0, 1, 2 })
            {
                foreach (string value in new[] { " ", "\t", "..", ".", "a\u0001b", "line\nbreak", new string('x', 64 * 1024) })
                {
                    yield return new object[] { command, position, value };
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Unsendable))]
    public void Unsendable_names_are_rejected_before_any_request(string command, int position, string value)
    {
        var args = new object[] { "Contoso", "Pool1", "sh1.contoso.com", 17 };
        args[position] = value;
        var r = _engine.Run($"{command} -TenantName $args[0] -HostPoolName $args[1] -SessionHostName $args[2] -SessionId $args[3] -NoUserPrompt", args);
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("InvalidInput,", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        string parameter = new[] { "TenantName", "HostPoolName", "SessionHostName" }[position];
        Assert.Contains("Invalid " + parameter, e.Exception.Message);
        Assert.True(e.Exception.Message.Length < 2000, "the message does not echo a 64 KB value");
        Assert.Empty(_emulator.Requests());
    }

    [Theory]
    [InlineData("''")]
    [InlineData("$null")]
    public void Empty_and_null_names_are_binding_errors(string value)
    {
        var r = _engine.Run($"try {{ Invoke-RdsUserSessionLogoff {value} Pool1 sh1.contoso.com 17 -NoUserPrompt -ErrorAction Stop }} catch {{ $_ }}");
        var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.IsAssignableFrom<ParameterBindingException>(e.Exception);
        Assert.Empty(_emulator.Requests());
    }

    [Theory]
    [InlineData("-1", "InvalidInput")]
    [InlineData("-2147483648", "InvalidInput")]
    [InlineData("2147483648", "CannotConvertArgument")]
    [InlineData("'12abc'", "CannotConvertArgument")]
    [InlineData("'1e3'", null)]
    [InlineData("0", "SessionNotFound")]
    public void Session_ids_outside_Int32_or_negative_never_reach_the_broker(string id, string? errorIdPrefix)
    {
        var r = _engine.Run($"try {{ Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com {id} -NoUserPrompt }} catch {{ $_ }}");
        var errors = r.Errors.Concat(r.Output.Select(o => o.BaseObject).OfType<ErrorRecord>()).ToList();
        if (errorIdPrefix is null)
        {
            // '1e3' converts to 1000: a valid Int32, sent as "1000" and not found.
            Assert.StartsWith("SessionNotFound", Assert.Single(errors).FullyQualifiedErrorId);
            Assert.Equal("1000", (string?)Assert.Single(_emulator.Requests())!["sessionId"]);
            return;
        }

        Assert.StartsWith(errorIdPrefix, Assert.Single(errors).FullyQualifiedErrorId);
        if (errorIdPrefix != "SessionNotFound")
        {
            Assert.Empty(_emulator.Requests());
        }
        else
        {
            Assert.Equal("0", (string?)Assert.Single(_emulator.Requests())!["sessionId"]);
        }
    }

    public static IEnumerable<object[]> RouteChangers() => new[]
    {
        "a/b", "x?y", "#frag", "%2F", "%2e%2e", "..%2f..", "a/../b", "?force=true", "Zoë 東京", "100%", "a+b",
    }.Select(v => new object[] { v });

    [Theory]
    [MemberData(nameof(RouteChangers))]
    public void Input_can_never_change_the_route(string name)
    {
        _emulator.SetState(Seed.Of(new[] { (name, name, name, 7) }));
        // Logoff last: it removes the session.
        foreach (string command in Commands.Skip(1).Append(Commands[0]))
        {
            var r = _engine.Run($"{command} -TenantName $args[0] -HostPoolName $args[0] -SessionHostName $args[0] -SessionId 7 -NoUserPrompt", name);
            Assert.Empty(r.Errors);
        }

        var requests = _emulator.Requests();
        Assert.Equal(3, requests.Count);
        Assert.All(requests, q =>
        {
            Assert.Equal(name, (string?)q!["tenant"]);
            Assert.Equal(name, (string?)q["hostPool"]);
            Assert.Equal(name, (string?)q["sessionHost"]);
            Assert.Equal("7", (string?)q["sessionId"]);
            Assert.NotEqual("unknown", (string?)q["route"]);
        });
        Assert.Equal(new[] { "disconnectUser", "sendMessageUser", "logoffUser" }, requests.Select(q => (string?)q!["route"]));
        Assert.DoesNotContain(requests, q => (string?)q!["query"] == "force=true");
    }

    [Fact]
    public async Task Two_runspaces_at_once_keep_their_own_tokens_and_results()
    {
        var seed = Seed.Of(Enumerable.Range(1, 40).Select(i => ("Contoso", "Pool1", "sh1.contoso.com", i)));
        _emulator.SetState(seed);
        using var app = new Engine();
        using var user = new Engine();
        app.Run("Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[0] -Credential $args[1] -ServicePrincipal -AadTenantId $args[2] | Out-Null",
            _emulator.Url, new PSCredential(Identities.AppId, Identities.Secure(Identities.AppSecret)), Identities.Tenant);
        user.Run("Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[0] -Credential $args[1] -AadTenantId $args[2] | Out-Null",
            _emulator.Url, new PSCredential(Identities.User, Identities.Secure(Identities.Password)), Identities.Tenant);

        var odd = Task.Run(() => app.Run("1..40 | Where-Object { $_ % 2 } | Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com -NoUserPrompt -PassThru"));
        var even = Task.Run(() => user.Run("1..40 | Where-Object { -not ($_ % 2) } | Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com -NoUserPrompt -PassThru"));
        var (a, u) = (await odd, await even);
        Assert.Empty(a.Errors);
        Assert.Empty(u.Errors);
        Assert.All(a.Output, o => Assert.Equal(1, (int)o.Properties["SessionId"].Value % 2));
        Assert.All(u.Output, o => Assert.Equal(0, (int)o.Properties["SessionId"].Value % 2));
        Assert.Empty(_emulator.SessionsLeft());
        foreach (var request in _emulator.Requests().Where(q => (string?)q!["route"] == "logoffUser"))
        {
            int id = int.Parse((string)request!["sessionId"]!);
            Assert.Equal(id % 2 == 1 ? Identities.AppId : Identities.User, (string?)request["caller"]);
        }
    }
}
