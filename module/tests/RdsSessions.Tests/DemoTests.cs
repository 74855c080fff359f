using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>The README's demo (demo/demo.ps1) keeps working: same script, hosted engine, emulator sample data.</summary>
[Collection("Engine")]
public sealed class DemoTests
{
    private readonly Emulator _emulator;

    public DemoTests(EmulatorFixture fixture) => _emulator = fixture.Emulator;

    [Fact]
    public void The_demo_logs_off_the_disconnected_sessions_and_shows_the_forced_logoff()
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "rust", "emulator", "data", "sample.json")))!;
        _emulator.SetState(sample);
        using var engine = new Engine();
        var r = engine.Run("& $args[0] -EmulatorUrl $args[1] -ManifestPath $args[2]",
            Path.Combine(TestEnv.RepoRoot, "demo", "demo.ps1"), _emulator.Url, TestEnv.ManifestPath);
        string text = string.Join("\n", r.Output.Select(o => o.ToString()));
        Assert.Contains("Sessions before (11):", text);
        Assert.Contains("logged off Contoso/Pool-Desktop/sh1.contoso.com #17: LoggedOff", text);
        Assert.Contains("error BrokerConflict,RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand", text);
        Assert.Contains("logged off Contoso/Pool-Apps/stale1.contoso.com #3: LoggedOff, forced: True", text);
        Assert.Contains("Sessions after (7):", text);
        Assert.Equal(7, _emulator.SessionsLeft().Count);
    }
}
