using System;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>
/// -MaximumRetryCount, -RetryIntervalSec, -RetryTimeoutSec and -TimeoutSec on Add-RdsAccount and
/// Set-RdsContext: shown by the context, validated at binding, and obeyed by every later call.
/// </summary>
[Collection("Engine")]
public sealed class RetrySettingsTests : IDisposable
{
    private const string Session = "Contoso/Pool1/sh1.contoso.com/17";
    private const string Logoff = "Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt";

    /// <summary>Every logoff answered 503, so each attempt is one request and nothing is applied.</summary>
    private const string AlwaysServerError =
        "{\"seed\":1,\"rate\":1.0,\"kinds\":{\"serverError\":1},\"serverErrorStatuses\":[503],\"routes\":[\"logoffUser\"]}";

    private readonly Emulator _emulator;
    private readonly Engine _engine = new();

    public RetrySettingsTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
    }

    public void Dispose()
    {
        _emulator.ClearFaults();
        _engine.Dispose();
    }

    private PSObject Context() => Assert.Single(_engine.Run("Get-RdsContext").Output);

    private static (int Retries, double Interval, int Deadline, int Timeout) Settings(PSObject context) => (
        (int)context.Properties["MaximumRetryCount"].Value,
        (double)context.Properties["RetryIntervalSec"].Value,
        (int)context.Properties["RetryTimeoutSec"].Value,
        (int)context.Properties["TimeoutSec"].Value);

    private int LogoffRequests() =>
        _emulator.Requests().Count(r => (string?)r!["route"] == "logoffUser");

    [Fact]
    public void The_context_shows_the_documented_defaults()
    {
        _engine.SignIn(_emulator);
        Assert.Equal((4, 0.5, 120, 60), Settings(Context()));
    }

    [Fact]
    public void Add_RdsAccount_sets_them_for_every_later_call()
    {
        var r = _engine.Run(
            "Add-RdsAccount $args[0] -AccessToken $args[1] -MaximumRetryCount 2 -RetryIntervalSec 0.05 -RetryTimeoutSec 30 -TimeoutSec 9",
            _emulator.Url, Emulator.Token);
        Assert.Empty(r.Errors);
        Assert.Equal((2, 0.05, 30, 9), Settings(Assert.Single(r.Output)));
        Assert.Equal((2, 0.05, 30, 9), Settings(Context()));

        // Two retries: three requests for one logoff that keeps failing, then one error.
        _emulator.SetFaults(AlwaysServerError);
        int before = LogoffRequests();
        var failed = _engine.Run(Logoff);
        var e = Assert.Single(failed.Errors);
        Assert.StartsWith("BrokerServerError,", e.FullyQualifiedErrorId);
        Assert.Equal(3, LogoffRequests() - before);
        Assert.Contains(Session, _emulator.SessionsLeft());
    }

    [Fact]
    public void No_retries_means_exactly_one_request_and_the_session_is_kept()
    {
        _engine.SignIn(_emulator);
        var set = _engine.Run("Set-RdsContext -MaximumRetryCount 0");
        Assert.Empty(set.Errors);
        Assert.Equal("Default Tenant Group", Assert.Single(set.Output).Properties["TenantGroupName"].Value);

        _emulator.SetFaults(AlwaysServerError);
        int before = LogoffRequests();
        var r = _engine.Run(Logoff + " -Verbose");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("BrokerServerError,", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, e.CategoryInfo.Category);
        Assert.Equal(1, LogoffRequests() - before);
        Assert.DoesNotContain(r.PowerShell.Streams.Verbose, v => v.Message.Contains("retried", StringComparison.Ordinal));
        Assert.Contains(Session, _emulator.SessionsLeft());
    }

    [Fact]
    public void With_retries_a_transient_failure_is_retried_and_reported_as_verbose()
    {
        _engine.SignIn(_emulator);
        Assert.Empty(_engine.Run("Set-RdsContext -MaximumRetryCount 10 -RetryIntervalSec 0.05").Errors);
        // A third of the requests fail: with ten retries each session is done in the end
        // (eleven faults in a row for one session: 0.3^11, about 2 in a million).
        _emulator.SetFaults("{\"seed\":3,\"rate\":0.3,\"kinds\":{\"serverError\":1},\"routes\":[\"logoffUser\"]}");
        var r = _engine.Run("Get-RdsUserSession Contoso Pool1 | Invoke-RdsUserSessionLogoff -NoUserPrompt -Force -Verbose");
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors));
        Assert.DoesNotContain(_emulator.SessionsLeft(), s => s.StartsWith("Contoso/Pool1/", StringComparison.Ordinal));
        Assert.Contains(r.PowerShell.Streams.Verbose, v => v.Message.Contains("retrying in", StringComparison.Ordinal));
    }

    [Fact]
    public void A_retry_is_written_when_its_wait_starts_before_the_outcome()
    {
        _engine.SignIn(_emulator);
        // Seed 7 at rate 0.5: the first logoff request is throttled (Retry-After: 1), the
        // second is not (the fault sequence is a pure function of the seed).
        _emulator.SetFaults("{\"seed\":7,\"rate\":0.5,\"kinds\":{\"throttle\":1},\"retryAfterSeconds\":1,\"routes\":[\"logoffUser\"]}");
        var r = _engine.Run(Logoff + " -Verbose");
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors));
        var messages = r.PowerShell.Streams.Verbose.Select(v => v.Message).ToList();
        int retry = messages.FindIndex(m => m == $"Session {Session}: throttled (HTTP 429); retrying in 1.0 s (retry 1 of at most 4).");
        int outcome = messages.FindIndex(m => m.StartsWith("Logged off session " + Session + " ", StringComparison.Ordinal));
        Assert.True(retry >= 0 && outcome >= 0, string.Join("\n", messages));
        Assert.True(retry < outcome, string.Join("\n", messages));
        // Written once, when it happened: not again with the outcome.
        Assert.Single(messages, m => m.Contains("HTTP 429", StringComparison.Ordinal));
        Assert.DoesNotContain(Session, _emulator.SessionsLeft());
    }

    [Fact]
    public void TimeoutSec_bounds_each_request()
    {
        _engine.SignIn(_emulator);
        Assert.Empty(_engine.Run("Set-RdsContext -TimeoutSec 1 -MaximumRetryCount 0").Errors);
        _emulator.SetFaults("{\"seed\":1,\"rate\":1.0,\"kinds\":{\"stall\":1},\"stallMs\":4000,\"routes\":[\"logoffUser\"]}");
        var stopwatch = Stopwatch.StartNew();
        var r = _engine.Run(Logoff);
        stopwatch.Stop();
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("BrokerTimeout,", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.OperationTimeout, e.CategoryInfo.Category);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3.5), $"took {stopwatch.Elapsed}, the stall is 4 s");
    }

    [Fact]
    public void Set_RdsContext_keeps_what_it_is_not_given()
    {
        _engine.SignIn(_emulator);
        Assert.Empty(_engine.Run("Set-RdsContext -RetryIntervalSec 2 -TimeoutSec 15").Errors);
        Assert.Equal((4, 2.0, 120, 15), Settings(Context()));

        // Tenant group and settings together (positional group, as the original takes it).
        var both = _engine.Run("Set-RdsContext 'Other Group' -MaximumRetryCount 1");
        Assert.Empty(both.Errors);
        var context = Context();
        Assert.Equal("Other Group", context.Properties["TenantGroupName"].Value);
        Assert.Equal((1, 2.0, 120, 15), Settings(context));

        // The tenant group alone keeps the settings.
        Assert.Empty(_engine.Run("Set-RdsContext -TenantGroupName 'Default Tenant Group'").Errors);
        Assert.Equal((1, 2.0, 120, 15), Settings(Context()));
    }

    [Fact]
    public void The_original_contract_of_Set_RdsContext_is_kept()
    {
        var command = (CommandInfo)Assert.Single(_engine.Run("Get-Command Set-RdsContext").Output).BaseObject;
        Assert.Equal("TenantGroup", command.ParameterSets.Single(s => s.IsDefault).Name);
        var group = command.ParameterSets.Single(s => s.IsDefault).Parameters.Single(p => p.Name == "TenantGroupName");
        Assert.True(group.IsMandatory);
        Assert.Equal(0, group.Position);
        Assert.DoesNotContain(command.ParameterSets.Single(s => s.IsDefault).Parameters, p => p.Name == "TimeoutSec");
        var retrySet = command.ParameterSets.Single(s => !s.IsDefault);
        Assert.False(retrySet.Parameters.Single(p => p.Name == "TenantGroupName").IsMandatory);
        var add = (CommandInfo)Assert.Single(_engine.Run("Get-Command Add-RdsAccount").Output).BaseObject;
        foreach (string name in new[] { "MaximumRetryCount", "RetryIntervalSec", "RetryTimeoutSec", "TimeoutSec" })
        {
            Assert.Contains(retrySet.Parameters, p => p.Name == name);
            Assert.All(add.ParameterSets, s => Assert.Contains(s.Parameters, p => p.Name == name));
        }

        // Without arguments the original set is chosen, which asks for the group.
        var none = _engine.Run("try { Set-RdsContext } catch { $_ }");
        Assert.StartsWith("MissingMandatoryParameter,", Assert.IsType<ErrorRecord>(Assert.Single(none.Output).BaseObject).FullyQualifiedErrorId);
    }

    public static TheoryData<string, string> OutOfRange() => new()
    {
        { "MaximumRetryCount", "-1" }, { "MaximumRetryCount", "21" },
        { "RetryIntervalSec", "0" }, { "RetryIntervalSec", "300.5" },
        { "RetryTimeoutSec", "-1" }, { "RetryTimeoutSec", "3601" },
        { "TimeoutSec", "0" }, { "TimeoutSec", "3601" }, { "TimeoutSec", "99999999999" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Out_of_range_values_are_binding_errors_that_change_nothing(string parameter, string value)
    {
        _engine.SignIn(_emulator);
        var before = Settings(Context());

        var set = _engine.Run($"try {{ Set-RdsContext -{parameter} {value} }} catch {{ $_ }}");
        var e = Assert.IsType<ErrorRecord>(Assert.Single(set.Output).BaseObject);
        Assert.Matches("^(ParameterArgumentValidationError|CannotConvertArgumentNoMessage|ParameterArgumentTransformationError)", e.FullyQualifiedErrorId);
        Assert.Contains(parameter, e.Exception.Message);
        Assert.Equal(before, Settings(Context()));

        var add = _engine.Run($"try {{ Add-RdsAccount $args[0] -AccessToken $args[1] -{parameter} {value} }} catch {{ $_ }}", _emulator.Url, Emulator.Token);
        Assert.IsType<ErrorRecord>(Assert.Single(add.Output).BaseObject);
        Assert.Equal(before, Settings(Context()));
    }

    [Theory]
    [InlineData("'abc'")]
    [InlineData("$null")]
    public void Non_numbers_are_binding_errors(string value)
    {
        _engine.SignIn(_emulator);
        var r = _engine.Run($"try {{ Set-RdsContext -MaximumRetryCount {value} }} catch {{ $_ }}");
        var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.Contains("MaximumRetryCount", e.Exception.Message);
        Assert.Equal(4, Settings(Context()).Retries);
    }

    [Fact]
    public void Set_RdsContext_without_a_context_says_what_to_run()
    {
        var r = _engine.Run("try { Set-RdsContext -MaximumRetryCount 1 } catch { $_ }");
        var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.StartsWith("NoRdsContext,", e.FullyQualifiedErrorId);
    }
}
