<#
.SYNOPSIS
    Demonstrates the RdsSessions cmdlets against the RDS broker emulator, in pwsh.

.DESCRIPTION
    Shows each command as you would type it at the pwsh prompt ("PS> ..."), runs it, and shows
    what pwsh shows for it (the module's table and list views, errors as pwsh writes them):
    imports the built module, signs in with Add-RdsAccount, lists the sessions of host pool
    Pool-Desktop, pipes the Disconnected ones into Invoke-RdsUserSessionLogoff, shows a logoff
    that the broker refuses because the session host does not answer, the same with -Force, and
    lists the sessions again.

    It expects the emulator's sample data (rust/emulator/data/sample.json) and changes it: run it
    against a fresh emulator, as bash scripts/demo.sh and ./build.ps1 -Task Demo do.

.PARAMETER EmulatorUrl
    The URL the emulator printed: "RDS broker emulator listening on http://127.0.0.1:PORT".

.PARAMETER ManifestPath
    The module manifest to import. Default: out/RdsSessions/<version>/RdsSessions.psd1 of this
    repository (<version> from Cargo.toml).

.PARAMETER AccessToken
    The token the emulator accepts (its default is 'rds-emulator-token'; with -Arm,
    'rds-emulator-arm-token').

.PARAMETER Arm
    The ARM variant (bash scripts/demo.sh --arm): the classic service is retired, so the same
    classic-style script (demo/nightly-logoff.ps1, which signs in to
    https://rdbroker.wvd.microsoft.com) runs unchanged against Azure Resource Manager (the
    emulator's ARM flavour) with only a mapping file added by Set-RdsArmMapping. The mapping
    file is a temporary one named by $env:RDSSESSIONS_ARM_MAPPING, so your own is not touched.

.EXAMPLE
    bash scripts/demo.sh

.EXAMPLE
    target/release/rds-emulator --data rust/emulator/data/sample.json --exit-on-stdin-eof   # in another terminal; prints the URL
    ./demo/demo.ps1 -EmulatorUrl http://127.0.0.1:50123
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $EmulatorUrl,

    [string] $ManifestPath,

    [string] $AccessToken,

    [switch] $Arm
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

if ([string]::IsNullOrEmpty($ManifestPath)) {
    Import-Module -Name (Join-Path (Split-Path -Parent $PSScriptRoot) 'tools' 'RdsSessions.Dev.psm1')
    $ManifestPath = Get-RdsModuleManifest
}
# Shown as you would type it from the current folder.
$shownManifest = $ManifestPath
$relative = [System.IO.Path]::GetRelativePath((Get-Location).ProviderPath, $ManifestPath)
if (-not $relative.StartsWith('..') -and -not [System.IO.Path]::IsPathRooted($relative)) {
    $shownManifest = './' + $relative.Replace('\', '/')
}
$url = $EmulatorUrl.TrimEnd('/')
$token = if ($AccessToken) { $AccessToken } elseif ($Arm) { 'rds-emulator-arm-token' } else { 'rds-emulator-token' }
$shownScript = './demo/nightly-logoff.ps1'
$scriptRelative = [System.IO.Path]::GetRelativePath((Get-Location).ProviderPath, (Join-Path $PSScriptRoot 'nightly-logoff.ps1'))
if ($scriptRelative.StartsWith('..') -or [System.IO.Path]::IsPathRooted($scriptRelative)) {
    $shownScript = Join-Path $PSScriptRoot 'nightly-logoff.ps1'
}
else {
    $shownScript = './' + $scriptRelative.Replace('\', '/')
}
# A mapping in the user's own settings would make the "no mapping" step succeed: it is shown only
# when there is none.
$userMapping = Join-Path ([Environment]::GetFolderPath('ApplicationData')) 'RdsSessions' 'arm-mapping.json'
$hasUserMapping = [bool]$env:RDSSESSIONS_ARM_MAPPING -or (Test-Path -LiteralPath $userMapping)
$demoMapping = Join-Path ([System.IO.Path]::GetTempPath()) ('rds-demo-arm-mapping-{0}.json' -f [guid]::NewGuid().ToString('N'))

# Each step: an optional comment, the command as typed, and whether the broker is meant to refuse
# it (then its error is shown and the demo goes on; any other error stops the demo).
$classicSteps = @(
    @{ Comment = 'Load the module you built.'; Command = "Import-Module $shownManifest" }
    @{ Comment = 'Sign in to the broker (here the emulator, with its test token).'; Command = "Add-RdsAccount -DeploymentUrl $url -AccessToken `$token" }
    @{ Comment = 'The sessions of one host pool.'; Command = 'Get-RdsUserSession -TenantName Contoso -HostPoolName Pool-Desktop' }
    @{ Comment = 'Log off every Disconnected session: a pipeline, no prompt, one result per session.'; Command = 'Get-RdsUserSession Contoso Pool-Desktop | Where-Object SessionState -eq Disconnected | Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru' }
    @{ Command = 'Get-RdsUserSession Contoso Pool-Desktop' }
    @{ Comment = 'Session host stale1 does not answer the broker, so its session cannot be logged off...'; Command = 'Get-RdsUserSession Contoso Pool-Apps' }
    @{ Command = 'Invoke-RdsUserSessionLogoff -TenantName Contoso -HostPoolName Pool-Apps -SessionHostName stale1.contoso.com -SessionId 3 -NoUserPrompt'; ExpectError = $true }
    @{ Command = '$Error[0].FullyQualifiedErrorId' }
    @{ Comment = '...unless -Force tells the broker to remove the session record anyway.'; Command = 'Invoke-RdsUserSessionLogoff Contoso Pool-Apps stale1.contoso.com 3 -NoUserPrompt -Force -PassThru' }
    @{ Command = 'Get-RdsUserSession Contoso Pool-Apps' }
)

# The same job after the classic service's retirement: the old script, unchanged, against ARM.
$armSteps = @(
    @{ Comment = 'Load the module you built.'; Command = "Import-Module $shownManifest" }
    @{ Comment = 'The nightly script of a WVD (classic) admin, unchanged: it signs in to https://rdbroker.wvd.microsoft.com.'; Command = "Get-Content $shownScript" }
    if (-not $hasUserMapping) {
        @{ Comment = 'Run as it is, with no mapping, it is told what to do (the classic service was retired on 2026-09-30).'; Command = "$shownScript -AccessToken `$token"; ExpectError = $true }
    }
    @{ Comment = 'The one addition: map the tenant to its Azure subscription. (The demo keeps its mapping in a temporary file, and the emulator stands in for https://management.azure.com.)'; Command = "`$env:RDSSESSIONS_ARM_MAPPING = '$demoMapping'" }
    @{ Command = "Set-RdsArmMapping -TenantName Contoso -SubscriptionId aaaaaaaa-1111-4aaa-8aaa-000000000001 -ArmEndpoint $url -PassThru" }
    @{ Comment = 'The same script, unchanged: the classic URL is now routed to Azure Resource Manager.'; Command = "$shownScript -AccessToken `$token" }
    @{ Command = 'Get-RdsContext' }
    @{ Command = 'Get-RdsUserSession Contoso Pool-Desktop' }
    @{ Comment = 'Where ARM differs: a session that is already gone is answered 204 and counted as done (a verbose note says so)...'; Command = 'Invoke-RdsUserSessionLogoff Contoso Pool-Desktop sh1.contoso.com 99 -NoUserPrompt -PassThru -Verbose' }
    @{ Comment = '...and a logoff is an ARM DELETE, so a resource lock on the host pool''s resource group blocks it.'; Command = "Invoke-RestMethod -Method Post -Uri $url/_emulator/arm/locks -ContentType application/json -Body '{""name"": ""freeze"", ""scope"": ""/subscriptions/aaaaaaaa-1111-4aaa-8aaa-000000000001/resourceGroups/Contoso_Pool-Desktop"", ""level"": ""CanNotDelete""}' | Out-Null" }
    @{ Command = 'Invoke-RdsUserSessionLogoff Contoso Pool-Desktop sh1.contoso.com 2 -NoUserPrompt'; ExpectError = $true }
    @{ Command = '$Error[0].FullyQualifiedErrorId' }
)

$steps = if ($Arm) { $armSteps } else { $classicSteps }

try {
    foreach ($step in $steps) {
        Write-Host ''
        if ($step['Comment']) {
            Write-Host "# $($step.Comment)" -ForegroundColor DarkGreen
        }
        Write-Host "PS> $($step.Command)" -ForegroundColor Yellow
        $block = [scriptblock]::Create($step.Command)
        # $Error is not cleared: a step may show $Error[0], as you would at the prompt.
        $errorsBefore = $Error.Count
        # Dot-sourced, so what a step assigns is there for the next, as at a prompt; errors are
        # merged into the output, so they show where pwsh shows them, in pwsh's error view.
        $ErrorActionPreference = 'Continue'
        # A terminating error (a refused sign-in) is shown like any other and ends only its step.
        try {
            . $block 2>&1 | Out-Host
        }
        catch {
            $_ | Out-Host
        }
        $ErrorActionPreference = 'Stop'
        $failed = $Error.Count -gt $errorsBefore
        if ($failed -and -not $step['ExpectError']) {
            throw "The demo step '$($step.Command)' failed: $($Error[0])"
        }
        if ($step['ExpectError'] -and -not $failed) {
            throw "The demo step '$($step.Command)' was meant to be refused by the broker, but it succeeded."
        }
    }
}
finally {
    Remove-Item -LiteralPath $demoMapping -ErrorAction SilentlyContinue
}
