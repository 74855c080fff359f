using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.Json.Nodes;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>
/// Set-RdsArmMapping and Get-RdsArmMapping on a mapping file of their own (never the user's):
/// what is written is what is read back, changes keep the rest, bad files and bad values are
/// refused naming the file, line and field or the parameter, and nothing is written then.
/// </summary>
public sealed class ArmMappingTests : IDisposable
{
    private const string Sub = "11111111-1111-1111-1111-111111111111";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"rds-mapping-{Guid.NewGuid():N}");
    private readonly Engine _engine = new();

    private string File_ => Path.Combine(_folder, "nested", "arm-mapping.json");

    public void Dispose()
    {
        _engine.Dispose();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void What_is_set_is_read_back_and_a_change_keeps_the_rest()
    {
        var r = _engine.Run(
            "Set-RdsArmMapping Contoso $args[1] -ResourceGroupName rg-avd -Path $args[0]; " +
            "Set-RdsArmMapping Contoso -HostPoolName Pool-Desktop -ResourceGroupName rg-desktop -ArmHostPoolName hp-desktop -Path $args[0]; " +
            "Set-RdsArmMapping Fabrikam $args[2] -Path $args[0] -PassThru",
            File_, Sub, "22222222-2222-2222-2222-222222222222");
        Assert.Empty(r.Errors);
        var passThru = Assert.Single(r.Output);
        Assert.Equal("Fabrikam", passThru.Properties["TenantName"].Value);
        Assert.Null(passThru.Properties["ResourceGroupName"].Value); // found by name

        var rows = _engine.Run("Get-RdsArmMapping -Path $args[0] | ForEach-Object { '{0}|{1}|{2}|{3}|{4}' -f $_.TenantName, $_.SubscriptionId, $_.ResourceGroupName, $_.HostPoolName, $_.ArmHostPoolName }", File_);
        Assert.Equal(new[]
        {
            $"Contoso|{Sub}|rg-avd||",
            $"Contoso|{Sub}|rg-desktop|Pool-Desktop|hp-desktop",
            "Fabrikam|22222222-2222-2222-2222-222222222222|||",
        }, rows.Output.Select(o => o.ToString()));

        // The file is the documented JSON shape.
        var json = JsonNode.Parse(File.ReadAllText(File_))!;
        Assert.Equal("rg-desktop", (string?)json["tenants"]!["Contoso"]!["hostPools"]!["Pool-Desktop"]!["resourceGroup"]);

        // -WhatIf writes nothing.
        string before = File.ReadAllText(File_);
        _engine.Run("Set-RdsArmMapping Contoso -ResourceGroupName rg-other -Path $args[0] -WhatIf", File_);
        Assert.Equal(before, File.ReadAllText(File_));
    }

    [Fact]
    public void A_bad_file_is_refused_naming_the_file_line_and_field()
    {
        Directory.CreateDirectory(_folder);
        string bad = Path.Combine(_folder, "bad.json");
        File.WriteAllText(bad, "{\n  \"tenants\": {\n    \"Contoso\": {\n      \"subscriptionId\": \"not-a-guid\"\n    }\n  }\n}\n");
        var r = _engine.Run("try { Get-RdsArmMapping -Path $args[0] } catch { $_ }", bad);
        var error = r.Output.Select(o => o.BaseObject).OfType<ErrorRecord>().Single();
        Assert.StartsWith("ArmMappingInvalid,", error.FullyQualifiedErrorId);
        Assert.Contains(bad, error.Exception.Message);
        Assert.Contains("line 4, field 'tenants.Contoso.subscriptionId'", error.Exception.Message);

        // Set-RdsArmMapping does not overwrite a file it cannot read.
        string before = File.ReadAllText(bad);
        var set = _engine.Run("Set-RdsArmMapping Contoso -ResourceGroupName rg -Path $args[0]", bad);
        Assert.StartsWith("ArmMappingInvalid,", Assert.Single(set.Errors).FullyQualifiedErrorId);
        Assert.Equal(before, File.ReadAllText(bad));
    }

    /// <summary>By name: xunit would turn a lone surrogate passed as data into U+FFFD.</summary>
    private static readonly Dictionary<string, string> Values = new()
    {
        ["space"] = " ",
        ["control"] = "a\u0001b",
        ["route characters"] = "a/b?c#d",
        ["dot dot"] = "..",
        ["64 KB"] = new string('x', 64 * 1024),
        ["lone surrogate"] = "a\uD800b",
        ["16 MB"] = new string('x', 16 * 1024 * 1024),
    };

    public static IEnumerable<object[]> BadValues() =>
        from parameter in new[] { "TenantName", "SubscriptionId", "ResourceGroupName", "HostPoolName", "ArmHostPoolName", "ArmEndpoint", "ApiVersion" }
        from value in Values.Keys
        // Names (tenant, host pool) are keys: any text that is one segment is a valid one.
        where !(parameter is "TenantName" or "HostPoolName" && value is "route characters")
        select new object[] { parameter, value };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Each_bad_value_is_refused_naming_its_parameter_and_nothing_is_written(string parameter, string valueName)
    {
        string value = Values[valueName];
        var arguments = new Dictionary<string, object>
        {
            ["TenantName"] = "Contoso",
            ["SubscriptionId"] = Sub,
            ["Path"] = File_,
        };
        if (parameter == "ArmHostPoolName")
        {
            arguments["HostPoolName"] = "Pool-Desktop";
        }

        arguments[parameter] = value;
        var r = _engine.Run("param($a) try { Set-RdsArmMapping @a } catch { $_ }", arguments);
        var errors = r.Errors.Concat(r.Output.Select(o => o?.BaseObject).OfType<ErrorRecord>()).ToList();
        var e = Assert.Single(errors);
        Assert.Contains(parameter, e.Exception.Message + " " + e.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.True(e.Exception.Message.Length < 2000, e.Exception.Message.Length.ToString());
        Assert.False(File.Exists(File_), "nothing is written");
    }

    [Fact]
    public void A_hashtable_mapping_takes_field_names_in_any_case_and_names_a_field_it_does_not_know()
    {
        // Keys typed by hand: the case of a field name does not matter, as in any PowerShell hashtable.
        var ok = _engine.Run(
            "Add-RdsAccount -DeploymentUrl https://rdbroker.wvd.microsoft.com -AccessToken t -ArmMapping @{ Contoso = @{ SUBSCRIPTIONID = $args[0]; hostpools = @{ 'Pool-Apps' = @{ ResourceGroupName = 'rg-apps'; ArmHostPoolName = 'hp-apps' } } } } | Out-Null; (Get-RdsContext).Backend",
            Sub);
        Assert.Empty(ok.Errors);
        Assert.Equal("ARM", Assert.Single(ok.Output).ToString());

        var bad = _engine.Run(
            "try { Add-RdsAccount -DeploymentUrl https://rdbroker.wvd.microsoft.com -AccessToken t -ArmMapping @{ Contoso = @{ Subscription = $args[0] } } } catch { $_ }",
            Sub);
        var e = bad.Errors.Concat(bad.Output.Select(o => o?.BaseObject).OfType<ErrorRecord>()).Single();
        Assert.StartsWith("ArmMappingInvalid,", e.FullyQualifiedErrorId);
        Assert.Contains("subscription", e.Exception.Message, StringComparison.Ordinal);
    }
}
