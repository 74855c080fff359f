using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text.Json.Nodes;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>
/// Every string parameter of the module against the hostile-value list of issue 5: each value
/// is either refused with a clear error that names the parameter before any request is sent,
/// or arrives at the emulator exactly as given, in the field it was meant for, on the route it
/// was meant for. Input can never change which route is called.
/// </summary>
[Collection("Engine")]
public sealed class BadInputTests : IDisposable
{
    private readonly Emulator _emulator;
    private readonly Engine _engine;

    public BadInputTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default()); // also clears the request log
        _engine = new Engine().SignIn(_emulator);
    }

    public void Dispose()
    {
        _engine.Dispose();
        Environment.SetEnvironmentVariable("IMDS_ENDPOINT", TestEnv.ClosedImds);
    }

    private static readonly Dictionary<string, string> Values = new()
    {
        ["empty"] = "",
        ["space"] = " ",
        ["tab"] = "\t",
        ["64 KB"] = new string('x', 64 * 1024),
        // Took the whole process down (stack overflow in the generated marshalling) before issue 10.
        ["16 MB"] = new string('x', 16 * 1024 * 1024),
        // Was sent as U+FFFD instead of refused before issue 10.
        ["lone surrogate"] = "a\uD800b",
        ["control"] = "a\u0001b",
        ["newline"] = "a\nb",
        ["slash"] = "a/b",
        ["question"] = "a?b",
        ["hash"] = "a#b",
        ["encoded slash"] = "a%2Fb",
        ["dot dot"] = "..",
        ["query"] = "a&force=true",
        ["unicode"] = "Zoë 東京 🚀",
    };

    /// <summary>
    /// A parameter under test: the script (the value is $args[0], the emulator URL $args[1],
    /// a valid app credential $args[2], a PEM certificate file $args[3]), the route a sent value goes to and the request-log
    /// field that must then hold it exactly (null: no field to compare, e.g. a header).
    /// </summary>
    private sealed record Target(string Script, string Route, string? Field);

    private static readonly Dictionary<string, Target> Targets = new()
    {
        ["Set-RdsContext -TenantGroupName"] = new(
            "Set-RdsContext -TenantGroupName $args[0] | Out-Null; Get-RdsUserSession Contoso Pool1", "listSessions", "tenantGroup"),
        ["Get-RdsUserSession -TenantName"] = new(
            "Get-RdsUserSession -TenantName $args[0] -HostPoolName Pool1", "listSessions", "tenant"),
        ["Get-RdsUserSession -HostPoolName"] = new(
            "Get-RdsUserSession -TenantName Contoso -HostPoolName $args[0]", "listSessions", "hostPool"),
        ["Invoke-RdsUserSessionLogoff -SessionHostName"] = new(
            "Invoke-RdsUserSessionLogoff Contoso Pool1 $args[0] 17 -NoUserPrompt", "logoffUser", "sessionHost"),
        ["Send-RdsUserSessionMessage -MessageTitle"] = new(
            "Send-RdsUserSessionMessage Contoso Pool1 sh1.contoso.com 17 -MessageTitle $args[0] -MessageBody body -NoUserPrompt", "sendMessageUser", "messageTitle"),
        ["Send-RdsUserSessionMessage -MessageBody"] = new(
            "Send-RdsUserSessionMessage Contoso Pool1 sh1.contoso.com 17 -MessageTitle title -MessageBody $args[0] -NoUserPrompt", "sendMessageUser", "messageBody"),
        ["Add-RdsAccount -AadTenantId"] = new(
            "Add-RdsAccount $args[1] -Credential $args[2] -ServicePrincipal -AadTenantId $args[0] -AuthorityHost $args[1]", "token", "tenant"),
        ["Add-RdsAccount -Credential (application id)"] = new(
            "Add-RdsAccount $args[1] -Credential ([pscredential]::new($args[0], $args[2].Password)) -ServicePrincipal -AadTenantId contoso.onmicrosoft.com -AuthorityHost $args[1]", "token", "clientId"),
        ["Add-RdsAccount -Identity -ClientId"] = new(
            "Add-RdsAccount $args[1] -Identity -ClientId $args[0]", "imds", "clientId"),
        ["Add-RdsAccount -AccessToken"] = new(
            "Add-RdsAccount $args[1] -AccessToken $args[0] | Out-Null; Get-RdsUserSession Contoso Pool1", "listSessions", null),
        ["Add-RdsAccount -DeploymentUrl"] = new(
            "Add-RdsAccount $args[0] -AccessToken token", "none", null),
        ["Add-RdsAccount -AuthorityHost"] = new(
            "Add-RdsAccount $args[1] -Credential $args[2] -ServicePrincipal -AadTenantId contoso.onmicrosoft.com -AuthorityHost $args[0]", "none", null),
        ["Add-RdsAccount -ApplicationId"] = new(
            "Add-RdsAccount $args[1] -CertificatePath $args[3] -ApplicationId $args[0] -AadTenantId contoso.onmicrosoft.com -AuthorityHost $args[1]", "token", "clientId"),
        ["Add-RdsAccount -CertificatePath"] = new(
            "Add-RdsAccount $args[1] -CertificatePath $args[0] -ApplicationId app -AadTenantId contoso.onmicrosoft.com -AuthorityHost $args[1]", "none", null),
        ["Get-RdsTenant -Name"] = new(
            "Get-RdsTenant -Name $args[0]", "getTenant", "tenant"),
        ["Get-RdsHostPool -TenantName"] = new(
            "Get-RdsHostPool -TenantName $args[0]", "listHostPools", "tenant"),
        ["Get-RdsHostPool -Name"] = new(
            "Get-RdsHostPool -TenantName Contoso -Name $args[0]", "getHostPool", "hostPool"),
        ["Get-RdsSessionHost -TenantName"] = new(
            "Get-RdsSessionHost -TenantName $args[0] -HostPoolName Pool1", "listSessionHosts", "tenant"),
        ["Get-RdsSessionHost -HostPoolName"] = new(
            "Get-RdsSessionHost -TenantName Contoso -HostPoolName $args[0]", "listSessionHosts", "hostPool"),
        ["Get-RdsSessionHost -Name"] = new(
            "Get-RdsSessionHost -TenantName Contoso -HostPoolName Pool1 -Name $args[0]", "getSessionHost", "sessionHost"),
        ["Set-RdsSessionHost -TenantName"] = new(
            "Set-RdsSessionHost -TenantName $args[0] -HostPoolName Pool1 -Name sh1.contoso.com -AllowNewSession $false", "updateSessionHost", "tenant"),
        ["Set-RdsSessionHost -HostPoolName"] = new(
            "Set-RdsSessionHost -TenantName Contoso -HostPoolName $args[0] -Name sh1.contoso.com -AllowNewSession $false", "updateSessionHost", "hostPool"),
        ["Set-RdsSessionHost -Name"] = new(
            "Set-RdsSessionHost -TenantName Contoso -HostPoolName Pool1 -Name $args[0] -AllowNewSession $false", "updateSessionHost", "sessionHost"),
        ["Add-RdsAccount -CertificateThumbprint"] = new(
            "Add-RdsAccount $args[1] -CertificateThumbprint $args[0] -ApplicationId app -AadTenantId contoso.onmicrosoft.com -AuthorityHost $args[1]", "none", null),
    };

    /// <summary>"Add-RdsAccount -Identity -ClientId" → "-ClientId": the last parameter named.</summary>
    private static string ParameterOf(string targetName) => targetName.Split(' ').Last(t => t.StartsWith('-'));

    /// <summary>A self-signed certificate with its key as PEM (no Entra app knows it: sign-ins get as far as the token endpoint).</summary>
    private static readonly Lazy<string> CertificateFile = new(() =>
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=rds-bad-input-test", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"rds-bad-input-{Guid.NewGuid():N}.pem");
        System.IO.File.WriteAllText(path, certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());
        AppDomain.CurrentDomain.ProcessExit += (_, _) => System.IO.File.Delete(path);
        return path;
    });

    public static IEnumerable<object[]> Matrix() =>
        from target in Targets.Keys
        from value in Values.Keys
        // PowerShell cannot even build a PSCredential with an empty user name.
        where !(target.Contains("-Credential", StringComparison.Ordinal) && value == "empty")
        select new object[] { target, value };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Each_value_is_refused_before_any_request_or_arrives_exactly(string targetName, string valueName)
    {
        Target target = Targets[targetName];
        string value = Values[valueName];
        string parameter = ParameterOf(targetName).TrimStart('-');
        // The managed identity endpoint is the emulator here (the harness default is a closed port).
        Environment.SetEnvironmentVariable("IMDS_ENDPOINT", _emulator.Url);

        var r = _engine.Run("try { " + target.Script + " } catch { $_ }",
            value, _emulator.Url, Identities.Credential(Identities.AppId, Identities.AppSecret), CertificateFile.Value);
        var errors = r.Errors.Concat(r.Output.Select(o => o?.BaseObject).OfType<ErrorRecord>()).ToList();
        JsonArray requests = _emulator.Requests();

        // Whatever happened, no request went anywhere but the route this parameter feeds.
        Assert.All(requests, q => Assert.Equal(target.Route, (string?)q!["route"]));

        if (requests.Count == 0)
        {
            // Refused: a specific error, before anything was sent, that says which parameter,
            // and does not echo a 64 KB value back.
            var e = Assert.Single(errors);
            string text = e.Exception.Message + " " + e.FullyQualifiedErrorId;
            Assert.True(text.Contains(parameter, StringComparison.Ordinal), $"the error names {parameter}: {text}");
            Assert.True(e.Exception.Message.Length < 2000, "the message does not echo a 64 KB value");
            Assert.NotEqual(ErrorCategory.NotSpecified, e.CategoryInfo.Category);
            return;
        }

        // Sent: exactly as given, in the field it was meant for.
        Assert.NotEqual("none", target.Route);
        var sent = Assert.Single(requests);
        if (target.Field is not null)
        {
            Assert.Equal(value, (string?)sent![target.Field]);
        }
        else
        {
            // A token the broker does not know is refused there, never accepted.
            Assert.False((bool)sent!["authorized"]!);
            Assert.StartsWith("BrokerUnauthorized,", Assert.Single(errors).FullyQualifiedErrorId);
        }
    }

    [Fact]
    public void The_matrix_covers_every_string_parameter_of_the_module()
    {
        // A new string parameter must be added to Targets (or listed here with the reason).
        var notPathOrQuery = new Dictionary<string, string>
        {
            ["Get-RdsContext -DeploymentUrl"] = "compared locally, never sent",
            // The mapping cmdlets write and read a local file: ArmMappingTests runs their
            // string parameters with the same hostile values.
            ["Set-RdsArmMapping -TenantName"] = "ArmMappingTests",
            ["Set-RdsArmMapping -SubscriptionId"] = "ArmMappingTests",
            ["Set-RdsArmMapping -ResourceGroupName"] = "ArmMappingTests",
            ["Set-RdsArmMapping -HostPoolName"] = "ArmMappingTests",
            ["Set-RdsArmMapping -ArmHostPoolName"] = "ArmMappingTests",
            ["Set-RdsArmMapping -ArmEndpoint"] = "ArmMappingTests",
            ["Set-RdsArmMapping -ApiVersion"] = "ArmMappingTests",
            ["Set-RdsArmMapping -Path"] = "a local file path (PowerShell resolves it)",
            ["Get-RdsArmMapping -TenantName"] = "a wildcard filter, never sent",
            ["Get-RdsArmMapping -Path"] = "a local file path (PowerShell resolves it)",
        };
        var r = _engine.Run(
            "Get-Command -Module RdsSessions | ForEach-Object { $c = $_; $c.Parameters.Values | " +
            "Where-Object { $_.ParameterType -eq [string] -and $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters " +
            "-and $_.Name -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters } | ForEach-Object { \"$($c.Name) -$($_.Name)\" } }");
        var stringParameters = r.Output.Select(o => o.ToString()).Distinct().ToList();
        Assert.NotEmpty(stringParameters);
        var covered = Targets.Keys.Select(k => k.Split(' ')[0] + " " + ParameterOf(k))
            .Concat(new[]
            {
                // The same three path segments feed every session cmdlet (RobustnessTests runs
                // each one of them with every unsendable and route-changing value).
                "Invoke-RdsUserSessionLogoff -TenantName", "Invoke-RdsUserSessionLogoff -HostPoolName",
                "Disconnect-RdsUserSession -TenantName", "Disconnect-RdsUserSession -HostPoolName", "Disconnect-RdsUserSession -SessionHostName",
                "Send-RdsUserSessionMessage -TenantName", "Send-RdsUserSessionMessage -HostPoolName", "Send-RdsUserSessionMessage -SessionHostName",
            })
            .Concat(notPathOrQuery.Keys)
            .ToHashSet();
        Assert.All(stringParameters, p => Assert.Contains(p, covered));
    }
}
