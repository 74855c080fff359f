#Requires -Version 7.4
# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# The README's demo (demo/demo.ps1) keeps working, run exactly as bash scripts/demo.sh and
# ./build.ps1 -Task Demo run it: a child `pwsh -NoProfile -NonInteractive -File demo/demo.ps1`
# from the repository root, against a fresh emulator with the sample data
# (rust/emulator/data/sample.json). Checks what it shows and what it did to the emulator.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
    $skipReason = Get-RdsTestSkipReason -SuiteName 'demo'
}

Describe 'The demo, as bash scripts/demo.sh runs it in pwsh' -Tag 'Integration', 'Demo' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
        $repositoryRoot = Get-RdsRepositoryRoot
        $sample = Join-Path $repositoryRoot 'rust' 'emulator' 'data' 'sample.json'
        $emulator = Start-RdsEmulator -DataPath $sample
        $sessionsBefore = @(Get-RdsSessionList -Url $emulator.Url)

        Push-Location -LiteralPath $repositoryRoot
        try {
            $output = @(
                & (Get-RdsPwshPath) -NoLogo -NoProfile -NonInteractive -File (Join-Path $repositoryRoot 'demo' 'demo.ps1') `
                    -EmulatorUrl $emulator.Url -ManifestPath (Get-RdsModuleManifest) 2>&1 |
                    ForEach-Object { "$_" }
            )
            $exitCode = $LASTEXITCODE
        }
        finally {
            Pop-Location
        }
        # Colours, if pwsh chose to write any, are not what these tests are about.
        $text = ($output -join "`n") -replace '\x1b\[[0-9;?]*[A-Za-z]', ''
    }

    AfterAll {
        Stop-RdsEmulator -Emulator $emulator
    }

    It 'runs to the end' {
        $exitCode | Should -Be 0 -Because $text
    }

    It 'shows each command as it is typed at the prompt' {
        $text | Should -Match '(?m)^PS> Import-Module \./out/RdsSessions/[^/]+/RdsSessions\.psd1$'
        $text | Should -Match ('(?m)^PS> Add-RdsAccount -DeploymentUrl ' + [regex]::Escape($emulator.Url) + ' -AccessToken \$token$')
        $text | Should -Match '(?m)^PS> Get-RdsUserSession Contoso Pool-Desktop \| Where-Object SessionState -eq Disconnected \| Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru$'
        $text | Should -Match '(?m)^PS> Invoke-RdsUserSessionLogoff Contoso Pool-Apps stale1\.contoso\.com 3 -NoUserPrompt -Force -PassThru$'
    }

    It 'shows one LoggedOff result per Disconnected session of Pool-Desktop' {
        $rows = @($output | Where-Object { $_ -match '^Contoso\s+Pool-Desktop\s+\S+\s+\d+\s+LoggedOff\s+False\s*$' })
        $rows.Count | Should -Be 3 -Because $text
        $text | Should -Match '(?m)^Contoso\s+Pool-Desktop\s+sh1\.contoso\.com\s+3\s+LoggedOff\s+False'
        $text | Should -Match '(?m)^Contoso\s+Pool-Desktop\s+sh1\.contoso\.com\s+17\s+LoggedOff\s+False'
        $text | Should -Match '(?m)^Contoso\s+Pool-Desktop\s+sh2\.contoso\.com\s+9\s+LoggedOff\s+False'
    }

    It 'shows the refused logoff as pwsh shows the error, and its ErrorId' {
        $text | Should -Match '(?m)^Invoke-RdsUserSessionLogoff: .*stale1\.contoso\.com'
        $text | Should -Match '(?m)^BrokerConflict,RdsSessions\.Commands\.InvokeRdsUserSessionLogoffCommand$'
    }

    It 'shows the forced logoff' {
        $text | Should -Match '(?m)^Contoso\s+Pool-Apps\s+stale1\.contoso\.com\s+3\s+LoggedOff\s+True'
    }

    It 'logs off exactly the three Disconnected sessions of Pool-Desktop and the forced one' {
        $removed = Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore
        $removed | Should -BeExactly (@(
                'Contoso/Pool-Desktop/sh1.contoso.com/3'
                'Contoso/Pool-Desktop/sh1.contoso.com/17'
                'Contoso/Pool-Desktop/sh2.contoso.com/9'
                'Contoso/Pool-Apps/stale1.contoso.com/3'
            ) -join ', ')
        @(Get-RdsSessionList -Url $emulator.Url).Count | Should -Be 7
    }
}

Describe 'The ARM demo, as bash scripts/demo.sh --arm runs it in pwsh' -Tag 'Integration', 'Demo', 'Arm' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
        $repositoryRoot = Get-RdsRepositoryRoot
        $sample = Join-Path $repositoryRoot 'rust' 'emulator' 'data' 'sample.json'
        $emulator = Start-RdsEmulator -DataPath $sample
        $sessionsBefore = @(Get-RdsSessionList -Url $emulator.Url)
        $classicScript = Join-Path $repositoryRoot 'demo' 'nightly-logoff.ps1'
        $scriptBefore = Get-FileHash -LiteralPath $classicScript

        Push-Location -LiteralPath $repositoryRoot
        # A user's own mapping (variable or file) must play no part: the demo names its own file.
        $savedMapping = $env:RDSSESSIONS_ARM_MAPPING
        Remove-Item -Path Env:RDSSESSIONS_ARM_MAPPING -ErrorAction SilentlyContinue
        try {
            $output = @(
                & (Get-RdsPwshPath) -NoLogo -NoProfile -NonInteractive -File (Join-Path $repositoryRoot 'demo' 'demo.ps1') `
                    -EmulatorUrl $emulator.Url -ManifestPath (Get-RdsModuleManifest) -Arm 2>&1 |
                    ForEach-Object { "$_" }
            )
            $exitCode = $LASTEXITCODE
        }
        finally {
            $env:RDSSESSIONS_ARM_MAPPING = $savedMapping
            Pop-Location
        }
        $text = ($output -join "`n") -replace '\x1b\[[0-9;?]*[A-Za-z]', ''
        $requests = @(Get-RdsEmulatorRequests -Url $emulator.Url)
    }

    AfterAll {
        Stop-RdsEmulator -Emulator $emulator
    }

    It 'runs to the end' {
        $exitCode | Should -Be 0 -Because $text
    }

    It 'shows the classic script and runs it, unchanged, against the classic URL' {
        $text | Should -Match '(?m)^PS> Get-Content \./demo/nightly-logoff\.ps1$'
        $text | Should -Match ([regex]::Escape("[string] `$DeploymentUrl = 'https://rdbroker.wvd.microsoft.com'"))
        $text | Should -Match '(?m)^PS> \./demo/nightly-logoff\.ps1 -AccessToken \$token$'
        (Get-FileHash -LiteralPath $classicScript).Hash | Should -BeExactly $scriptBefore.Hash
        $text | Should -Match '(?m)^Backend\s+:\s+ARM$'
    }

    It 'adds only a mapping, and the script then logs off the Disconnected sessions of Pool-Desktop through ARM' {
        $text | Should -Match '(?m)^PS> Set-RdsArmMapping -TenantName Contoso -SubscriptionId aaaaaaaa-1111-4aaa-8aaa-000000000001'
        $text | Should -Match '(?m)^Logged off CONTOSO\\bob on sh1\.contoso\.com$'
        $text | Should -Match '(?m)^Logged off CONTOSO\\dave on sh1\.contoso\.com$'
        $text | Should -Match '(?m)^Logged off CONTOSO\\alice on sh2\.contoso\.com$'
        $removed = Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore
        $removed | Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/3, Contoso/Pool-Desktop/sh1.contoso.com/17, Contoso/Pool-Desktop/sh2.contoso.com/9'
        # Every broker request went to ARM; none to the retired classic routes.
        @($requests | Where-Object { $_.route -notlike 'arm*' }).Count | Should -Be 0
        @($requests | Where-Object { $_.route -eq 'armDeleteUserSession' -and $_.status -eq 200 }).Count | Should -Be 3
    }

    It 'shows what ARM does differently: 204 counted as done, and a lock refused with ResourceLocked' {
        $text | Should -Match 'did not exist \(ARM answered 204 to the logoff\); counted as done'
        $text | Should -Match '(?m)^ResourceLocked,RdsSessions\.Commands\.InvokeRdsUserSessionLogoffCommand$'
    }
}
