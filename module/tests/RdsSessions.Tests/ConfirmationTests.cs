using System;
using System.Linq;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>The cmdlet's own confirmation, answered through a test host UI.</summary>
[Collection("Engine")]
public sealed class ConfirmationTests : IDisposable
{
    private readonly Emulator _emulator;
    private readonly Engine _engine;
    private readonly TestUI _ui;

    public ConfirmationTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
        _engine = new Engine().SignIn(_emulator);
        _ui = _engine.Host.TestUI;
    }

    public void Dispose() => _engine.Dispose();

    private const string ThreeSessions = "17, 18, 19 | Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com";

    [Fact]
    public void Yes_logs_off_and_the_prompt_names_the_session()
    {
        _ui.Answers.Enqueue(TestUI.Yes);
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17");
        Assert.Empty(r.Errors);
        var prompt = Assert.Single(_ui.Prompts);
        Assert.Contains("session 17", prompt.Message);
        Assert.Contains("sh1.contoso.com", prompt.Message);
        Assert.Equal(5, prompt.Labels.Length); // Yes, Yes to All, No, No to All, Suspend
        Assert.Equal(Seed.DefaultExcept("Contoso/Pool1/sh1.contoso.com/17"), _emulator.SessionsLeft());
    }

    [Fact]
    public void No_skips_that_session_only()
    {
        _ui.Answers.Enqueue(TestUI.Yes);
        _ui.Answers.Enqueue(TestUI.No);
        _ui.Answers.Enqueue(TestUI.Yes);
        var r = _engine.Run(ThreeSessions);
        Assert.Empty(r.Errors);
        Assert.Equal(3, _ui.Prompts.Count);
        Assert.Equal(Seed.DefaultExcept("Contoso/Pool1/sh1.contoso.com/17", "Contoso/Pool1/sh1.contoso.com/19"), _emulator.SessionsLeft());
    }

    [Fact]
    public void Yes_to_all_stops_asking_and_logs_off_the_rest()
    {
        _ui.Answers.Enqueue(TestUI.YesToAll);
        var r = _engine.Run(ThreeSessions);
        Assert.Empty(r.Errors);
        Assert.Single(_ui.Prompts);
        Assert.Equal(Seed.DefaultExcept("Contoso/Pool1/sh1.contoso.com/17", "Contoso/Pool1/sh1.contoso.com/18", "Contoso/Pool1/sh1.contoso.com/19"),
            _emulator.SessionsLeft());
    }

    [Fact]
    public void No_to_all_stops_asking_and_logs_off_nothing_more()
    {
        _ui.Answers.Enqueue(TestUI.Yes);
        _ui.Answers.Enqueue(TestUI.NoToAll);
        var r = _engine.Run(ThreeSessions);
        Assert.Empty(r.Errors);
        Assert.Equal(2, _ui.Prompts.Count);
        Assert.Equal(Seed.DefaultExcept("Contoso/Pool1/sh1.contoso.com/17"), _emulator.SessionsLeft());
    }

    [Fact]
    public void NoUserPrompt_never_prompts()
    {
        var r = _engine.Run(ThreeSessions + " -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Empty(_ui.Prompts);
        Assert.Equal(3, _emulator.Requests().Count);
    }

    [Fact]
    public void NoUserPrompt_false_behaves_like_no_switch()
    {
        _ui.Answers.Enqueue(TestUI.No);
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt:$false");
        Assert.Empty(r.Errors);
        Assert.Single(_ui.Prompts);
        Assert.Empty(_emulator.Requests());
    }

    [Fact]
    public void Force_does_not_skip_the_prompt()
    {
        // -Force is the broker's force (remove the record), not a prompt suppressor.
        _ui.Answers.Enqueue(TestUI.No);
        _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 stale1.contoso.com 30 -Force");
        Assert.Single(_ui.Prompts);
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
    }

    [Fact]
    public void A_host_that_cannot_prompt_gets_a_clear_terminating_error_and_nothing_is_logged_off()
    {
        // The default host (no UI) cannot prompt, like a scheduled task.
        var iss = System.Management.Automation.Runspaces.InitialSessionState.CreateDefault2();
        using var rs = System.Management.Automation.Runspaces.RunspaceFactory.CreateRunspace(iss);
        rs.Open();
        using var ps = System.Management.Automation.PowerShell.Create(rs);
        ps.AddScript("Import-Module $args[0]; Add-RdsAccount -DeploymentUrl $args[1] -AccessToken $args[2] | Out-Null; " +
                     "try { Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 } catch { $_.FullyQualifiedErrorId; $_.Exception.Message }")
          .AddArgument(TestEnv.ManifestPath).AddArgument(_emulator.Url).AddArgument(Emulator.Token);
        var output = ps.Invoke().Select(o => o.ToString()).ToList();
        Assert.Equal("ConfirmationNotPossible,RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand", output[0]);
        Assert.Contains("-NoUserPrompt", output[1]);
        Assert.Empty(_emulator.Requests());
    }
}
