using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Net.Http;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using RdsSessions.Tooling;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>Runs before any SMA type is touched: hermetic, telemetry-free engine.</summary>
internal static class TestEnv
{
    [ModuleInitializer]
    internal static void Init()
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
        Environment.SetEnvironmentVariable("POWERSHELL_UPDATECHECK", "Off");
        // Never let a managed-identity test reach the real metadata address: point IMDS at a
        // closed loopback port unless a test sets it to the emulator.
        Environment.SetEnvironmentVariable("IMDS_ENDPOINT", ClosedImds);
        Environment.SetEnvironmentVariable("PSModuleAnalysisCachePath",
            Path.Combine(Path.GetTempPath(), $"rds-psmac-{Environment.ProcessId}"));
    }

    public const string ClosedImds = "http://127.0.0.1:9";

    public static string Metadata(string key) => typeof(TestEnv).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string ManifestPath => Metadata("ModuleManifest");
    public static string EmulatorPath => Metadata("EmulatorPath");
    public static string RepoRoot => Metadata("RepoRoot");
    public static string Version => Metadata("RdsVersion");
}

/// <summary>
/// The project's broker emulator as a child process on 127.0.0.1 (random port), started by the
/// shared launcher (module/tools/Shared/EmulatorLauncher.cs, also used by the benchmark), plus
/// the admin routes the tests use.
/// </summary>
/// <summary>The two backends every behaviour test runs on.</summary>
public enum Flavour
{
    /// <summary>The classic WVD broker routes (/RdsManagement/V1/...).</summary>
    Classic,

    /// <summary>Azure Resource Manager (Microsoft.DesktopVirtualization) through a mapping.</summary>
    Arm,
}

/// <summary>The ARM mapping of the emulator's data, as an admin would write it.</summary>
public static class ArmMapping
{
    public static JsonObject Of(Emulator emulator)
    {
        var tenants = new JsonObject();
        foreach (var pool in emulator.AdminJson("/_emulator/arm/hostPools").AsArray())
        {
            string tenant = (string)pool!["tenant"]!;
            if (tenants[tenant] is not JsonObject entry)
            {
                entry = new JsonObject { ["subscriptionId"] = (string?)pool["subscriptionId"], ["hostPools"] = new JsonObject() };
                tenants[tenant] = entry;
            }

            entry["hostPools"]![(string)pool["hostPool"]!] = new JsonObject
            {
                ["resourceGroup"] = (string?)pool["resourceGroup"],
                ["name"] = (string?)pool["armHostPoolName"],
            };
        }

        return new JsonObject { ["armEndpoint"] = emulator.Url.TrimEnd('/'), ["tenants"] = tenants };
    }

    /// <summary>The mapping as the hashtable a script passes to Add-RdsAccount -ArmMapping.</summary>
    public static System.Collections.Hashtable ToHashtable(JsonObject json)
    {
        // Case-sensitive keys, as names in the mapping file are.
        var table = new System.Collections.Hashtable(StringComparer.Ordinal);
        foreach (var (key, value) in json)
        {
            table[key] = value is JsonObject inner ? ToHashtable(inner) : (object?)value?.ToString();
        }

        return table;
    }

    /// <summary>The ARM host pool name the emulator serves a classic pool under.</summary>
    public static string ArmName(Emulator emulator, string tenant, string hostPool) =>
        (string)emulator.AdminJson("/_emulator/arm/hostPools").AsArray()
            .First(p => (string?)p!["tenant"] == tenant && (string?)p["hostPool"] == hostPool)!["armHostPoolName"]!;
}

public sealed class Emulator : IDisposable
{
    public const string Token = EmulatorLauncher.DefaultToken;

    /// <summary>The static token the emulator's ARM routes accept.</summary>
    public const string ArmToken = "rds-emulator-arm-token";
    private readonly EmulatorLauncher _launcher;
    private readonly HttpClient _http = new();

    public Emulator()
    {
        // Every line is kept: the secrets tests search all of the emulator's output.
        _launcher = new EmulatorLauncher(TestEnv.EmulatorPath, new EmulatorLaunchOptions { Token = Token });
        Url = _launcher.Url;

        // The sample's test identities (applications, user, managed identity), plus the public
        // client the module uses for user sign-in, so every seed can sign in.
        SampleIdentity = State()["identity"]!.DeepClone();
        SampleIdentity["applications"]!.AsArray().Add(new JsonObject
        {
            ["clientId"] = Identities.ModulePublicClientId,
            ["displayName"] = "Windows Virtual Desktop Client (module default)",
            ["publicClient"] = true,
        });
    }

    /// <summary>The identity section every seed gets unless a test passes its own.</summary>
    public JsonNode SampleIdentity { get; }

    public string Url { get; }

    /// <summary>What the emulator wrote to stderr so far (one line per request).</summary>
    public List<string> StdErr => _launcher.StdErr();

    /// <summary>Stdout after the line announcing the URL.</summary>
    public List<string> StdOut => _launcher.StdOut().Skip(1).ToList();

    /// <summary>Everything the emulator logged so far: stderr, stdout and the request log.</summary>
    public string Logs() =>
        string.Join("\n", StdErr) + "\n" + string.Join("\n", StdOut) + "\n" + Requests().ToJsonString();

    public void SetState(JsonNode seed)
    {
        if (seed["identity"] is null)
        {
            seed["identity"] = SampleIdentity.DeepClone();
        }

        using var content = new StringContent(seed.ToJsonString(), Encoding.UTF8, "application/json");
        var response = _http.PutAsync(Url + "/_emulator/state", content).GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, "PUT /_emulator/state failed: " + response.StatusCode);
    }

    /// <summary>Sends an admin request (e.g. PUT /_emulator/faults) and asserts it was accepted.</summary>
    public void Admin(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, Url + path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = _http.Send(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} failed: {response.StatusCode}");
    }

    /// <summary>GETs an admin route's JSON (e.g. /_emulator/activity).</summary>
    public JsonNode AdminJson(string path) =>
        JsonNode.Parse(_http.GetStringAsync(Url + path).GetAwaiter().GetResult())!;

    /// <summary>Injects faults (rust/emulator/data/README.md) until <see cref="ClearFaults"/>.</summary>
    public void SetFaults(string json) => Admin(HttpMethod.Put, "/_emulator/faults", json);

    public void ClearFaults() => Admin(HttpMethod.Delete, "/_emulator/faults");

    public JsonNode State() =>
        JsonNode.Parse(_http.GetStringAsync(Url + "/_emulator/state").GetAwaiter().GetResult())!;

    public JsonArray Requests() =>
        JsonNode.Parse(_http.GetStringAsync(Url + "/_emulator/requests").GetAwaiter().GetResult())!.AsArray();

    /// <summary>"Tenant/HostPool/SessionHost/Id" of every session left, sorted.</summary>
    public List<string> SessionsLeft()
    {
        var left = new List<string>();
        foreach (var tg in State()["tenantGroups"]!.AsArray())
        foreach (var t in tg!["tenants"]!.AsArray())
        foreach (var hp in t!["hostPools"]!.AsArray())
        foreach (var sh in hp!["sessionHosts"]!.AsArray())
        foreach (var s in sh!["sessions"]!.AsArray())
        {
            left.Add($"{t["name"]}/{hp["name"]}/{sh["name"]}/{s!["sessionId"]}");
        }

        left.Sort(StringComparer.Ordinal);
        return left;
    }

    public void Dispose()
    {
        _launcher.Dispose();
        _http.Dispose();
    }
}

/// <summary>The emulator sample's test identities (clearly fake values).</summary>
public static class Identities
{
    /// <summary>A read-only SecureString, as PowerShell passes passwords.</summary>
    public static System.Security.SecureString Secure(string text)
    {
        var s = new System.Security.SecureString();
        foreach (char c in text)
        {
            s.AppendChar(c);
        }

        s.MakeReadOnly();
        return s;
    }

    public static PSCredential Credential(string user, string password) => new(user, Secure(password));

    public const string Tenant = "contoso.onmicrosoft.com";
    public const string AppId = "22222222-2222-2222-2222-222222222222";
    public const string AppSecret = "emulator-test-secret-NOT-A-REAL-SECRET";
    public const string User = "admin@contoso.com";
    public const string Password = "emulator-test-password-NOT-A-REAL-PASSWORD";
    public const string SystemIdentityId = "33333333-3333-3333-3333-333333333333";
    public const string IdentityHeader = "emulator-test-identity-header-NOT-A-REAL-SECRET";
    public const string CertAppId = "55555555-5555-5555-5555-555555555555";
    /// <summary>The public client the module signs users in with (docs/service-facts.md §2.1-2.2).</summary>
    public const string ModulePublicClientId = "fa4345a4-a730-4230-84a8-7d9651b86739";
}

/// <summary>Builds emulator seeds: one tenant group with the given sessions.</summary>
public static class Seed
{
    public const string TenantGroup = "Default Tenant Group";

    /// <summary>Sessions given as "Tenant/HostPool/Host/Id"; hosts named in <paramref name="unreachable"/> refuse unforced logoffs.</summary>
    public static JsonNode Of(IEnumerable<(string Tenant, string HostPool, string Host, int Id)> sessions,
        IEnumerable<string>? unreachable = null, IEnumerable<string>? forbiddenTenants = null)
    {
        var down = new HashSet<string>(unreachable ?? Array.Empty<string>());
        var forbidden = new HashSet<string>(forbiddenTenants ?? Array.Empty<string>());
        var tenants = new JsonArray();
        foreach (var t in sessions.GroupBy(s => s.Tenant))
        {
            var pools = new JsonArray();
            foreach (var hp in t.GroupBy(s => s.HostPool))
            {
                var hosts = new JsonArray();
                foreach (var sh in hp.GroupBy(s => s.Host))
                {
                    var list = new JsonArray();
                    foreach (var s in sh)
                    {
                        list.Add(new JsonObject
                        {
                            ["sessionId"] = s.Id,
                            ["userPrincipalName"] = $"user{s.Id}@contoso.com",
                            ["adUserName"] = $"CONTOSO\\user{s.Id}",
                            ["applicationType"] = "Desktop",
                            ["sessionState"] = s.Id % 2 == 0 ? "Disconnected" : "Active",
                            // Two ages, so tests can filter "older than": ids below 19 are old.
                            ["createTime"] = s.Id < 19 ? "2026-11-01T08:00:00Z" : "2026-11-23T21:04:00Z",
                        });
                    }

                    hosts.Add(new JsonObject { ["name"] = sh.Key, ["reachable"] = !down.Contains(sh.Key), ["sessions"] = list });
                }

                pools.Add(new JsonObject { ["name"] = hp.Key, ["sessionHosts"] = hosts });
            }

            tenants.Add(new JsonObject { ["name"] = t.Key, ["forbidden"] = forbidden.Contains(t.Key), ["hostPools"] = pools });
        }

        return new JsonObject
        {
            ["tenantGroups"] = new JsonArray { new JsonObject { ["name"] = TenantGroup, ["tenants"] = tenants } },
        };
    }

    /// <summary>The default test world: Contoso/Pool1 with sh1 (17, 18, 19), sh2 (20, 21), and unreachable stale1 (30).</summary>
    public static JsonNode Default() => Of(new[]
    {
        ("Contoso", "Pool1", "sh1.contoso.com", 17),
        ("Contoso", "Pool1", "sh1.contoso.com", 18),
        ("Contoso", "Pool1", "sh1.contoso.com", 19),
        ("Contoso", "Pool1", "sh2.contoso.com", 20),
        ("Contoso", "Pool1", "sh2.contoso.com", 21),
        ("Contoso", "Pool1", "stale1.contoso.com", 30),
    }, unreachable: new[] { "stale1.contoso.com" });

    public static readonly string[] DefaultSessions =
    {
        "Contoso/Pool1/sh1.contoso.com/17", "Contoso/Pool1/sh1.contoso.com/18", "Contoso/Pool1/sh1.contoso.com/19",
        "Contoso/Pool1/sh2.contoso.com/20", "Contoso/Pool1/sh2.contoso.com/21", "Contoso/Pool1/stale1.contoso.com/30",
    };

    public static List<string> DefaultExcept(params string[] gone) =>
        DefaultSessions.Where(s => !gone.Contains(s)).OrderBy(s => s, StringComparer.Ordinal).ToList();
}

/// <summary>One emulator for the whole test run (a process start per test would dominate the run time).</summary>
public sealed class EmulatorFixture : IDisposable
{
    public Emulator Emulator { get; } = new();

    public void Dispose() => Emulator.Dispose();
}

[CollectionDefinition("Engine")]
public sealed class EngineCollection : ICollectionFixture<EmulatorFixture>
{
}

/// <summary>A runspace with only the Core cmdlets and the BUILT module imported by manifest path.</summary>
public sealed class Engine : IDisposable
{
    public Engine(TestHost? host = null)
    {
        Host = host ?? new TestHost();
        var iss = InitialSessionState.CreateDefault2();
        iss.ThrowOnRunspaceOpenError = true;
        iss.Variables.Add(new SessionStateVariableEntry(
            "PSModuleAutoLoadingPreference", PSModuleAutoLoadingPreference.None, null));
        Runspace = RunspaceFactory.CreateRunspace(Host, iss);
        Runspace.Open();
        using var ps = PowerShell.Create(Runspace);
        ps.AddCommand("Import-Module").AddParameter("Name", TestEnv.ManifestPath).AddParameter("ErrorAction", "Stop").Invoke();
    }

    public TestHost Host { get; }

    public Runspace Runspace { get; }

    /// <summary>Signs in to the emulator in this runspace.</summary>
    public Engine SignIn(Emulator emulator, string token = Emulator.Token)
    {
        Run("Add-RdsAccount -DeploymentUrl $args[0] -AccessToken $args[1] | Out-Null", emulator.Url, token);
        return this;
    }

    /// <summary>
    /// Signs in to the emulator the way <paramref name="flavour"/> says: the classic broker with
    /// the classic token, or Azure Resource Manager with the ARM token and a mapping of the
    /// emulator's current data (every tenant's subscription, every pool's resource group and ARM
    /// name, the emulator as the ARM endpoint) given as Add-RdsAccount -ArmMapping. Sign in again
    /// after a state with other tenants is put in place.
    /// </summary>
    public Engine SignIn(Emulator emulator, Flavour flavour, string? token = null)
    {
        if (flavour == Flavour.Classic)
        {
            return SignIn(emulator, token ?? Emulator.Token);
        }

        var r = Run(
            "Add-RdsAccount -DeploymentUrl $args[0] -AccessToken $args[1] -ArmMapping $args[2] | Out-Null",
            emulator.Url, token ?? Emulator.ArmToken, ArmMapping.ToHashtable(ArmMapping.Of(emulator)));
        if (r.Errors.Count > 0 && token is null)
        {
            throw new InvalidOperationException("ARM sign-in failed: " + r.Errors[0]);
        }

        return this;
    }

    /// <summary>Runs a script (arguments in $args); returns the PowerShell (streams, HadErrors) and output.</summary>
    public Result Run(string script, params object[] args)
    {
        var ps = PowerShell.Create(Runspace);
        ps.AddScript(script);
        foreach (var a in args)
        {
            ps.AddArgument(a);
        }

        var output = ps.Invoke();
        return new Result(ps, output);
    }

    public void Dispose() => Runspace.Dispose();

    public sealed record Result(PowerShell PowerShell, Collection<PSObject> Output)
    {
        public List<ErrorRecord> Errors => PowerShell.Streams.Error.ToList();
    }
}

/// <summary>A host whose prompts are answered from a queue (by index: 0 Yes, 1 Yes to All, 2 No, 3 No to All).</summary>
public sealed class TestHost : PSHost
{
    public TestUI TestUI { get; } = new();
    public override PSHostUserInterface UI => TestUI;
    public override string Name => "RdsSessionsTestHost";
    public override Version Version { get; } = new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override void SetShouldExit(int exitCode) { }
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}

public sealed class TestUI : PSHostUserInterface
{
    public const int Yes = 0, YesToAll = 1, No = 2, NoToAll = 3;
    public ConcurrentQueue<int> Answers { get; } = new();
    public List<(string Caption, string Message, string[] Labels)> Prompts { get; } = new();
    public List<string> Lines { get; } = new();
    public List<ProgressRecord> Progress { get; } = new();
    public List<string> Verbose { get; } = new();
    public List<string> Debug { get; } = new();
    public List<string> Warnings { get; } = new();

    public override PSHostRawUserInterface? RawUI => null;

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        lock (Prompts)
        {
            Prompts.Add((caption, message, choices.Select(c => c.Label).ToArray()));
        }

        // An unanswered prompt is a test bug: fail loudly instead of picking a default.
        return Answers.TryDequeue(out int answer) ? answer : throw new InvalidOperationException("Unexpected prompt: " + message);
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
        => throw new NotImplementedException();
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName)
        => throw new NotImplementedException();
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotImplementedException();
    public override string ReadLine() => throw new NotImplementedException();
    public override SecureString ReadLineAsSecureString() => throw new NotImplementedException();
    public override void Write(string value) { lock (Lines) Lines.Add(value); }
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
    public override void WriteLine(string value) { lock (Lines) Lines.Add(value); }
    public override void WriteErrorLine(string value) { lock (Lines) Lines.Add(value); }
    public override void WriteDebugLine(string message) { lock (Debug) Debug.Add(message); }
    public override void WriteWarningLine(string message) { lock (Warnings) Warnings.Add(message); }
    public override void WriteVerboseLine(string message) { lock (Verbose) Verbose.Add(message); }
    public override void WriteProgress(long sourceId, ProgressRecord record) { lock (Progress) Progress.Add(record); }
}
