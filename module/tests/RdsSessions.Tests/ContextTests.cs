using System;
using System.Linq;
using System.Management.Automation;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>Add-RdsAccount / Get-RdsContext and what happens without a context.</summary>
[Collection("Engine")]
public sealed class ContextTests : IDisposable
{
    private readonly Emulator _emulator;
    private readonly Engine _engine = new();

    public ContextTests(EmulatorFixture fixture)
    {
        _emulator = fixture.Emulator;
        _emulator.SetState(Seed.Default());
    }

    public void Dispose() => _engine.Dispose();

    [Fact]
    public void Add_RdsAccount_returns_and_stores_the_context_without_the_token()
    {
        var r = _engine.Run("Add-RdsAccount -DeploymentUrl ($args[0] + '/') -AccessToken $args[1]", _emulator.Url, Emulator.Token);
        Assert.Empty(r.Errors);
        var context = Assert.Single(r.Output);
        Assert.Equal(_emulator.Url, context.Properties["DeploymentUrl"].Value);
        Assert.Equal("Default Tenant Group", context.Properties["TenantGroupName"].Value);
        Assert.DoesNotContain(context.Properties, p => p.Name.Contains("Token", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(Emulator.Token, context.ToString());

        var again = Assert.Single(_engine.Run("Get-RdsContext").Output);
        Assert.Same(context.BaseObject, again.BaseObject);
        Assert.True(LanguagePrimitives.IsTrue(again)); // scripts test `if (Add-RdsAccount ...)`
    }

    [Fact]
    public void Positional_DeploymentUrl_works()
    {
        var r = _engine.Run("Add-RdsAccount $args[0] -AccessToken $args[1]", _emulator.Url, Emulator.Token);
        Assert.Empty(r.Errors);
        Assert.Equal(_emulator.Url, r.Output.Single().Properties["DeploymentUrl"].Value);
    }

    [Fact]
    public void Get_RdsContext_without_Add_RdsAccount_says_what_to_run()
    {
        var r = _engine.Run("try { Get-RdsContext } catch { $_ }");
        var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.Equal("NoRdsContext,RdsSessions.Commands.GetRdsContextCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, e.CategoryInfo.Category);
        Assert.Contains("Add-RdsAccount", e.Exception.Message);
    }

    [Fact]
    public void Logoff_without_a_context_fails_before_any_request()
    {
        var r = _engine.Run("try { Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt } catch { $_.FullyQualifiedErrorId }");
        Assert.Equal("NoRdsContext,RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand", Assert.Single(r.Output).BaseObject);
        Assert.Empty(_emulator.Requests());
    }

    [Theory]
    [InlineData("http://broker.example.com", "https is required")]
    [InlineData("https://user:secret@broker.example.com", "user name or password")]
    [InlineData("not a url", "not an absolute URL")]
    public void Unsafe_deployment_urls_are_refused(string url, string reason)
    {
        var r = _engine.Run("try { Add-RdsAccount -DeploymentUrl $args[0] -AccessToken t } catch { $_ }", url);
        var e = Assert.IsType<ErrorRecord>(Assert.Single(r.Output).BaseObject);
        Assert.Equal("InvalidAccountParameters,RdsSessions.Commands.AddRdsAccountCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.Contains(reason, e.Exception.Message);
        Assert.DoesNotContain("secret", e.Exception.Message);
        Assert.Empty(_engine.Run("try { Get-RdsContext } catch { }").Output); // nothing stored
    }

    [Fact]
    public void Two_runspaces_keep_their_own_contexts()
    {
        using var other = new Engine();
        _engine.SignIn(_emulator);
        other.Run("Add-RdsAccount -DeploymentUrl 'http://127.0.0.1:9' -AccessToken x | Out-Null");
        Assert.Equal(_emulator.Url, _engine.Run("(Get-RdsContext).DeploymentUrl").Output.Single().BaseObject);
        Assert.Equal("http://127.0.0.1:9", other.Run("(Get-RdsContext).DeploymentUrl").Output.Single().BaseObject);
        // The other runspace's (dead) broker does not affect this one.
        Assert.Empty(_engine.Run("Invoke-RdsUserSessionLogoff Contoso Pool1 sh1.contoso.com 17 -NoUserPrompt").Errors);
        Assert.Equal(Seed.DefaultExcept("Contoso/Pool1/sh1.contoso.com/17"), _emulator.SessionsLeft());
    }
}
