<#
.SYNOPSIS
    Runs the Pester suites (Pester/) and writes their results for the test command.

.DESCRIPTION
    build.ps1 -Task Test (and so scripts/test.sh and CI) runs this script in a child pwsh:
        pwsh -NoProfile -NonInteractive -OutputFormat Text -File tools/Invoke-RdsPester.ps1 ...
    It writes, into -ResultDirectory:
        pester.xml            the NUnit 2.5 report of Invoke-Pester
        pester-summary.json   { Passed, Failed, Skipped, NotRun, Total } from Invoke-Pester's
                              result object (-PassThru), which build.ps1 adds to its final count
    A test file that fails as a whole (a parse error, a failing top-level BeforeAll that leaves
    no test failed) counts as one failed test, so it cannot pass unnoticed.
    Exit code: 0 when nothing failed, 1 otherwise.

.PARAMETER PesterManifest
    The Pester.psd1 to import (build.ps1 passes what Get-RdsPesterManifest found).

.PARAMETER ResultDirectory
    Where to write pester.xml and pester-summary.json.

.PARAMETER Path
    Test files or folders; default: the repository's Pester/ folder.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $ResultDirectory,
    [string[]] $Path = @(Join-Path (Split-Path -Parent $PSScriptRoot) 'Pester')
)

# Neither Set-StrictMode nor $ErrorActionPreference = 'Stop' here: the suites run in scopes
# below this script's and would inherit them, while users run them with Invoke-Pester at a
# prompt, where strict mode is off and errors continue. Setup steps use -ErrorAction Stop.
# Progress records would be drawn into the CI log; they tell a log reader nothing.
$ProgressPreference = 'SilentlyContinue'

$null = New-Item -ItemType Directory -Path $ResultDirectory -Force -ErrorAction Stop
$pester = Import-Module -Name $PesterManifest -PassThru -ErrorAction Stop
Write-Host "Pester $($pester.Version) from $($pester.ModuleBase); pwsh $($PSVersionTable.PSVersion) from $PSHOME"

$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
if ([Console]::IsOutputRedirected) {
    # Plain text in logs instead of ANSI colour sequences (pwsh writes them to pipes too).
    $PSStyle.OutputRendering = 'PlainText'
    if ($configuration.Output.PSObject.Properties['RenderMode']) {
        # Output.RenderMode exists since Pester 5.4.
        $configuration.Output.RenderMode = 'Plaintext'
    }
}
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = Join-Path $ResultDirectory 'pester.xml'

$result = Invoke-Pester -Configuration $configuration

# Containers (files) that failed while no test in them failed: discovery errors and the like.
$filesWithFailedTests = @($result.Failed | ForEach-Object { $_.ScriptBlock.File })
$brokenFiles = @($result.Containers | Where-Object {
        $_.Result -eq 'Failed' -and $filesWithFailedTests -notcontains [string]$_.Item
    })
foreach ($container in $brokenFiles) {
    Write-Host "Failed as a whole: $($container.Item)" -ForegroundColor Red
}

# A run that found nothing to run (a wrong -Path, Invoke-Pester failing before discovery) is a
# failure, not "0 failed".
$nothingRan = ($null -eq $result) -or ($result.TotalCount -eq 0)
if ($nothingRan) {
    Write-Host "No Pester test ran from: $($Path -join ', ')" -ForegroundColor Red
}

$summary = [ordered]@{
    Passed  = if ($result) { $result.PassedCount } else { 0 }
    Failed  = $(if ($result) { $result.FailedCount } else { 0 }) + $brokenFiles.Count + [int]$nothingRan
    Skipped = if ($result) { $result.SkippedCount } else { 0 }
    NotRun  = if ($result) { $result.NotRunCount } else { 0 }
    Total   = if ($result) { $result.TotalCount } else { 0 }
}
$summary | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $ResultDirectory 'pester-summary.json') -Encoding utf8NoBOM -ErrorAction Stop
exit ([int]($summary.Failed -gt 0))
