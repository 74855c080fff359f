using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>
/// A loopback server that behaves the way no real service should: it accepts and never
/// answers, or answers with bytes a test chose (escape sequences, redirects).
/// </summary>
public sealed class HostileServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _held = new();

    /// <summary>Starts the server; <paramref name="answer"/> null means never answer.</summary>
    public HostileServer(byte[]? answer)
    {
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                lock (_held)
                {
                    _held.Add(client);
                }

                Interlocked.Increment(ref _connections);
                _ = Task.Run(async () =>
                {
                    var stream = client.GetStream();
                    var buffer = new byte[65536];
                    // Read the request head (and a small body), then do what was asked.
                    await Task.Delay(50);
                    while (stream.DataAvailable)
                    {
                        await stream.ReadAsync(buffer);
                    }

                    if (answer is not null)
                    {
                        await stream.WriteAsync(answer);
                        client.Close();
                    }
                });
            }
        });
    }

    private int _connections;

    public string Url { get; }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>A complete HTTP/1.1 answer.</summary>
    public static byte[] Answer(int status, string body, params (string Name, string Value)[] headers)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(head + "\r\n" + body);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_held)
        {
            foreach (TcpClient client in _held)
            {
                client.Dispose();
            }
        }
    }
}

/// <summary>
/// Issue 10's defects through the real cmdlets in the hosted engine: each test failed before
/// the fix (a hang, a crash, a raw escape sequence, a password in a message).
/// </summary>
[Collection("Engine")]
public sealed class HostileTests : IDisposable
{
    private readonly Emulator _emulator;
    private readonly Engine _engine = new();

    public HostileTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
    }

    public void Dispose() => _engine.Dispose();

    private static ErrorRecord OnlyError(Engine.Result r) =>
        r.Errors.Concat(r.Output.Select(o => o?.BaseObject).OfType<ErrorRecord>()).Single();

    private const string SignInViaSilent =
        "try { Add-RdsAccount $args[0] -Credential $args[1] -ServicePrincipal -AadTenantId contoso.onmicrosoft.com -AuthorityHost $args[2] -TimeoutSec $args[3] } catch { $_ }";

    [Fact]
    public void A_sign_in_to_an_authority_that_never_answers_ends_after_TimeoutSec()
    {
        using var silent = new HostileServer(answer: null);
        var watch = Stopwatch.StartNew();
        var r = _engine.Run(SignInViaSilent, _emulator.Url, Identities.Credential(Identities.AppId, Identities.AppSecret), silent.Url, 2);
        watch.Stop();
        var e = OnlyError(r);
        Assert.StartsWith("AuthorityUnreachable,", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, e.CategoryInfo.Category);
        Assert.Contains("did not answer within 2 s", e.Exception.Message);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.5, 10);
    }

    [Fact]
    public async Task Ctrl_C_stops_a_sign_in_waiting_on_a_silent_authority_at_once_and_the_module_stays_usable()
    {
        using var silent = new HostileServer(answer: null);
        using var ps = PowerShell.Create(_engine.Runspace);
        ps.AddScript(SignInViaSilent).AddArgument(_emulator.Url).AddArgument(Identities.Credential(Identities.AppId, Identities.AppSecret))
            .AddArgument(silent.Url).AddArgument(600);
        var run = ps.InvokeAsync();
        for (int i = 0; i < 100 && silent.Connections == 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(1, silent.Connections);
        var watch = Stopwatch.StartNew();
        ps.Stop();
        await Assert.ThrowsAsync<PipelineStoppedException>(() => run);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"Stop took {watch.Elapsed}");

        var again = _engine.Run("Add-RdsAccount $args[0] -AccessToken $args[1] | Out-Null; (Get-RdsUserSession Contoso Pool1).Count", _emulator.Url, Emulator.Token);
        Assert.Empty(again.Errors);
        Assert.Equal(6, (int)again.Output.Single().BaseObject);
    }

    [Fact]
    public void Certificate_paths_that_are_devices_or_FIFOs_are_refused_at_once()
    {
        string fifo = Path.Combine(Path.GetTempPath(), $"rds-cert-{Guid.NewGuid():N}.fifo");
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
        }

        try
        {
            foreach (string path in new[] { "/dev/zero", fifo })
            {
                var watch = Stopwatch.StartNew();
                var r = _engine.Run(
                    "try { Add-RdsAccount $args[0] -CertificatePath $args[1] -ApplicationId $args[2] -AadTenantId contoso.onmicrosoft.com -AuthorityHost $args[0] } catch { $_ }",
                    _emulator.Url, path, Identities.AppId);
                var e = OnlyError(r);
                Assert.StartsWith("CertificateInvalid,", e.FullyQualifiedErrorId);
                Assert.Contains("not a regular file", e.Exception.Message);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{path}: {watch.Elapsed}");
            }
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    [Fact]
    public void Escape_sequences_in_a_broker_message_never_reach_the_console()
    {
        string body = "{\"error\":{\"code\":\"Conflict\\u001b[2J\",\"message\":\"host down\\u001b[2J\\u001b[31m red\\u0007\\u0008\\u009b\"}}";
        using var broker = new HostileServer(HostileServer.Answer(409, body));
        var r = _engine.Run(
            "Add-RdsAccount $args[0] -AccessToken token -MaximumRetryCount 0 | Out-Null; Invoke-RdsUserSessionLogoff Contoso Pool1 sh1 17 -NoUserPrompt",
            broker.Url);
        var e = OnlyError(r);
        Assert.StartsWith("BrokerConflict,", e.FullyQualifiedErrorId);
        string shown = e.Exception.Message + (e.ErrorDetails?.Message ?? string.Empty);
        Assert.DoesNotContain(shown, char.IsControl);
        Assert.Contains("host down [2J [31m red", e.Exception.Message);
    }

    [Fact]
    public void A_redirect_is_refused_and_said_to_be_one()
    {
        using var broker = new HostileServer(HostileServer.Answer(302, string.Empty, ("Location", "https://evil.example/steal")));
        var r = _engine.Run(
            "Add-RdsAccount $args[0] -AccessToken token | Out-Null; Invoke-RdsUserSessionLogoff Contoso Pool1 sh1 17 -NoUserPrompt",
            broker.Url);
        var e = OnlyError(r);
        Assert.StartsWith("BrokerRedirectRefused,", e.FullyQualifiedErrorId);
        Assert.Contains("redirect (HTTP 302) to 'https://evil.example'", e.Exception.Message);
        Assert.DoesNotContain("steal", e.Exception.Message);
        Assert.Equal(1, broker.Connections);
    }

    [Fact]
    public void Get_RdsContext_never_shows_a_password_typed_in_a_URL()
    {
        _engine.SignIn(_emulator);
        var r = _engine.Run("Get-RdsContext -DeploymentUrl 'http://admin:Hunter2-secret@127.0.0.1:1'");
        var e = OnlyError(r);
        Assert.StartsWith("ContextNotFound,", e.FullyQualifiedErrorId);
        Assert.DoesNotContain("Hunter2", e.Exception.Message);
        Assert.DoesNotContain("Hunter2", e.TargetObject?.ToString() ?? string.Empty);
        Assert.DoesNotContain("Hunter2", e.ToString());
    }

    [Fact]
    public void Every_ErrorId_the_native_library_reports_has_a_row_in_the_module_table()
    {
        // Through reflection: NativeCalls is internal to the module, loaded in this process.
        Type? nativeCalls = AppDomain.CurrentDomain.GetAssemblies()
            .Single(a => a.GetName().Name == "RdsSessions").GetType("RdsSessions.NativeCalls");
        var ids = (IEnumerable<(string ErrorId, string Kind)>)nativeCalls!
            .GetMethod("ErrorIds", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, null)!;
        var table = _engine.Run("[RdsSessions.BrokerErrors]::ErrorIds").Output.Select(o => o.ToString()).ToHashSet();
        var native = ids.Select(i => i.ErrorId).ToList();
        Assert.True(native.Count > 30, string.Join(",", native));
        Assert.All(native, id => Assert.Contains(id, table));
    }
}
