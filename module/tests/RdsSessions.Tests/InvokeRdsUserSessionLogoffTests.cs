using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text.Json.Nodes;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>Invoke-RdsUserSessionLogoff on the classic broker.</summary>
public sealed class InvokeRdsUserSessionLogoffOnClassicTests : InvokeRdsUserSessionLogoffTests
{
    public InvokeRdsUserSessionLogoffOnClassicTests(EmulatorFixture fixture)
        : base(fixture, Flavour.Classic)
    {
    }
}

/// <summary>Invoke-RdsUserSessionLogoff on Azure Resource Manager, through a mapping.</summary>
public sealed class InvokeRdsUserSessionLogoffOnArmTests : InvokeRdsUserSessionLogoffTests
{
    public InvokeRdsUserSessionLogoffOnArmTests(EmulatorFixture fixture)
        : base(fixture, Flavour.Arm)
    {
    }
}

/// <summary>
/// Invoke-RdsUserSessionLogoff in the hosted engine, against the emulator, on both backends (one
/// subclass each): what the Pester suite (Pester/Invoke-RdsUserSessionLogoff.Tests.ps1, where the
/// ways of calling it, the pipeline, -Force, -PassThru, the not-found errors, hostile names and
/// refused input live, on both backends too) does not already show: binding errors, by-value
/// binding of ids, the broker's own message and HTTP status in the exception, -ErrorVariable, an
/// unreachable broker, verbose output without the token. Where ARM answers differently by design
/// (a tenant is a mapping entry, a missing session is 204), the test names both answers.
/// </summary>
[Collection("Engine")]
public abstract class InvokeRdsUserSessionLogoffTests : IDisposable
{
    private const string Fqid = ",RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand";
    private readonly Emulator _emulator;
    private readonly Engine _engine;
    private readonly Flavour _flavour;

    protected InvokeRdsUserSessionLogoffTests(EmulatorFixture fixture, Flavour flavour)
    {
        _flavour = flavour;
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
        _engine = new Engine().SignIn(_emulator, flavour);
    }

    public void Dispose() => _engine.Dispose();

    private bool OnArm => _flavour == Flavour.Arm;

    /// <summary>Puts another state in place and signs in again (on ARM the mapping follows the data).</summary>
    private void Reseed(JsonNode seed)
    {
        _emulator.SetState(seed);
        _engine.SignIn(_emulator, _flavour);
    }

    private static string S(string host, int id) => $"Contoso/Pool1/{host}/{id}";

    [Fact]
    public void Non_numeric_SessionId_is_a_binding_error_and_nothing_is_sent()
    {
        int before = _emulator.Requests().Count;
        var r = _engine.Run("try { Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 'seventeen' -NoUserPrompt -ErrorAction Stop } catch { $_ }");
        var error = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.IsType<ParameterBindingException>(error.Exception);
        Assert.StartsWith("CannotConvertArgument", error.FullyQualifiedErrorId);
        Assert.Equal("SessionId", ((ParameterBindingException)error.Exception).ParameterName);
        Assert.Equal(before, _emulator.Requests().Count);
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
    }

    [Fact]
    public void Bare_session_ids_piped_by_value_bind_to_SessionId()
    {
        var r = _engine.Run("17, 19 | Invoke-RdsUserSessionLogoff -TenantName Contoso -HostPoolName Pool1 -SessionHostName sh1.contoso.com -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 17), S("sh1.contoso.com", 19)), _emulator.SessionsLeft());
    }

    [Theory]
    [InlineData("Nope", "Pool1", "sh1.contoso.com", 17, "TenantNotFound")]
    [InlineData("Contoso", "Nope", "sh1.contoso.com", 17, "HostPoolNotFound")]
    [InlineData("Contoso", "Pool1", "nope.contoso.com", 17, "SessionHostNotFound")]
    [InlineData("Contoso", "Pool1", "sh1.contoso.com", 99, "SessionNotFound")]
    public void Each_missing_object_is_a_specific_non_terminating_error(string tenant, string pool, string host, int id, string errorId)
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff $args[0] $args[1] $args[2] $args[3] -NoUserPrompt; 'still running'", tenant, pool, host, id);
        Assert.Equal("still running", Assert.Single(r.Output).BaseObject); // non-terminating
        if (OnArm && errorId == "SessionNotFound")
        {
            // ARM answers the DELETE of a session that does not exist 204: done, not an error.
            Assert.Empty(r.Errors);
            Assert.Equal(204, (int?)Assert.Single(_emulator.Requests(), q => (string?)q!["route"] == "armDeleteUserSession")!["status"]);
            return;
        }

        if (OnArm && errorId == "TenantNotFound")
        {
            // Under ARM a tenant is an entry of the mapping: one it lacks is refused before any request.
            var missing = Assert.Single(r.Errors);
            Assert.Equal("ArmMappingNotFound" + Fqid, missing.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, missing.CategoryInfo.Category);
            Assert.Contains("'Nope'", missing.Exception.Message);
            Assert.Empty(_emulator.Requests());
            return;
        }

        var e = Assert.Single(r.Errors);
        Assert.Equal(errorId + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        var target = e.TargetObject!;
        Assert.Equal("RdsSessions.SessionIdentity", target.GetType().FullName);
        Assert.Equal($"{tenant}/{pool}/{host}/{id}", target.ToString());
        Assert.Equal(id, PSObject.AsPSObject(target).Properties["SessionId"].Value);
        if (OnArm && errorId == "HostPoolNotFound")
        {
            // A pool the mapping does not name is looked for by name in the subscription's list:
            // none found is the module's answer, not ARM's 404.
            Assert.Contains("'Nope'", e.Exception.Message);
        }
        else
        {
            Assert.Contains("HTTP 404", e.Exception.Message);
            Assert.Equal(404, PSObject.AsPSObject(e.Exception).Properties["HttpStatus"].Value);
            if (!OnArm)
            {
                Assert.Contains(errorId, e.Exception.Message); // the broker's code is quoted
            }
        }

        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
    }

    [Fact]
    public void The_brokers_message_reaches_the_error_record()
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Nope sh1.contoso.com 17 -NoUserPrompt");
        var e = Assert.Single(r.Errors);
        // The emulator's message text: "Host pool 'Nope' does not exist ..." (classic); ARM's
        // discovery finds no pool of that name in the tenant's subscription.
        Assert.Contains("'Nope'", e.Exception.Message);
        Assert.Contains("Could not log off session 17", e.Exception.Message);
    }

    [Fact]
    public void ErrorVariable_collects_the_error()
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 nope.contoso.com 99 -NoUserPrompt -ErrorVariable ev -ErrorAction SilentlyContinue; $ev[0].FullyQualifiedErrorId");
        Assert.Equal("SessionHostNotFound" + Fqid, Assert.Single(r.Output).BaseObject);
    }

    [Fact]
    public void A_rejected_token_is_an_authentication_error()
    {
        using var engine = new Engine().SignIn(_emulator, _flavour, token: "not-the-token");
        var r = engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt");
        var e = Assert.Single(r.Errors);
        Assert.Equal("BrokerUnauthorized" + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.AuthenticationError, e.CategoryInfo.Category);
        Assert.DoesNotContain("not-the-token", e.ToString());
        Assert.DoesNotContain("not-the-token", e.Exception.ToString());
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
    }

    [Fact]
    public void An_unreachable_broker_is_a_connection_error()
    {
        using var engine = new Engine();
        // Port 9 on loopback: nothing listens there.
        engine.Run("Add-RdsAccount -DeploymentUrl 'http://127.0.0.1:9' -AccessToken t | Out-Null");
        var r = engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt");
        var e = Assert.Single(r.Errors);
        Assert.Equal("BrokerUnreachable" + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, e.CategoryInfo.Category);
    }

    public static IEnumerable<object[]> HostileNames() => new[]
    {
        new object[] { "a/b" }, new object[] { "x?y" }, new object[] { "#frag" }, new object[] { "100%" },
        new object[] { "%2F" }, new object[] { "with space" }, new object[] { "Zoë 東京" }, new object[] { "..." },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public void Hostile_names_travel_as_one_segment_and_reach_the_broker_unchanged(string name)
    {
        Reseed(Seed.Of(new[] { (name, name, name, 7), ("Other", "Pool", "host", 7) }));
        var r = _engine.Run("Invoke-RdsUserSessionLogoff $args[0] $args[0] $args[0] 7 -NoUserPrompt", name);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "Other/Pool/host/7" }, _emulator.SessionsLeft());
        var request = Assert.Single(_emulator.Requests());
        Assert.Equal(name, (string?)request!["sessionHost"]);
        if (OnArm)
        {
            // ARM knows the pool by its mapped ARM name (a classic name ARM cannot hold was renamed).
            Assert.Equal(ArmMapping.ArmName(_emulator, name, name), (string?)request["hostPool"]);
            Assert.Equal("armDeleteUserSession", (string?)request["route"]);
        }
        else
        {
            Assert.Equal(name, (string?)request["tenant"]);
            Assert.Equal(name, (string?)request["hostPool"]);
            Assert.Equal("logoffUser", (string?)request["route"]);
        }
    }

    [Fact]
    public void Verbose_output_names_the_session_and_never_the_token()
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt -Verbose");
        var verbose = r.PowerShell.Streams.Verbose.Select(v => v.Message).ToList();
        Assert.Contains(verbose, v => v.Contains("Logging off session 17") && v.Contains("sh1.contoso.com"));
        Assert.Contains(verbose, v => v.StartsWith("Logged off session Contoso/Pool1/sh1.contoso.com/17"));
        Assert.DoesNotContain(verbose, v => v.Contains(Emulator.Token));
    }
}
