using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Collections.Generic;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>The cmdlet's parameter contract equals the original help page.</summary>
[Collection("Engine")]
public sealed class ContractTests : IDisposable
{
    private readonly Engine _engine = new();

    public void Dispose() => _engine.Dispose();

    private CommandInfo Command(string name) =>
        (CommandInfo)_engine.Run("Get-Command $args[0]", name).Output.Single().BaseObject;

    [Theory]
    [InlineData("TenantName", typeof(string), 0)]
    [InlineData("HostPoolName", typeof(string), 1)]
    [InlineData("SessionHostName", typeof(string), 2)]
    [InlineData("SessionId", typeof(int), 3)]
    public void Identity_parameters_match_the_help_page(string name, Type type, int position)
    {
        var p = Command("Invoke-RdsUserSessionLogoff").Parameters[name];
        Assert.Equal(type, p.ParameterType);
        var attribute = Assert.Single(p.Attributes.OfType<ParameterAttribute>());
        Assert.True(attribute.Mandatory);
        Assert.Equal(position, attribute.Position);
        Assert.True(attribute.ValueFromPipeline);
        Assert.True(attribute.ValueFromPipelineByPropertyName);
        Assert.Empty(p.Aliases);
    }

    [Theory]
    [InlineData("NoUserPrompt")]
    [InlineData("Force")]
    [InlineData("PassThru")]
    public void Switches_are_named_optional_and_not_from_the_pipeline(string name)
    {
        var p = Command("Invoke-RdsUserSessionLogoff").Parameters[name];
        Assert.Equal(typeof(SwitchParameter), p.ParameterType);
        var attribute = Assert.Single(p.Attributes.OfType<ParameterAttribute>());
        Assert.False(attribute.Mandatory);
        Assert.Equal(int.MinValue, attribute.Position);
        Assert.False(attribute.ValueFromPipeline);
        Assert.False(attribute.ValueFromPipelineByPropertyName);
    }

    [Fact]
    public void Only_the_documented_parameters_exist()
    {
        var own = Command("Invoke-RdsUserSessionLogoff").Parameters.Keys
            .Except(PSCmdlet.CommonParameters).Except(PSCmdlet.OptionalCommonParameters)
            .OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(new[] { "Force", "HostPoolName", "NoUserPrompt", "PassThru", "SessionHostName", "SessionId", "TenantName", "ThrottleLimit" }, own);
    }

    [Fact]
    public void Syntax_reads_like_the_help_page()
    {
        string syntax = _engine.Run("Get-Command Invoke-RdsUserSessionLogoff -Syntax").Output.Single().ToString().Trim();
        Assert.True(syntax.StartsWith("Invoke-RdsUserSessionLogoff [-TenantName] <string> [-HostPoolName] <string> [-SessionHostName] <string> [-SessionId] <int> ", StringComparison.Ordinal), syntax);
        Assert.Contains("[-NoUserPrompt]", syntax);
        Assert.Contains("[-Force]", syntax);
    }

    [Fact]
    public void The_module_exports_exactly_its_cmdlets_and_carries_the_project_version()
    {
        var r = _engine.Run("$m = Get-Module RdsSessions; $m.Version.ToString(); $m.ExportedCmdlets.Keys | Sort-Object");
        Assert.Equal(TestEnv.Version, r.Output[0].ToString());
        var r2 = _engine.Run("(Get-Module RdsSessions).ExportedCmdlets.Keys");
        Assert.Equal(new[] { "Add-RdsAccount", "Disconnect-RdsUserSession", "Get-RdsArmMapping", "Get-RdsContext", "Get-RdsHostPool", "Get-RdsSessionHost", "Get-RdsTenant", "Get-RdsUserSession", "Invoke-RdsUserSessionLogoff", "Send-RdsUserSessionMessage", "Set-RdsArmMapping", "Set-RdsContext", "Set-RdsSessionHost" },
            r2.Output.Select(o => o.ToString()).OrderBy(s => s, StringComparer.Ordinal));
        var r3 = _engine.Run("(Get-Module RdsSessions).PowerShellVersion.ToString(); (Get-Module RdsSessions).PrivateData.PSData.Tags");
        Assert.Equal("7.4", r3.Output[0].ToString());
        Assert.Contains("PSEdition_Core", r3.Output.Skip(1).Select(o => o.ToString()));
    }

    [Fact]
    public void The_native_library_is_laid_out_under_runtimes_and_matches_the_version()
    {
        string moduleDir = Path.GetDirectoryName(TestEnv.ManifestPath)!;
        Assert.True(File.Exists(Path.Combine(moduleDir, "runtimes", "linux-x64", "native", "librds_sessions.so")) || !OperatingSystem.IsLinux());
        Assert.Equal(Path.GetFileName(Path.GetDirectoryName(TestEnv.ManifestPath)), TestEnv.Version);
    }
}

/// <summary>Every .ps1 of the repository parses with the real PowerShell parser (no pwsh needed).</summary>
public sealed class ScriptParseTests
{
    public static IEnumerable<object[]> Scripts() =>
        Directory.EnumerateFiles(TestEnv.RepoRoot, "*.ps1", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(TestEnv.RepoRoot, "*.psd1", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                     && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                     && !f.Contains($"{Path.DirectorySeparatorChar}target{Path.DirectorySeparatorChar}")
                     && !f.Contains($"{Path.DirectorySeparatorChar}out{Path.DirectorySeparatorChar}"))
            .Select(f => new object[] { Path.GetRelativePath(TestEnv.RepoRoot, f) });

    [Fact]
    public void The_repository_has_scripts_to_parse()
    {
        var all = Scripts().Select(s => (string)s[0]).ToList();
        Assert.Contains("build.ps1", all);
        Assert.Contains(all, s => s.StartsWith("Pester" + Path.DirectorySeparatorChar) && s.EndsWith(".Tests.ps1"));
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_parses_without_errors(string relativePath)
    {
        Parser.ParseFile(Path.Combine(TestEnv.RepoRoot, relativePath), out _, out ParseError[] errors);
        Assert.True(errors.Length == 0,
            relativePath + ":\n" + string.Join("\n", errors.Select(e => $"  line {e.Extent.StartLineNumber}: {e.Message}")));
    }
}
