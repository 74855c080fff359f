using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>
/// Import-time native loading, each case in a fresh process (a loaded library cannot be
/// unloaded, so this process cannot show a failing import).
/// </summary>
public sealed class NativeLoadingTests
{
    private static (int Exit, string Out, string Err) Import(string manifest, string? overridePath)
    {
        string script = Path.Combine(Path.GetTempPath(), $"rds-import-{Guid.NewGuid():N}.ps1");
        File.WriteAllText(script, "param($m) Import-Module $m -ErrorAction Stop; 'imported ' + (Get-Module RdsSessions).Version");
        try
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(TestEnv.Metadata("ScriptHost"));
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add("-m");
            psi.ArgumentList.Add(manifest);
            psi.Environment["RDSSESSIONS_NATIVE_PATH"] = overridePath ?? string.Empty;
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(60_000), "script host hung");
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public void The_built_module_imports_in_a_fresh_process()
    {
        var (exit, output, error) = Import(TestEnv.ManifestPath, null);
        Assert.True(exit == 0, error);
        Assert.Contains("imported " + TestEnv.Version, output);
    }

    [Fact]
    public void A_missing_library_fails_the_import_listing_the_paths_searched()
    {
        // A copy of the module without its runtimes/ folder.
        string copy = Path.Combine(Path.GetTempPath(), $"rds-module-{Guid.NewGuid():N}", "RdsSessions");
        Directory.CreateDirectory(copy);
        try
        {
            string source = Path.GetDirectoryName(TestEnv.ManifestPath)!;
            foreach (string file in Directory.GetFiles(source))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }

            var (exit, _, error) = Import(Path.Combine(copy, "RdsSessions.psd1"), null);
            Assert.NotEqual(0, exit);
            Assert.Contains("could not load its native library", error);
            Assert.Contains(Path.Combine(copy, "runtimes", "linux-x64", "native", "librds_sessions.so"), error);
            Assert.Contains("RDSSESSIONS_NATIVE_PATH", error);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, recursive: true);
        }
    }

    [Fact]
    public void The_override_variable_is_honoured_and_never_silently_ignored()
    {
        var (exit, _, error) = Import(TestEnv.ManifestPath, "/nonexistent/librds_sessions.so");
        Assert.NotEqual(0, exit);
        Assert.Contains("/nonexistent/librds_sessions.so", error);
        Assert.DoesNotContain("runtimes", error); // the override is the only candidate

        string real = Path.Combine(Path.GetDirectoryName(TestEnv.ManifestPath)!, "runtimes", "linux-x64", "native", "librds_sessions.so");
        var (ok, output, okError) = Import(TestEnv.ManifestPath, real);
        Assert.True(ok == 0, okError);
        Assert.Contains("imported", output);
    }
}
