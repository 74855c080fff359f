# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of what only the Azure Resource Manager backend does: an old WVD (classic) script
# run unchanged with only a mapping file added, and ARM's own answers (resource locks, roles,
# api-versions, discovery by name, a bad or ambiguous mapping). The behaviour both backends share
# is tested on both by the other suites (Describe ... -ForEach Classic, Arm).
# The BUILT module against the project's emulator, ARM flavour, over loopback HTTP.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'ARM backend'
}

Describe 'The ARM backend' -Tag 'Integration', 'Arm' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        # The emulator's sample data: Contoso/Pool-Desktop in Contoso_Pool-Desktop,
        # Contoso/Pool-Apps as rg-avd-apps/hp-contoso-apps, and Fabrikam's Pool-Desktop: one
        # name in two resource groups of one subscription.
        $suite = Initialize-RdsTestSuite -Flavour Arm
        $emulator = $suite.Emulator
        $url = $emulator.Url
        $subscription = 'aaaaaaaa-1111-4aaa-8aaa-000000000001'
        $logoffFqidSuffix = ',RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand'
        $sampleState = Get-RdsEmulatorState -Url $url
        $workDirectory = Join-Path ([System.IO.Path]::GetTempPath()) ('rds-arm-tests-{0}' -f [guid]::NewGuid())
        $null = New-Item -ItemType Directory -Path $workDirectory

        # The nightly script of a WVD (classic) admin, as it was written for RDInfra: not one
        # character of it is about ARM.
        $classicScript = @'
param($DeploymentUrl, $AccessToken)
$null = Add-RdsAccount -DeploymentUrl $DeploymentUrl -AccessToken $AccessToken
foreach ($session in Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool-Desktop') {
    if ($session.SessionState -eq 'Disconnected') {
        Invoke-RdsUserSessionLogoff -TenantName $session.TenantName -HostPoolName $session.HostPoolName -SessionHostName $session.SessionHostName -SessionId $session.SessionId -NoUserPrompt
        "logged off $($session.SessionHostName)/$($session.SessionId) ($($session.UserPrincipalName))"
    }
}
'@
        $classicScriptPath = Join-Path $workDirectory 'nightly-logoff.ps1'
        Set-Content -LiteralPath $classicScriptPath -Value $classicScript -Encoding utf8NoBOM

        function Invoke-ClassicScriptInChild {
            # The classic script in a child pwsh, with -MappingPath as the only configuration:
            # RDSSESSIONS_ARM_MAPPING names it (or nothing, when -MappingPath is empty).
            param([string] $MappingPath, [string] $DeploymentUrl = 'https://rdbroker.wvd.microsoft.com')

            $saved = $env:RDSSESSIONS_ARM_MAPPING
            try {
                $env:RDSSESSIONS_ARM_MAPPING = $MappingPath
                $runner = @'
param($ManifestPath, $ScriptPath, $DeploymentUrl)
Import-Module -Name $ManifestPath -ErrorAction Stop
& $ScriptPath -DeploymentUrl $DeploymentUrl -AccessToken 'rds-emulator-arm-token'
foreach ($record in @($Error)) { 'ERRORID=' + $record.FullyQualifiedErrorId; 'MESSAGE=' + $record }
if ($Error.Count) { exit 3 }
'@
                Invoke-RdsChildPwsh -ScriptText $runner -Parameters @{ ManifestPath = $suite.ManifestPath; ScriptPath = $classicScriptPath; DeploymentUrl = $DeploymentUrl }
            }
            finally {
                $env:RDSSESSIONS_ARM_MAPPING = $saved
            }
        }

        function Get-Disconnected {
            param([string] $HostPool = 'Pool-Desktop')
            @(Get-RdsEmulatorSession -Url $url | Where-Object { $_.TenantName -eq 'Contoso' -and $_.HostPoolName -eq $HostPool -and $_.SessionState -eq 'Disconnected' })
        }
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
        Remove-Item -LiteralPath $workDirectory -Recurse -Force -ErrorAction SilentlyContinue
    }

    BeforeEach {
        Set-RdsEmulatorState -Url $url -Seed $sampleState
        $mappingPath = Join-Path $workDirectory 'arm-mapping.json'
        Remove-Item -LiteralPath $mappingPath -ErrorAction SilentlyContinue
    }

    Context 'an unchanged classic script' {
        It 'runs against ARM with only a mapping file added (written by Set-RdsArmMapping), and logs off exactly the disconnected sessions' {
            # The admin's one-time configuration: the tenant's subscription and ARM's address
            # (here the emulator stands in for https://management.azure.com).
            Set-RdsArmMapping -TenantName 'Contoso' -SubscriptionId $subscription -ArmEndpoint $url -Path $mappingPath
            $disconnected = Get-Disconnected
            $disconnected.Count | Should -BeGreaterThan 0

            $result = Invoke-ClassicScriptInChild -MappingPath $mappingPath

            $result.ExitCode | Should -Be 0 -Because ($result.Output -join [Environment]::NewLine)
            $expected = @($disconnected | ForEach-Object { 'logged off {0}/{1} ({2})' -f $_.SessionHostName, $_.SessionId, $_.UserPrincipalName })
            @($result.Output | Where-Object { $_ -like 'logged off *' }) | Should -Be $expected
            Get-Disconnected | Should -BeNullOrEmpty
            $requests = @(Get-RdsEmulatorRequests -Url $url)
            @($requests | Where-Object { $_.route -like 'arm*' -and $_.route -ne 'armListHostPools' }).Count | Should -Be ($requests.Count - @($requests | Where-Object route -EQ 'armListHostPools').Count)
            @($requests | Where-Object { $_.route -eq 'armDeleteUserSession' }).Count | Should -Be $disconnected.Count
            @($requests | Where-Object { $_.route -eq 'armDeleteUserSession' -and $_.resourceGroup -ne 'Contoso_Pool-Desktop' }).Count | Should -Be 0
        }

        It 'is refused with ArmMappingRequired, and nothing sent, when no mapping exists for the retired classic URL' {
            $result = Invoke-ClassicScriptInChild -MappingPath ''

            $result.ExitCode | Should -Not -Be 0
            ($result.Output -join "`n") | Should -Match 'ArmMappingRequired'
            @(Get-RdsEmulatorRequests -Url $url).Count | Should -Be 0
        }

        It 'stops with ArmMappingInvalid naming the file, line and field of a bad mapping, and logs nothing off' {
            $lines = @(
                '{'
                "  `"armEndpoint`": `"$url`","
                '  "tenants": {'
                '    "Contoso": { "subscriptionId": "not-a-guid" }'
                '  }'
                '}'
            )
            Set-Content -LiteralPath $mappingPath -Value $lines -Encoding utf8NoBOM

            $result = Invoke-ClassicScriptInChild -MappingPath $mappingPath

            $result.ExitCode | Should -Not -Be 0
            $text = $result.Output -join "`n"
            $text | Should -Match 'ArmMappingInvalid'
            $text | Should -Match ([regex]::Escape($mappingPath))
            $text | Should -Match 'line 4'
            $text | Should -Match 'subscriptionId'
            @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.method -ne 'GET' }).Count | Should -Be 0
        }
    }

    Context 'discovery by name (the mapping names only the subscription)' {
        BeforeEach {
            Set-RdsArmMapping -TenantName 'Contoso' -SubscriptionId $subscription -ArmEndpoint $url -Path $mappingPath
            Set-RdsArmMapping -TenantName 'Fabrikam' -SubscriptionId $subscription -Path $mappingPath
            $env:RDSSESSIONS_ARM_MAPPING = $mappingPath
            $null = Add-RdsAccount -DeploymentUrl $url -AccessToken 'rds-emulator-arm-token'
        }

        AfterEach {
            $env:RDSSESSIONS_ARM_MAPPING = $suite.MappingPath
        }

        It 'finds a host pool whose ARM name differs from the classic one only through the mapping: HostPoolNotFound without it' {
            # Pool-Apps is hp-contoso-apps under ARM: a name search cannot find it.
            $null = Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool-Apps' -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'HostPoolNotFound,RdsSessions.Commands.GetRdsUserSessionCommand'
        }

        It 'breaks a tie between two pools of one name with the migration''s {Tenant}_{HostPool} resource group' {
            $sessions = @(Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool-Desktop')

            $sessions.Count | Should -BeGreaterThan 0
            $listed = @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.route -eq 'armListUserSessions' })
            $listed[0].resourceGroup | Should -BeExactly 'Contoso_Pool-Desktop'
        }

        It 'refuses an ambiguous host pool with HostPoolAmbiguous listing the candidates, and logs nothing off' {
            # Move Contoso's Pool-Desktop out of the tie-breaking resource group: two candidates, no winner.
            $state = Get-RdsEmulatorState -Url $url
            ($state.tenantGroups[0].tenants | Where-Object name -EQ 'Contoso').hostPools |
                Where-Object name -EQ 'Pool-Desktop' | ForEach-Object { $_ | Add-Member -NotePropertyName armResourceGroup -NotePropertyValue 'rg-desktop-moved' -Force }
            Set-RdsEmulatorState -Url $url -Seed $state
            $null = Add-RdsAccount -DeploymentUrl $url -AccessToken 'rds-emulator-arm-token'

            Invoke-RdsUserSessionLogoff -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -SessionHostName 'sh1.contoso.com' -SessionId 3 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "HostPoolAmbiguous$logoffFqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'InvalidResult'
            "$($err[0])" | Should -Match 'rg-desktop-moved'
            "$($err[0])" | Should -Match 'rg-fabrikam-avd'
            $err[0].ErrorDetails.RecommendedAction | Should -Match 'Set-RdsArmMapping'
            @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.route -eq 'armDeleteUserSession' }).Count | Should -Be 0
        }
    }

    Context 'what ARM answers differently' {
        BeforeEach {
            $null = Add-RdsAccount -DeploymentUrl $url -AccessToken 'rds-emulator-arm-token'
        }

        It 'ResourceLocked: a CanNotDelete lock blocks the logoff (an ARM DELETE); the message names the lock scope; a disconnect still works' {
            $scope = "/subscriptions/$subscription/resourceGroups/Contoso_Pool-Desktop"
            $null = Invoke-RdsEmulatorAdminRequest -Url $url -Method Post -Path '/_emulator/arm/locks' -Body @{ name = 'nightly-freeze'; scope = $scope; level = 'CanNotDelete' }

            Invoke-RdsUserSessionLogoff Contoso Pool-Desktop sh1.contoso.com 3 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue
            Disconnect-RdsUserSession Contoso Pool-Desktop sh1.contoso.com 2 -NoUserPrompt -ErrorVariable disconnectErr -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "ResourceLocked$logoffFqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            "$($err[0])" | Should -Match 'Contoso_Pool-Desktop'
            "$($err[0])" | Should -Match '(?i)delete'
            $disconnectErr.Count | Should -Be 0
            Get-RdsSessionIdsLeft -Url $url -TenantName Contoso -HostPoolName Pool-Desktop -SessionHostName sh1.contoso.com | Should -Match '(^|,)3(,|$)'
        }

        It 'AuthorizationFailed: names the role that suffices, and nothing changes' {
            $elsewhere = "/subscriptions/$subscription/resourceGroups/rg-avd-apps"
            $null = Invoke-RdsEmulatorAdminRequest -Url $url -Method Put -Path '/_emulator/arm/roleAssignments' -Body @(
                @{ principalId = '88888888-8888-8888-8888-888888888888'; roleDefinitionName = 'Desktop Virtualization User Session Operator'; scope = $elsewhere }
            )

            Invoke-RdsUserSessionLogoff Contoso Pool-Desktop sh1.contoso.com 3 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue
            Invoke-RdsUserSessionLogoff Contoso Pool-Apps app1.contoso.com 6 -NoUserPrompt -ErrorVariable allowedErr -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "AuthorizationFailed$logoffFqidSuffix"
            $err[0].ErrorDetails.RecommendedAction | Should -Match 'Desktop Virtualization User Session Operator'
            # With the role on its resource group, the other pool works.
            $allowedErr.Count | Should -Be 0
        }

        It 'falls back once from api-version 2025-10-10 to 2024-04-03 when ARM refuses the newer one, and says so in a verbose record' {
            $null = Invoke-RdsEmulatorAdminRequest -Url $url -Method Put -Path '/_emulator/arm' -Body @{ apiVersions = @('2024-04-03') }
            $null = Add-RdsAccount -DeploymentUrl $url -AccessToken 'rds-emulator-arm-token'

            $output = @(Get-RdsUserSession Contoso Pool-Desktop -Verbose 4>&1)

            $verbose = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            ($verbose -join "`n") | Should -Match '2024-04-03'
            @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count | Should -BeGreaterThan 0
            $versions = @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.route -eq 'armListUserSessions' } | ForEach-Object apiVersion)
            $versions[0] | Should -BeExactly '2025-10-10'
            $versions[-1] | Should -BeExactly '2024-04-03'
            # The context says which one is in use now.
            (Get-RdsContext).ApiVersion | Should -BeExactly '2024-04-03'
        }

        It 'follows nextLink across pages and keeps the classic object shape' {
            $null = Invoke-RdsEmulatorAdminRequest -Url $url -Method Put -Path '/_emulator/arm' -Body @{ pageSize = 2 }

            $sessions = @(Get-RdsUserSession Contoso Pool-Desktop)

            $expected = @(Get-RdsEmulatorSession -Url $url | Where-Object { $_.TenantName -eq 'Contoso' -and $_.HostPoolName -eq 'Pool-Desktop' })
            $sessions.Count | Should -Be $expected.Count
            $sessions[0].GetType().FullName | Should -BeExactly 'RdsSessions.RdsUserSession'
            $sessions[0].TenantName | Should -BeExactly 'Contoso'
            $sessions[0].HostPoolName | Should -BeExactly 'Pool-Desktop'
            $sessions[0].CreateTime | Should -BeOfType [datetime]
            @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.route -eq 'armListUserSessions' }).Count | Should -Be ([math]::Ceiling($expected.Count / 2))
        }
    }

    Context 'pacing under ARM''s throttling (a small bucket)' {
        It 'keeps 429 answers at or below 1 % for 60 logoffs against a bucket of 10 refilled at 20 per second, and reports the quota in verbose output' {
            $null = New-RdsEmulatorBulkPool -Url $url -HostCount 2 -SessionsPerHost 30 -TenantName 'Bulk' -HostPoolName 'Pool-Bulk'
            $null = Write-RdsTestArmMapping -Url $url -Path $suite.MappingPath
            $null = Invoke-RdsEmulatorAdminRequest -Url $url -Method Put -Path '/_emulator/arm/ratelimits' -Body @{ deletes = @{ burst = 10; perSecond = 20 } }
            $null = Add-RdsAccount -DeploymentUrl $url -AccessToken 'rds-emulator-arm-token'
            $null = Invoke-RdsEmulatorAdminRequest -Url $url -Method Delete -Path '/_emulator/activity'

            $output = @(Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 32 -Verbose -ErrorVariable err -ErrorAction SilentlyContinue 4>&1)

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            Get-RdsEmulatorSessionCount -Url $url -TenantName 'Bulk' | Should -Be 0
            $activity = Get-RdsEmulatorActivity -Url $url
            $throttled = [int]$activity.arm.throttled.deletes
            $deletes = [int]$activity.arm.requests.deletes
            $deletes | Should -BeGreaterOrEqual 60
            ($throttled / $deletes) | Should -BeLessOrEqual 0.01
            @($activity.callsPerSession | Where-Object { $_.tenant -ceq 'Bulk' -and $_.logoff -ne 1 }).Count | Should -Be 0
            $verbose = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            ($verbose -match 'quota for deletes') | Should -Not -BeNullOrEmpty
        }
        It 'without pacing (-NoArmPacing, as the context shows) the same run meets many 429s' {
            $null = New-RdsEmulatorBulkPool -Url $url -HostCount 2 -SessionsPerHost 30 -TenantName 'Bulk' -HostPoolName 'Pool-Bulk'
            $null = Write-RdsTestArmMapping -Url $url -Path $suite.MappingPath
            $null = Invoke-RdsEmulatorAdminRequest -Url $url -Method Put -Path '/_emulator/arm/ratelimits' -Body @{ deletes = @{ burst = 10; perSecond = 20 } }
            $context = Add-RdsAccount -DeploymentUrl $url -AccessToken 'rds-emulator-arm-token' -NoArmPacing
            $null = Invoke-RdsEmulatorAdminRequest -Url $url -Method Delete -Path '/_emulator/activity'

            Get-RdsUserSession Bulk Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 32 -ErrorAction SilentlyContinue

            $context.ArmPacing | Should -BeFalse
            $activity = Get-RdsEmulatorActivity -Url $url
            ([int]$activity.arm.throttled.deletes / [int]$activity.arm.requests.deletes) | Should -BeGreaterThan 0.1
            # Never twice: a 429 is a known outcome (not applied), so its retry is safe.
            @($activity.logoffs | Where-Object tenant -CEQ 'Bulk' | Group-Object -Property sessionHost, sessionId | Where-Object Count -GT 1).Count | Should -Be 0
        }
    }
}
