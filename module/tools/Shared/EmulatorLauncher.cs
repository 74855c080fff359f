// The one C# launcher of the project's broker emulator (target/release/rds-emulator). It is not a
// project of its own: the xunit tests (Harness.cs) and the benchmark (EmulatorProcess.cs) compile
// this file in through a linked <Compile Include=".../EmulatorLauncher.cs" />, so the protocol
// lives in one place per language (PowerShell's is Start-RdsEmulator in tools/RdsSessions.Dev.psm1):
//   rds-emulator --port 0 --exit-on-stdin-eof [--data FILE], token in RDS_EMULATOR_TOKEN;
//   one stdout line "RDS broker emulator listening on http://127.0.0.1:PORT" once it listens;
//   stderr: one line per request; closing stdin stops it (also when this process dies).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace RdsSessions.Tooling;

/// <summary>How to start the emulator.</summary>
internal sealed class EmulatorLaunchOptions
{
    /// <summary>The bearer token it accepts; passed in the environment (command lines are visible to other users).</summary>
    public string Token { get; init; } = EmulatorLauncher.DefaultToken;

    /// <summary>A seed JSON file; null: the emulator's built-in sample data.</summary>
    public string? DataPath { get; init; }

    /// <summary>More command-line arguments (e.g. --no-request-log).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = Array.Empty<string>();

    /// <summary>
    /// How many 100 ms steps to wait for the URL line, and again for 127.0.0.1:PORT to accept a
    /// connection. Counted steps rather than a deadline: a CI machine can pause.
    /// </summary>
    public int ReadySteps { get; init; } = 300;

    /// <summary>
    /// Lines kept per output stream: null keeps everything (tests search the logs for secrets);
    /// a number keeps only the last lines (the benchmark, whose memory use is measured).
    /// </summary>
    public int? RetainLines { get; init; }
}

/// <summary>The broker emulator as a child process on 127.0.0.1 (random port).</summary>
internal sealed class EmulatorLauncher : IDisposable
{
    public const string DefaultToken = "rds-emulator-token";

    private static readonly Regex ListeningLine =
        new(@"listening on (?<url>http://127\.0\.0\.1:(?<port>\d+))/?\s*$", RegexOptions.CultureInvariant);

    private readonly Process _process;
    private readonly int? _retain;
    private readonly Queue<string> _stdout = new();
    private readonly Queue<string> _stderr = new();
    private readonly Task _stdoutPump = Task.CompletedTask;
    private long _stderrLines;
    private bool _disposed;

    public EmulatorLauncher(string executablePath, EmulatorLaunchOptions? options = null)
    {
        options ??= new EmulatorLaunchOptions();
        _retain = options.RetainLines;
        Url = string.Empty;
        if (!File.Exists(executablePath))
        {
            throw new InvalidOperationException(
                $"The broker emulator {executablePath} does not exist; build first: bash scripts/build.sh (or ./build.ps1)");
        }

        var psi = new ProcessStartInfo(executablePath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            // One stderr line per request: always drained (a full pipe would stall the emulator).
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        psi.ArgumentList.Add("--port");
        psi.ArgumentList.Add("0");
        psi.ArgumentList.Add("--exit-on-stdin-eof");
        if (options.DataPath is not null)
        {
            psi.ArgumentList.Add("--data");
            psi.ArgumentList.Add(Path.GetFullPath(options.DataPath));
        }

        foreach (string argument in options.ExtraArguments)
        {
            psi.ArgumentList.Add(argument);
        }

        psi.Environment["RDS_EMULATOR_TOKEN"] = options.Token;

        _process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start " + executablePath);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderrLines++;
                    Keep(_stderr, e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();

        var firstLine = _process.StandardOutput.ReadLineAsync();
        string? line = null;
        for (int step = 0; step < options.ReadySteps; step++)
        {
            if (firstLine.Wait(100))
            {
                line = firstLine.Result;
                break;
            }
        }

        Match match = line is null ? Match.Empty : ListeningLine.Match(line);
        string? why = null;
        if (line is null)
        {
            why = firstLine.IsCompleted
                ? "it closed its standard output without printing its URL"
                : $"it did not print its URL within {options.ReadySteps * 100} ms";
        }
        else if (!match.Success)
        {
            why = $"its first line was not 'RDS broker emulator listening on http://127.0.0.1:<port>': '{line}'";
        }
        else
        {
            Port = int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
            Url = match.Groups["url"].Value;
            lock (_stdout)
            {
                Keep(_stdout, line);
            }

            // Keep reading stdout: anything printed later is part of its log (and a full pipe
            // would block it).
            _stdoutPump = Task.Run(async () =>
            {
                while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is string more)
                {
                    lock (_stdout)
                    {
                        Keep(_stdout, more);
                    }
                }
            });
            if (!AcceptsConnections(options.ReadySteps))
            {
                why = $"127.0.0.1:{Port} did not accept a connection within {options.ReadySteps * 100} ms";
            }
        }

        if (why is not null)
        {
            Kill();
            _process.WaitForExit(5000);
            if (_process.HasExited)
            {
                why += $" (exit code {_process.ExitCode})";
            }

            string output = Output();
            _process.Dispose();
            throw new InvalidOperationException($"The broker emulator {executablePath} did not start: {why}.\n{output}");
        }
    }

    /// <summary>http://127.0.0.1:PORT</summary>
    public string Url { get; }

    public int Port { get; }

    public int ProcessId => _process.Id;

    /// <summary>How many stderr lines (about one per request) it wrote, kept or not.</summary>
    public long StdErrLineCount
    {
        get { lock (_stderr) return _stderrLines; }
    }

    /// <summary>The kept stderr lines, oldest first.</summary>
    public List<string> StdErr()
    {
        lock (_stderr) return new List<string>(_stderr);
    }

    /// <summary>The kept stdout lines (the first is the URL line), oldest first.</summary>
    public List<string> StdOut()
    {
        lock (_stdout) return new List<string>(_stdout);
    }

    /// <summary>Both streams, labelled, for error messages.</summary>
    public string Output() =>
        "--- emulator stderr ---\n" + string.Join("\n", StdErr()) + "\n--- emulator stdout ---\n" + string.Join("\n", StdOut());

    private void Keep(Queue<string> lines, string line)
    {
        lines.Enqueue(line);
        while (_retain is int max && lines.Count > max)
        {
            lines.Dequeue();
        }
    }

    private bool AcceptsConnections(int steps)
    {
        for (int step = 0; step < steps && !_process.HasExited; step++)
        {
            using var client = new TcpClient();
            try
            {
                if (client.ConnectAsync(IPAddress.Loopback, Port).Wait(100))
                {
                    return true;
                }
            }
            catch (AggregateException)
            {
                // Refused: not listening yet.
                System.Threading.Thread.Sleep(100);
            }
        }

        return false;
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            // --exit-on-stdin-eof: closing stdin stops it; kill only if it does not stop in time.
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000))
            {
                Kill();
            }

            // Without a timeout this also waits for the asynchronous stderr reader to finish, so
            // the emulator's last lines are kept.
            _process.WaitForExit(5000);
            _process.WaitForExit();
            _stdoutPump.Wait(2000);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or AggregateException)
        {
        }

        _process.Dispose();
    }
}
