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
/// Invoke-RdsUserSessionLogoff through real pipelines in the hosted engine, against the emulator,
/// on both backends (one subclass each). Where ARM answers differently by design (a tenant is a
/// mapping entry, a missing session is 204, permissions are roles), the test names both answers.
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
    public void Positional_call_logs_off_exactly_that_session()
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output); // like the original: nothing on the pipeline by default
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 17)), _emulator.SessionsLeft());
    }

    [Fact]
    public void Named_call_logs_off_exactly_that_session()
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff -TenantName 'Contoso' -HostPoolName 'Pool1' -SessionHostName 'sh2.contoso.com' -SessionId 20 -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(S("sh2.contoso.com", 20)), _emulator.SessionsLeft());
    }

    [Fact]
    public void Splatted_call_logs_off_exactly_that_session()
    {
        var r = _engine.Run("$p = @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 18; NoUserPrompt = $true }; Invoke-RdsUserSessionLogoff @p");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 18)), _emulator.SessionsLeft());
    }

    [Fact]
    public void SessionId_given_as_a_string_is_converted()
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff -TenantName Contoso -HostPoolName Pool1 -SessionHostName sh1.contoso.com -SessionId '17' -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 17)), _emulator.SessionsLeft());
    }

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
    public void Objects_piped_by_property_name_are_all_logged_off()
    {
        var r = _engine.Run(@"
            [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 },
            [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh2.contoso.com'; SessionId = 21 } |
                Invoke-RdsUserSessionLogoff -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 17), S("sh2.contoso.com", 21)), _emulator.SessionsLeft());
    }

    [Fact]
    public void A_where_filtered_list_logs_off_only_the_filtered_sessions()
    {
        // Disconnected sessions are the even ids in the seed: 18 and 20 (30 is on another host).
        var r = _engine.Run(@"
            $sessions = @(
                17, 18, 19 | ForEach-Object { [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = $_; SessionState = if ($_ % 2) { 'Active' } else { 'Disconnected' } } }
                20, 21 | ForEach-Object { [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh2.contoso.com'; SessionId = $_; SessionState = if ($_ % 2) { 'Active' } else { 'Disconnected' } } }
            )
            $sessions | Where-Object { $_.SessionState -eq 'Disconnected' } | Invoke-RdsUserSessionLogoff -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 18), S("sh2.contoso.com", 20)), _emulator.SessionsLeft());
    }

    [Fact]
    public void A_bare_tenant_name_piped_by_value_binds_to_TenantName()
    {
        var r = _engine.Run("'Contoso' | Invoke-RdsUserSessionLogoff -HostPoolName Pool1 -SessionHostName sh1.contoso.com -SessionId 19 -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 19)), _emulator.SessionsLeft());
    }

    [Fact]
    public void Bare_session_ids_piped_by_value_bind_to_SessionId()
    {
        var r = _engine.Run("17, 19 | Invoke-RdsUserSessionLogoff -TenantName Contoso -HostPoolName Pool1 -SessionHostName sh1.contoso.com -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 17), S("sh1.contoso.com", 19)), _emulator.SessionsLeft());
    }

    [Fact]
    public void PassThru_writes_one_result_per_session()
    {
        var r = _engine.Run("17, 18 | Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com -NoUserPrompt -PassThru");
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Output.Count);
        Assert.Equal(new object[] { 17, 18 }, r.Output.Select(o => o.Properties["SessionId"].Value).ToArray());
        Assert.All(r.Output, o =>
        {
            Assert.Equal("RdsSessions.RdsUserSessionLogoffResult", o.BaseObject.GetType().FullName);
            Assert.Equal("LoggedOff", o.Properties["Status"].Value);
            Assert.Equal("Default Tenant Group", o.Properties["TenantGroupName"].Value);
            Assert.False((bool)o.Properties["Forced"].Value);
            Assert.Matches("^[0-9a-f-]{36}$", (string)o.Properties["CorrelationId"].Value);
        });
    }

    [Fact]
    public void Force_removes_a_session_whose_host_is_unreachable()
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 stale1.contoso.com 30 -NoUserPrompt -Force -PassThru");
        Assert.Empty(r.Errors);
        Assert.True((bool)Assert.Single(r.Output).Properties["Forced"].Value);
        Assert.Equal(Seed.DefaultExcept(S("stale1.contoso.com", 30)), _emulator.SessionsLeft());
        Assert.Contains(_emulator.Requests(), q => (bool?)q!["force"] == true && (string?)q["sessionId"] == "30");
    }

    [Fact]
    public void Without_Force_an_unreachable_host_is_a_conflict_and_the_session_stays()
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 stale1.contoso.com 30 -NoUserPrompt");
        var e = Assert.Single(r.Errors);
        Assert.Equal("BrokerConflict" + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, e.CategoryInfo.Category);
        Assert.Contains("-Force", e.ErrorDetails.RecommendedAction);
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
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
    public void A_failed_item_does_not_stop_the_pipeline()
    {
        // The middle one names a session host that does not exist: an error on both backends.
        var r = _engine.Run(@"
            [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 },
            [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'nope.contoso.com'; SessionId = 99 },
            [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 19 } |
                Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru");
        Assert.Equal(new object[] { 17, 19 }, r.Output.Select(o => o.Properties["SessionId"].Value).ToArray());
        var e = Assert.Single(r.Errors);
        Assert.Equal("SessionHostNotFound" + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal("Contoso/Pool1/nope.contoso.com/99", e.TargetObject!.ToString());
        Assert.Equal(Seed.DefaultExcept(S("sh1.contoso.com", 17), S("sh1.contoso.com", 19)), _emulator.SessionsLeft());
    }

    [Fact]
    public void ErrorAction_Stop_throws_an_error_that_try_catch_catches()
    {
        var r = _engine.Run(@"
            try {
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'nope.contoso.com'; SessionId = 99 },
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 } |
                    Invoke-RdsUserSessionLogoff -NoUserPrompt -ErrorAction Stop
                'not reached'
            }
            catch { 'caught ' + $_.FullyQualifiedErrorId }");
        Assert.Equal("caught SessionHostNotFound" + Fqid, Assert.Single(r.Output).BaseObject);
        // Stop means stop: the session after the failing one was not touched.
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
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
    public void A_forbidden_tenant_is_a_permission_error()
    {
        var seed = Seed.Of(new[] { ("Locked", "Pool1", "sh1.contoso.com", 5) }, forbiddenTenants: new[] { "Locked" });
        // ARM has roles, not forbidden tenants: the identity's only role is somewhere else.
        seed["arm"] = JsonNode.Parse("""{"roleAssignments": [{"principalId": "88888888-8888-8888-8888-888888888888", "roleDefinitionName": "Desktop Virtualization User Session Operator", "scope": "/subscriptions/00000000-0000-4000-8000-000000000000"}]}""");
        Reseed(seed);
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Locked Pool1 sh1.contoso.com 5 -NoUserPrompt");
        var e = Assert.Single(r.Errors);
        Assert.Equal((OnArm ? "AuthorizationFailed" : "BrokerForbidden") + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.PermissionDenied, e.CategoryInfo.Category);
        Assert.Equal(new[] { "Locked/Pool1/sh1.contoso.com/5" }, _emulator.SessionsLeft());
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

    [Theory]
    [InlineData("..", "Pool1", "sh1.contoso.com", 17, "TenantName")]
    [InlineData("Contoso", ".", "sh1.contoso.com", 17, "HostPoolName")]
    [InlineData("Contoso", "Pool1", " ", 17, "SessionHostName")]
    [InlineData("Contoso", "Pool1", "sh1.contoso.com", -1, "SessionId")]
    public void Input_that_cannot_be_sent_safely_is_rejected_before_any_request(string tenant, string pool, string host, int id, string parameter)
    {
        var r = _engine.Run("Invoke-RdsUserSessionLogoff $args[0] $args[1] $args[2] $args[3] -NoUserPrompt", tenant, pool, host, id);
        var e = Assert.Single(r.Errors);
        Assert.Equal("InvalidInput" + Fqid, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.Contains("Invalid " + parameter, e.Exception.Message);
        Assert.Empty(_emulator.Requests());
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
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
