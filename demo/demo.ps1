<#
.SYNOPSIS
    Demonstrates Invoke-RdsUserSessionLogoff against the RDS broker emulator.

.DESCRIPTION
    Imports the built RdsSessions module, lists the sessions the emulator holds, signs in with
    Add-RdsAccount, logs off the Disconnected sessions of host pool Pool-Desktop through the
    pipeline, shows how a session on an unreachable session host fails without -Force and
    succeeds with it, and lists the sessions again.

    The script only emits strings and only uses the language, .NET types and cmdlets of
    Microsoft.PowerShell.Core (Import-Module, Get-Module, ForEach-Object, Where-Object), so it
    runs the same in pwsh and in a minimal hosted PowerShell engine
    (InitialSessionState.CreateDefault2()) whose host simply collects the output.

    It changes the emulator's state: run it against a fresh emulator, for example with
    ./build.ps1 -Task Demo, which starts one with its sample data.

.PARAMETER EmulatorUrl
    The URL the emulator printed: "RDS broker emulator listening on http://127.0.0.1:PORT".

.PARAMETER ManifestPath
    The module manifest to import. Default: out/RdsSessions/<version>/RdsSessions.psd1 of this
    repository (<version> from Cargo.toml). Required when the script does not run from its file.

.PARAMETER AccessToken
    The token the emulator accepts (its default is 'rds-emulator-token').

.EXAMPLE
    ./build.ps1 -Task Demo

.EXAMPLE
    target/release/rds-emulator --exit-on-stdin-eof    # in another terminal; prints the URL
    ./demo/demo.ps1 -EmulatorUrl http://127.0.0.1:50123
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $EmulatorUrl,

    [string] $ManifestPath,

    [string] $AccessToken = 'rds-emulator-token'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

function Get-DemoDefaultManifestPath {
    # out/RdsSessions/<version>/RdsSessions.psd1, <version> from [workspace.package] in Cargo.toml.
    if ([string]::IsNullOrEmpty($PSScriptRoot)) {
        throw 'Pass -ManifestPath: the default module path is only known when demo.ps1 runs from its file.'
    }
    $repositoryRoot = [System.IO.Path]::GetDirectoryName($PSScriptRoot)
    $cargoToml = [System.IO.Path]::Combine($repositoryRoot, 'Cargo.toml')
    $text = [System.IO.File]::ReadAllText($cargoToml)
    $section = [regex]::Match($text, '(?ms)^\[workspace\.package\][^\n]*\n(?<body>.*?)(?=^\[|\z)')
    $version = [regex]::Match($section.Groups['body'].Value, '(?m)^[ \t]*version[ \t]*=[ \t]*"(?<version>[^"]+)"')
    if (-not $version.Success) {
        throw "Could not read the version from '$cargoToml'; pass -ManifestPath."
    }
    [System.IO.Path]::Combine($repositoryRoot, 'out', 'RdsSessions', $version.Groups['version'].Value, 'RdsSessions.psd1')
}

function Get-DemoSession {
    # Every session in the emulator's state (GET /_emulator/state), one object per session.
    param($Client, [string] $BaseUrl)

    $json = $Client.GetStringAsync($BaseUrl + '/_emulator/state').GetAwaiter().GetResult()
    $document = [System.Text.Json.JsonDocument]::Parse($json)
    try {
        foreach ($tenantGroup in $document.RootElement.GetProperty('tenantGroups').EnumerateArray()) {
            foreach ($tenant in $tenantGroup.GetProperty('tenants').EnumerateArray()) {
                foreach ($hostPool in $tenant.GetProperty('hostPools').EnumerateArray()) {
                    foreach ($sessionHost in $hostPool.GetProperty('sessionHosts').EnumerateArray()) {
                        foreach ($session in $sessionHost.GetProperty('sessions').EnumerateArray()) {
                            [pscustomobject]@{
                                TenantGroupName   = $tenantGroup.GetProperty('name').GetString()
                                TenantName        = $tenant.GetProperty('name').GetString()
                                HostPoolName      = $hostPool.GetProperty('name').GetString()
                                SessionHostName   = $sessionHost.GetProperty('name').GetString()
                                Reachable         = $sessionHost.GetProperty('reachable').GetBoolean()
                                SessionId         = $session.GetProperty('sessionId').GetInt32()
                                UserPrincipalName = $session.GetProperty('userPrincipalName').GetString()
                                SessionState      = $session.GetProperty('sessionState').GetString()
                            }
                        }
                    }
                }
            }
        }
    }
    finally {
        $document.Dispose()
    }
}

function Format-DemoSession {
    param($Session)
    '  {0}/{1}/{2} #{3} {4} {5}' -f $Session.TenantName, $Session.HostPoolName, $Session.SessionHostName,
        $Session.SessionId, $Session.UserPrincipalName, $Session.SessionState
}

function Format-DemoResult {
    param($Result)
    '  logged off {0}/{1}/{2} #{3}: {4}, forced: {5}, correlation id {6}' -f $Result.TenantName, $Result.HostPoolName,
        $Result.SessionHostName, $Result.SessionId, $Result.Status, $Result.Forced, $Result.CorrelationId
}

if ([string]::IsNullOrEmpty($ManifestPath)) {
    $ManifestPath = Get-DemoDefaultManifestPath
}
$baseUrl = $EmulatorUrl.TrimEnd('/')

# Hosted engines do not necessarily have these framework assemblies loaded yet.
$null = [System.Reflection.Assembly]::Load('System.Net.Http')
$null = [System.Reflection.Assembly]::Load('System.Text.Json')
$handler = [System.Net.Http.HttpClientHandler]::new()
$handler.UseProxy = $false
$client = [System.Net.Http.HttpClient]::new($handler)
$client.Timeout = [TimeSpan]::FromSeconds(30)

try {
    $module = @(Import-Module -Name $ManifestPath -PassThru -ErrorAction Stop)[0]
    'RdsSessions {0} imported from {1}' -f $module.Version, $module.ModuleBase
    'Broker emulator: {0}' -f $baseUrl
    ''

    $before = @(Get-DemoSession -Client $client -BaseUrl $baseUrl)
    'Sessions before ({0}):' -f $before.Count
    $before | ForEach-Object { Format-DemoSession -Session $_ }
    ''

    $context = Add-RdsAccount -DeploymentUrl $baseUrl -AccessToken $AccessToken
    'Add-RdsAccount: signed in to {0}, tenant group ''{1}''' -f $context.DeploymentUrl, $context.TenantGroupName
    ''

    # The sessions of host pool Pool-Desktop, as objects whose property names the cmdlet binds
    # from the pipeline (TenantName, HostPoolName, SessionHostName, SessionId).
    $poolSessions = @(
        $before |
            Where-Object { $_.TenantGroupName -eq $context.TenantGroupName -and $_.HostPoolName -eq 'Pool-Desktop' } |
            ForEach-Object {
                [pscustomobject]@{
                    TenantName        = $_.TenantName
                    HostPoolName      = $_.HostPoolName
                    SessionHostName   = $_.SessionHostName
                    SessionId         = $_.SessionId
                    UserPrincipalName = $_.UserPrincipalName
                    SessionState      = $_.SessionState
                }
            }
    )
    $disconnected = @($poolSessions | Where-Object { $_.SessionState -eq 'Disconnected' })
    '$sessions | Where-Object SessionState -eq Disconnected | Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru'
    'Host pool Pool-Desktop: {0} session(s), {1} of them Disconnected.' -f $poolSessions.Count, $disconnected.Count
    if ($disconnected.Count -gt 0) {
        $results = @($disconnected | Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru)
        $results | ForEach-Object { Format-DemoResult -Result $_ }
    }
    else {
        '  nothing to log off'
    }
    ''

    $unreachable = @($before | Where-Object { $_.TenantGroupName -eq $context.TenantGroupName -and -not $_.Reachable })
    if ($unreachable.Count -gt 0) {
        $target = $unreachable[0]
        $address = @{
            TenantName      = $target.TenantName
            HostPoolName    = $target.HostPoolName
            SessionHostName = $target.SessionHostName
            SessionId       = $target.SessionId
        }
        'Session host {0} does not answer the broker. Logging off {1}/{2}/{3} #{4} without -Force:' -f $target.SessionHostName,
            $target.TenantName, $target.HostPoolName, $target.SessionHostName, $target.SessionId
        $failures = $null
        $null = Invoke-RdsUserSessionLogoff @address -NoUserPrompt -ErrorAction SilentlyContinue -ErrorVariable failures
        if (@($failures).Count -gt 0) {
            $failure = @($failures)[0]
            '  error {0}' -f $failure.FullyQualifiedErrorId
            '  category {0}, target {1}' -f $failure.CategoryInfo.Category, $failure.TargetObject
            '  message: {0}' -f $failure.Exception.Message
            if ($null -ne $failure.ErrorDetails -and $failure.ErrorDetails.RecommendedAction) {
                '  recommended action: {0}' -f $failure.ErrorDetails.RecommendedAction
            }
        }
        else {
            '  no error (the emulator did not refuse the logoff)'
        }
        'The same with -Force:'
        $forced = @(Invoke-RdsUserSessionLogoff @address -NoUserPrompt -Force -PassThru)
        $forced | ForEach-Object { Format-DemoResult -Result $_ }
    }
    else {
        'No session on an unreachable session host: skipping the -Force example.'
    }
    ''

    $after = @(Get-DemoSession -Client $client -BaseUrl $baseUrl)
    'Sessions after ({0}):' -f $after.Count
    $after | ForEach-Object { Format-DemoSession -Session $_ }
}
finally {
    $client.Dispose()
}
