using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>Ctrl+C (PowerShell.Stop) cancels an in-flight request promptly and the module stays usable.</summary>
[Collection("Engine")]
public sealed class CancellationTests
{
    private readonly Emulator _emulator;

    public CancellationTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
    }

    [Fact]
    public async Task Stop_cancels_a_hanging_request_promptly_and_the_next_command_works()
    {
        // A "broker" that accepts connections and never answers: without cancellation the
        // request would hang for the 60 s request timeout.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptTcpClientAsync();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;

        using var engine = new Engine();
        engine.Run("Add-RdsAccount -DeploymentUrl $args[0] -AccessToken t | Out-Null", $"http://127.0.0.1:{port}");
        using var ps = PowerShell.Create(engine.Runspace);
        ps.AddScript("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt");
        var run = ps.InvokeAsync();

        using (var client = await accepted.WaitAsync(TimeSpan.FromSeconds(20))) // the request is in flight
        {
            var watch = Stopwatch.StartNew();
            ps.Stop();
            await Assert.ThrowsAsync<PipelineStoppedException>(() => run);
            watch.Stop();
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"Stop took {watch.Elapsed}");
            Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        }

        // Same runspace, same process: the module still works.
        engine.SignIn(_emulator);
        var r = engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt");
        Assert.Empty(r.Errors);
        Assert.Equal(Seed.DefaultExcept("Contoso/Pool1/sh1.contoso.com/17"), _emulator.SessionsLeft());
    }
}
