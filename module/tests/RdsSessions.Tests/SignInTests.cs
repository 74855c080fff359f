using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Threading;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>Add-RdsAccount's sign-in modes end to end: Entra-like emulator → token → broker logoff.</summary>
[Collection("Engine")]
public sealed class SignInTests : IDisposable
{
    private const string AddFqid = ",RdsSessions.Commands.AddRdsAccountCommand";
    private readonly Emulator _emulator;
    private readonly Engine _engine = new();

    public SignInTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
    }

    public void Dispose()
    {
        _engine.Dispose();
        foreach (string name in new[] { "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_AUTHORITY_HOST" })
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        Environment.SetEnvironmentVariable("IMDS_ENDPOINT", TestEnv.ClosedImds);
    }

    /// <summary>Seeds the default sessions with an identity section modified by <paramref name="edit"/>.</summary>
    private void SeedIdentity(Action<JsonObject> edit)
    {
        var seed = Seed.Default();
        var identity = _emulator.SampleIdentity.DeepClone().AsObject();
        edit(identity);
        seed["identity"] = identity;
        _emulator.SetState(seed);
    }

    /// <summary>Signs in with <paramref name="script"/> (args: url, authority, ...) and proves the context logs a session off.</summary>
    private PSObject SignInAndLogoff(string script, params object[] args)
    {
        var r = _engine.Run(script, new object[] { _emulator.Url, _emulator.Url }.Concat(args).ToArray());
        Assert.True(r.Errors.Count == 0, string.Join("\n", r.Errors.Select(e => e.ToString())));
        var context = Assert.Single(r.Output);
        Assert.Equal("RdsSessions.RdsContext", context.BaseObject.GetType().FullName);
        var logoff = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt");
        Assert.True(logoff.Errors.Count == 0, string.Join("\n", logoff.Errors.Select(e => e.ToString())));
        Assert.Equal(Seed.DefaultExcept("Contoso/Pool1/sh1.contoso.com/17"), _emulator.SessionsLeft());
        return context;
    }

    [Fact]
    public void Service_principal_with_a_secret()
    {
        var context = SignInAndLogoff(
            "Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -Credential $args[2] -ServicePrincipal -AadTenantId $args[3]",
            Identities.Credential(Identities.AppId, Identities.AppSecret), Identities.Tenant);
        Assert.Equal(Identities.AppId, context.Properties["UserName"].Value);
        Assert.Equal("Default Tenant Group", context.Properties["TenantGroupName"].Value);
    }

    [Fact]
    public void Positional_credential_and_the_TenantId_alias()
    {
        SignInAndLogoff(
            "Add-RdsAccount $args[0] $args[2] -ServicePrincipal -TenantId $args[3] -AuthorityHost $args[1]",
            Identities.Credential(Identities.AppId, Identities.AppSecret), Identities.Tenant);
    }

    [Fact]
    public void ServicePrincipal_true_as_a_computed_boolean()
    {
        SignInAndLogoff(
            "$isApp = $true; Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -Credential $args[2] -ServicePrincipal:$isApp -AadTenantId $args[3]",
            Identities.Credential(Identities.AppId, Identities.AppSecret), Identities.Tenant);
    }

    [Fact]
    public void ServicePrincipal_false_signs_the_credential_in_as_a_user()
    {
        var context = SignInAndLogoff(
            "$isApp = $false; Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -Credential $args[2] -ServicePrincipal:$isApp -AadTenantId $args[3]",
            Identities.Credential(Identities.User, Identities.Password), Identities.Tenant);
        Assert.Equal(Identities.User, context.Properties["UserName"].Value);
    }

    [Fact]
    public void User_credential_with_the_authority_from_the_environment()
    {
        Environment.SetEnvironmentVariable("AZURE_AUTHORITY_HOST", _emulator.Url);
        var context = SignInAndLogoff(
            "Add-RdsAccount $args[0] $args[2] -AadTenantId $args[3]",
            Identities.Credential(Identities.User, Identities.Password), Identities.Tenant);
        Assert.Equal(Identities.User, context.Properties["UserName"].Value);
    }

    [Fact]
    public void Interactive_device_code_shows_the_code_and_signs_in()
    {
        SeedIdentity(i => i["deviceCode"] = new JsonObject
        {
            ["intervalSeconds"] = 1, ["expiresInSeconds"] = 60, ["autoApproveUser"] = Identities.User, ["approveAfterPolls"] = 1,
        });
        var r = _engine.Run("Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -AadTenantId $args[2]",
            _emulator.Url, _emulator.Url, Identities.Tenant);
        Assert.Empty(r.Errors);
        var warning = Assert.Single(r.PowerShell.Streams.Warning);
        Assert.Contains("enter the code", warning.Message);
        Assert.Contains(_emulator.Url + "/devicelogin", warning.Message);
        Assert.Equal(Identities.User, Assert.Single(r.Output).Properties["UserName"].Value);
        Assert.Empty(_engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt").Errors);
    }

    [Fact]
    public void Certificate_file_pfx_with_password()
    {
        using RSA key = RSA.Create(2048);
        using X509Certificate2 certificate = SelfSigned(key, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        RegisterCertificateApp(certificate);
        string pfx = Path.Combine(Path.GetTempPath(), $"rds-test-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, "pfx-pass"));
        try
        {
            var context = SignInAndLogoff(
                "Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -CertificatePath $args[2] -CertificatePassword $args[3] -ApplicationId $args[4] -AadTenantId $args[5]",
                pfx, Identities.Secure("pfx-pass"), Identities.CertAppId, Identities.Tenant);
            Assert.Equal(Identities.CertAppId, context.Properties["UserName"].Value);
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    [Fact]
    public void Certificate_thumbprint_from_the_current_user_store()
    {
        using RSA key = RSA.Create(2048);
        using X509Certificate2 ephemeral = SelfSigned(key, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        // A persisted copy, as certificates installed in a store are.
        using var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx, "x"), "x",
            X509KeyStorageFlags.PersistKeySet | X509KeyStorageFlags.Exportable);
        RegisterCertificateApp(certificate);
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        store.Open(OpenFlags.ReadWrite);
        store.Add(certificate);
        try
        {
            SignInAndLogoff(
                "Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -CertificateThumbprint $args[2] -ApplicationId $args[3] -AadTenantId $args[4]",
                certificate.Thumbprint.ToLowerInvariant(), Identities.CertAppId, Identities.Tenant);
        }
        finally
        {
            store.Remove(certificate);
        }
    }

    [Fact]
    public void Managed_identity_through_imds()
    {
        Environment.SetEnvironmentVariable("IMDS_ENDPOINT", _emulator.Url);
        var r = _engine.Run("Add-RdsAccount -DeploymentUrl $args[0] -Identity", _emulator.Url);
        Assert.Empty(r.Errors);
        Assert.Equal(Identities.SystemIdentityId, Assert.Single(r.Output).Properties["UserName"].Value);
        Assert.Empty(_engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt").Errors);
        Assert.Contains(_emulator.Requests(), q => (string?)q!["route"] == "imds");
    }

    [Fact]
    public void Managed_identity_through_the_app_service_endpoint()
    {
        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", _emulator.Url + "/msi/token");
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", Identities.IdentityHeader);
        var r = _engine.Run("Add-RdsAccount -DeploymentUrl $args[0] -Identity", _emulator.Url);
        Assert.Empty(r.Errors);
        Assert.Empty(_engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt").Errors);
        Assert.Contains(_emulator.Requests(), q => (string?)q!["route"] == "appServiceMsi");
    }

    public static IEnumerable<object[]> Refusals() => new[]
    {
        new object[] { "wrong secret", Identities.AppId, "not-the-secret", "InvalidClientSecret", ErrorCategory.AuthenticationError, "AADSTS7000215" },
        new object[] { "unknown application", "99999999-9999-9999-9999-999999999999", Identities.AppSecret, "ApplicationNotFound", ErrorCategory.AuthenticationError, "AADSTS700016" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Refused_sign_ins_are_specific_terminating_errors(string why, string appId, string secret, string errorId, ErrorCategory category, string code)
    {
        var r = _engine.Run(
            "try { Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -Credential $args[2] -ServicePrincipal -AadTenantId $args[3] } catch { $_ }",
            _emulator.Url, _emulator.Url, Identities.Credential(appId, secret), Identities.Tenant);
        var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.Equal(errorId + AddFqid, e.FullyQualifiedErrorId);
        Assert.Equal(category, e.CategoryInfo.Category);
        Assert.Contains(code, e.Exception.Message);
        Assert.DoesNotContain(secret, e.ToString() + e.Exception, StringComparison.Ordinal);
        Assert.True(r.Output.Count == 1, why);
        Assert.Empty(_engine.Run("try { Get-RdsContext } catch { }").Output); // nothing stored
    }

    [Fact]
    public void An_expired_certificate_is_refused_before_any_request()
    {
        using RSA key = RSA.Create(2048);
        using X509Certificate2 expired = SelfSigned(key, DateTimeOffset.UtcNow.AddYears(-2), DateTimeOffset.UtcNow.AddYears(-1));
        RegisterCertificateApp(expired);
        string pem = Path.Combine(Path.GetTempPath(), $"rds-test-{Guid.NewGuid():N}.pem");
        File.WriteAllText(pem, expired.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());
        try
        {
            var r = _engine.Run(
                "try { Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -CertificatePath $args[2] -ApplicationId $args[3] -AadTenantId $args[4] } catch { $_ }",
                _emulator.Url, _emulator.Url, pem, Identities.CertAppId, Identities.Tenant);
            var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
            Assert.Equal("CertificateExpired" + AddFqid, e.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.SecurityError, e.CategoryInfo.Category);
            Assert.DoesNotContain(_emulator.Requests(), q => (string?)q!["route"] == "token");
        }
        finally
        {
            File.Delete(pem);
        }
    }

    [Fact]
    public void A_missing_certificate_in_the_store_is_object_not_found()
    {
        var r = _engine.Run(
            "try { Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -CertificateThumbprint 'AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12' -ApplicationId $args[2] -AadTenantId $args[3] } catch { $_ }",
            _emulator.Url, _emulator.Url, Identities.CertAppId, Identities.Tenant);
        var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.Equal("CertificateNotFound" + AddFqid, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
    }

    [Fact]
    public void An_unreachable_authority_is_a_connection_error()
    {
        var r = _engine.Run(
            "try { Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost 'http://127.0.0.1:9' -Credential $args[1] -ServicePrincipal -AadTenantId $args[2] } catch { $_ }",
            _emulator.Url, Identities.Credential(Identities.AppId, Identities.AppSecret), Identities.Tenant);
        var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.Equal("AuthorityUnreachable" + AddFqid, e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, e.CategoryInfo.Category);
    }

    [Fact]
    public void A_token_the_broker_rejects_is_BrokerUnauthorized_on_use()
    {
        const string forged = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJodHRwczovL21ycy1wcm9kLmFtZS5nYmwvbXJzLVJESW5mcmEtcHJvZCJ9.Zm9yZ2Vk";
        _engine.Run("Add-RdsAccount -DeploymentUrl $args[0] -AccessToken $args[1] | Out-Null", _emulator.Url, forged);
        var r = _engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt");
        var e = Assert.Single(r.Errors);
        Assert.Equal("BrokerUnauthorized,RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.AuthenticationError, e.CategoryInfo.Category);
        Assert.DoesNotContain(forged, e.ToString() + e.Exception);
        Assert.Equal(Seed.DefaultExcept(), _emulator.SessionsLeft());
    }

    [Fact]
    public void Set_RdsContext_switches_the_tenant_group_for_later_calls()
    {
        var seed = Seed.Default();
        seed["tenantGroups"]!.AsArray().Add(JsonNode.Parse(
            "{\"name\":\"Other Group\",\"tenants\":[{\"name\":\"Contoso\",\"hostPools\":[{\"name\":\"Pool1\",\"sessionHosts\":[{\"name\":\"sh1.contoso.com\",\"sessions\":[" +
            "{\"sessionId\":17,\"userPrincipalName\":\"o@x\",\"adUserName\":\"X\\\\o\",\"applicationType\":\"Desktop\",\"sessionState\":\"Active\",\"createTime\":\"2026-11-23T00:00:00Z\"}]}]}]}]}"));
        _emulator.SetState(seed);
        _engine.SignIn(_emulator);
        Assert.Equal("Default Tenant Group", _engine.Run("(Get-RdsContext).TenantGroupName").Output.Single().BaseObject);
        var set = _engine.Run("Set-RdsContext 'Other Group'");
        Assert.Empty(set.Errors);
        Assert.Equal("Other Group", set.Output.Single().Properties["TenantGroupName"].Value);
        Assert.Equal("Other Group", _engine.Run("(Get-RdsContext).TenantGroupName").Output.Single().BaseObject);
        Assert.Empty(_engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt").Errors);
        var request = _emulator.Requests().Last();
        Assert.Equal("Other Group", (string?)request!["tenantGroup"]);
        // The default group's session 17 is still there.
        Assert.Contains("Contoso/Pool1/sh1.contoso.com/17", _emulator.SessionsLeft());
        Assert.Empty(_engine.Run("Set-RdsContext -TenantGroupName 'Default Tenant Group' | Out-Null").Errors);
        Assert.Equal("Default Tenant Group", _engine.Run("(Get-RdsContext).TenantGroupName").Output.Single().BaseObject);
    }

    [Fact]
    public void Tokens_are_renewed_when_they_expire_during_a_session()
    {
        SeedIdentity(i => i["tokenLifetimeSeconds"] = 2);
        _engine.Run("Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[0] -Credential $args[1] -ServicePrincipal -AadTenantId $args[2] | Out-Null",
            _emulator.Url, Identities.Credential(Identities.AppId, Identities.AppSecret), Identities.Tenant);
        Assert.Empty(_engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt").Errors);
        Thread.Sleep(2500); // the first token has expired
        Assert.Empty(_engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 18 -NoUserPrompt").Errors);
        Assert.Equal(Seed.DefaultExcept("Contoso/Pool1/sh1.contoso.com/17", "Contoso/Pool1/sh1.contoso.com/18"), _emulator.SessionsLeft());
    }

    [Fact]
    public void No_secret_password_header_or_token_reaches_any_stream()
    {
        using RSA key = RSA.Create(2048);
        using X509Certificate2 certificate = SelfSigned(key, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        RegisterCertificateApp(certificate);
        string pfx = Path.Combine(Path.GetTempPath(), $"rds-test-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, "pfx-secret-pass"));
        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", _emulator.Url + "/msi/token");
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", Identities.IdentityHeader);
        var secrets = new[] { Identities.AppSecret, Identities.Password, Identities.IdentityHeader, "pfx-secret-pass", "not-the-secret", "eyJ", Emulator.Token };
        var scripts = new (string Script, object[] Args)[]
        {
            ("Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -Credential $args[2] -ServicePrincipal -AadTenantId $args[3] -Verbose -Debug",
                new object[] { _emulator.Url, _emulator.Url, Identities.Credential(Identities.AppId, Identities.AppSecret), Identities.Tenant }),
            ("Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -Credential $args[2] -ServicePrincipal -AadTenantId $args[3] -Verbose -Debug",
                new object[] { _emulator.Url, _emulator.Url, Identities.Credential(Identities.AppId, "not-the-secret"), Identities.Tenant }),
            ("Add-RdsAccount $args[0] $args[2] -AadTenantId $args[3] -AuthorityHost $args[1] -Verbose -Debug",
                new object[] { _emulator.Url, _emulator.Url, Identities.Credential(Identities.User, Identities.Password), Identities.Tenant }),
            ("Add-RdsAccount $args[0] $args[2] -AadTenantId $args[3] -AuthorityHost $args[1] -Verbose -Debug",
                new object[] { _emulator.Url, _emulator.Url, Identities.Credential(Identities.User, Identities.Password + "x"), Identities.Tenant }),
            ("Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -CertificatePath $args[2] -CertificatePassword $args[3] -ApplicationId $args[4] -AadTenantId $args[5] -Verbose -Debug",
                new object[] { _emulator.Url, _emulator.Url, pfx, Identities.Secure("pfx-secret-pass"), Identities.CertAppId, Identities.Tenant }),
            ("Add-RdsAccount -DeploymentUrl $args[0] -AuthorityHost $args[1] -CertificatePath $args[2] -CertificatePassword $args[3] -ApplicationId $args[4] -AadTenantId $args[5] -Verbose -Debug",
                new object[] { _emulator.Url, _emulator.Url, pfx, Identities.Secure("not-the-secret"), Identities.CertAppId, Identities.Tenant }),
            ("Add-RdsAccount -DeploymentUrl $args[0] -Identity -Verbose -Debug", new object[] { _emulator.Url }),
            ("Get-RdsContext -Verbose -Debug; (Get-RdsContext).ToString(); Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt -PassThru -Verbose -Debug",
                Array.Empty<object>()),
            ("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 99 -NoUserPrompt -Verbose -Debug", Array.Empty<object>()),
        };
        try
        {
            foreach (var (script, args) in scripts)
            {
                var r = _engine.Run("$DebugPreference = 'Continue'; try { " + script + " } catch { $_ }", args);
                var streams = r.PowerShell.Streams;
                var text = string.Join("\n", r.Output.Where(o => o?.BaseObject is not ErrorRecord)
                        .Select(o => o?.ToString() + " " + string.Join(" ", o?.Properties.Select(p => $"{p.Name}={p.Value}") ?? Array.Empty<string>())))
                    + string.Join("\n", streams.Error.Select(e => e + " " + e.Exception + " " + e.ErrorDetails + " " + e.TargetObject))
                    + string.Join("\n", r.Output.Select(o => o?.BaseObject).OfType<ErrorRecord>().Select(e => e.Exception.ToString() + e.TargetObject))
                    + string.Join("\n", streams.Verbose.Select(v => v.Message))
                    + string.Join("\n", streams.Debug.Select(v => v.Message))
                    + string.Join("\n", streams.Warning.Select(v => v.Message))
                    + string.Join("\n", streams.Information.Select(v => v.ToString()))
                    + string.Join("\n", _engine.Host.TestUI.Lines)
                    + string.Join("\n", _engine.Host.TestUI.Verbose)
                    + string.Join("\n", _engine.Host.TestUI.Debug)
                    + string.Join("\n", _engine.Host.TestUI.Warnings);
                Assert.True(streams.Verbose.Count > 0 || script.StartsWith("Get-RdsContext", StringComparison.Ordinal), "verbose output was produced: " + script);
                foreach (string secret in secrets)
                {
                    Assert.False(text.Contains(secret, StringComparison.Ordinal), $"'{secret}' leaked from: {script}\n{text}");
                }
            }

            // The emulator's own logs (stderr, stdout, request log) after every flow above,
            // including the failed sign-ins, hold no secret or token either.
            string logs = _emulator.Logs();
            Assert.Contains("/oauth2/v2.0/token", logs); // the sign-ins were logged at all
            foreach (string secret in secrets)
            {
                Assert.False(logs.Contains(secret, StringComparison.Ordinal), $"'{secret}' leaked into the emulator's logs");
            }
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    private static X509Certificate2 SelfSigned(RSA key, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest("CN=rds-sessions-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    private void RegisterCertificateApp(X509Certificate2 certificate)
    {
        SeedIdentity(i => i["applications"]!.AsArray().Add(new JsonObject
        {
            ["clientId"] = Identities.CertAppId,
            ["displayName"] = "Certificate app",
            ["certificates"] = new JsonArray { certificate.ExportCertificatePem() },
        }));
    }
}
