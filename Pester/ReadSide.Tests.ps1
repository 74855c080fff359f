# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of the read side and drain mode: Get-RdsTenant, Get-RdsHostPool,
# Get-RdsSessionHost and Set-RdsSessionHost -AllowNewSession, alone and in the scripts admins
# write with them (a sweep from tenants down to sessions; drain, warn, log off, undrain), on both
# backends. The BUILT module against the project's emulator over loopback HTTP.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'read side'

    # The original contracts: positions, and binding by property name so that
    # Get-RdsTenant | Get-RdsHostPool | Get-RdsSessionHost (and | Get-RdsUserSession) work.
    $contractCases = @(
        @{ CommandName = 'Get-RdsTenant'; ParameterName = 'Name'; Contract = 'System.String, optional, position 0, from the pipeline by property name, in every parameter set, aliases TenantName' }
        @{ CommandName = 'Get-RdsHostPool'; ParameterName = 'TenantName'; Contract = 'System.String, mandatory, position 0, from the pipeline by value and by property name, in every parameter set' }
        @{ CommandName = 'Get-RdsHostPool'; ParameterName = 'Name'; Contract = 'System.String, optional, position 1, from the pipeline by property name, in every parameter set, aliases HostPoolName' }
        @{ CommandName = 'Get-RdsSessionHost'; ParameterName = 'TenantName'; Contract = 'System.String, mandatory, position 0, from the pipeline by value and by property name, in every parameter set' }
        @{ CommandName = 'Get-RdsSessionHost'; ParameterName = 'HostPoolName'; Contract = 'System.String, mandatory, position 1, from the pipeline by value and by property name, in every parameter set' }
        @{ CommandName = 'Get-RdsSessionHost'; ParameterName = 'Name'; Contract = 'System.String, optional, position 2, from the pipeline by property name, in every parameter set, aliases SessionHostName' }
        @{ CommandName = 'Set-RdsSessionHost'; ParameterName = 'TenantName'; Contract = 'System.String, mandatory, position 0, from the pipeline by property name, in every parameter set' }
        @{ CommandName = 'Set-RdsSessionHost'; ParameterName = 'HostPoolName'; Contract = 'System.String, mandatory, position 1, from the pipeline by property name, in every parameter set' }
        @{ CommandName = 'Set-RdsSessionHost'; ParameterName = 'Name'; Contract = 'System.String, mandatory, position 2, from the pipeline by property name, in every parameter set, aliases SessionHostName' }
        @{ CommandName = 'Set-RdsSessionHost'; ParameterName = 'AllowNewSession'; Contract = 'System.Boolean, mandatory, named, not from the pipeline, in every parameter set' }
    )
}

Describe 'The read-side cmdlets'' parameters' -Tag 'ReadSide' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
        Import-Module -Name (Get-RdsModuleManifest) -Force -ErrorAction Stop
    }

    AfterAll {
        Remove-Module -Name 'RdsSessions' -Force -ErrorAction SilentlyContinue
    }

    It '<CommandName> -<ParameterName>: <Contract>' -ForEach $contractCases {
        Get-RdsParameterContract -CommandName $CommandName -ParameterName $ParameterName | Should -BeExactly $Contract
    }

    It 'Set-RdsSessionHost supports -WhatIf and -Confirm; the Get cmdlets write RdsTenant, RdsHostPool and RdsSessionHost' {
        (Get-Command Set-RdsSessionHost).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Get-RdsTenant).OutputType.Name | Should -Be 'RdsSessions.RdsTenant'
        (Get-Command Get-RdsHostPool).OutputType.Name | Should -Be 'RdsSessions.RdsHostPool'
        (Get-Command Get-RdsSessionHost).OutputType.Name | Should -Be 'RdsSessions.RdsSessionHost'
        (Get-Command Set-RdsSessionHost).OutputType.Name | Should -Be 'RdsSessions.RdsSessionHost'
    }
}

Describe 'The read side and drain mode (<Flavour>)' -Tag 'Integration', 'ReadSide' -Skip:([bool]$skipReason) -ForEach @(
    @{ Flavour = 'Classic' }
    @{ Flavour = 'Arm' }
) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        $seed = New-RdsTestSeed -UnreachableSessionHost 'stale1.contoso.com' -Session @(
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 2; SessionState = 'Active' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 3; SessionState = 'Disconnected' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh2.contoso.com'; SessionId = 4; SessionState = 'Active' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh2.contoso.com'; SessionId = 9; SessionState = 'Disconnected' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Apps'; SessionHostName = 'app1.contoso.com'; SessionId = 6; SessionState = 'Disconnected'; ApplicationType = 'RemoteApp' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Apps'; SessionHostName = 'app1.contoso.com'; SessionId = 7; SessionState = 'Active'; ApplicationType = 'RemoteApp' }
            @{ TenantName = 'Fabrikam'; HostPoolName = 'Fabrikam-Pool'; SessionHostName = 'vm1.fabrikam.com'; SessionId = 11; SessionState = 'Disconnected' }
            @{ TenantName = 'Fabrikam'; HostPoolName = 'Fabrikam-Pool'; SessionHostName = 'vm1.fabrikam.com'; SessionId = 12; SessionState = 'Active' }
        )
        $suite = Initialize-RdsTestSuite -SignIn -Flavour $Flavour -Seed $seed
        $seed = $suite.Seed
        $emulator = $suite.Emulator
        $url = $emulator.Url

        function Get-EmulatorSessionHost {
            # The emulator's record of one session host (allowNewSession is written only when false).
            param([string] $TenantName, [string] $HostPoolName, [string] $SessionHostName)
            $state = Get-RdsEmulatorState -Url $url
            $tenant = $state.tenantGroups[0].tenants | Where-Object name -CEQ $TenantName
            $pool = $tenant.hostPools | Where-Object name -CEQ $HostPoolName
            $pool.sessionHosts | Where-Object name -CEQ $SessionHostName
        }
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
    }

    BeforeEach {
        $sessionsBefore = @(Reset-RdsEmulatorState -Url $url -Seed $seed)
    }

    Context 'Get-RdsTenant, Get-RdsHostPool, Get-RdsSessionHost' {
        It 'Get-RdsTenant lists the tenants the identity can use, and -Name picks one' {
            $tenants = @(Get-RdsTenant)

            @($tenants | ForEach-Object TenantName | Sort-Object) -join ',' | Should -BeExactly 'Contoso,Fabrikam'
            $tenants[0].GetType().FullName | Should -BeExactly 'RdsSessions.RdsTenant'
            @(Get-RdsTenant -Name 'Fabrikam').TenantName | Should -BeExactly 'Fabrikam'
            if ($Flavour -eq 'Arm') {
                # Under ARM a tenant is a mapping entry: its subscription is what the mapping says.
                (Get-RdsTenant -Name 'Contoso').AzureSubscriptionId | Should -Match '^[0-9a-f-]{36}$'
            }
        }

        It 'Get-RdsHostPool lists a tenant''s host pools with their settings' {
            $pools = @(Get-RdsHostPool -TenantName 'Contoso')

            @($pools | ForEach-Object HostPoolName | Sort-Object) -join ',' | Should -BeExactly 'Pool-Apps,Pool-Desktop'
            $pools[0].GetType().FullName | Should -BeExactly 'RdsSessions.RdsHostPool'
            $pools | ForEach-Object { $_.TenantName | Should -BeExactly 'Contoso' }
            $desktop = Get-RdsHostPool Contoso Pool-Desktop
            $desktop.HostPoolName | Should -BeExactly 'Pool-Desktop'
            $desktop.MaxSessionLimit | Should -BeGreaterThan 0
            if ($Flavour -eq 'Arm') {
                $desktop.ArmResourceId | Should -Match '(?i)/providers/Microsoft\.DesktopVirtualization/hostpools/Pool-Desktop$'
            }
        }

        It 'Get-RdsSessionHost lists a pool''s hosts with their session counts and drain mode' {
            $hosts = @(Get-RdsSessionHost -TenantName 'Contoso' -HostPoolName 'Pool-Desktop')

            @($hosts | ForEach-Object SessionHostName | Sort-Object) -join ',' | Should -BeExactly 'sh1.contoso.com,sh2.contoso.com'
            $hosts | ForEach-Object {
                $_.GetType().FullName | Should -BeExactly 'RdsSessions.RdsSessionHost'
                $_.AllowNewSession | Should -BeTrue
                $_.Sessions | Should -Be 2
            }
            (Get-RdsSessionHost Contoso Pool-Desktop sh2.contoso.com).SessionHostName | Should -BeExactly 'sh2.contoso.com'
        }

        It 'reports an unknown host pool as HostPoolNotFound and goes on with the next one piped in' {
            $pools = @(
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'NoSuchPool' }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Apps' }
            )

            $hosts = @($pools | Get-RdsSessionHost -ErrorVariable err -ErrorAction SilentlyContinue)

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'HostPoolNotFound,RdsSessions.Commands.GetRdsSessionHostCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            @($hosts | ForEach-Object SessionHostName | Sort-Object) -join ',' | Should -BeExactly 'app1.contoso.com'
        }

        It 'reports an unknown session host as SessionHostNotFound, and Set-RdsSessionHost changes nothing for it' {
            $null = Get-RdsSessionHost Contoso Pool-Desktop nosuch.contoso.com -ErrorVariable err -ErrorAction SilentlyContinue
            $null = Set-RdsSessionHost Contoso Pool-Desktop nosuch.contoso.com -AllowNewSession $false -ErrorVariable setErr -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'SessionHostNotFound,RdsSessions.Commands.GetRdsSessionHostCommand'
            $setErr.Count | Should -Be 1
            $setErr[0].FullyQualifiedErrorId | Should -BeExactly 'SessionHostNotFound,RdsSessions.Commands.SetRdsSessionHostCommand'
            (Get-RdsSessionHost Contoso Pool-Desktop) | ForEach-Object { $_.AllowNewSession | Should -BeTrue }
        }

        It 'reports an unknown tenant as TenantNotFound (ARM: ArmMappingNotFound)' {
            $null = Get-RdsHostPool -TenantName 'NoSuchTenant' -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $expectedId = if ($Flavour -eq 'Arm') { 'ArmMappingNotFound' } else { 'TenantNotFound' }
            $err[0].FullyQualifiedErrorId | Should -BeExactly "$expectedId,RdsSessions.Commands.GetRdsHostPoolCommand"
        }
    }

    Context 'the scripts admins write with them' {
        It 'a sweep from every tenant down to its disconnected sessions logs off exactly those, in every pool' {
            Get-RdsTenant |
                Get-RdsHostPool |
                Get-RdsUserSession |
                Where-Object SessionState -EQ 'Disconnected' |
                Invoke-RdsUserSessionLogoff -NoUserPrompt -Force -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            Get-RdsRemovedSession -Url $url -Before $sessionsBefore |
                Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/3, Contoso/Pool-Desktop/sh2.contoso.com/9, Contoso/Pool-Apps/app1.contoso.com/6, Fabrikam/Fabrikam-Pool/vm1.fabrikam.com/11'
        }

        It 'drain, warn, log off, undrain: one host is drained, its users warned and logged off, then it takes sessions again' {
            $drained = Set-RdsSessionHost -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -Name 'sh1.contoso.com' -AllowNewSession $false

            $drained.AllowNewSession | Should -BeFalse
            (Get-EmulatorSessionHost Contoso Pool-Desktop sh1.contoso.com).allowNewSession | Should -BeFalse
            (Get-RdsSessionHost Contoso Pool-Desktop sh1.contoso.com).AllowNewSession | Should -BeFalse

            $onHost = @(Get-RdsUserSession Contoso Pool-Desktop | Where-Object SessionHostName -EQ 'sh1.contoso.com')
            $onHost | Send-RdsUserSessionMessage -MessageTitle 'Maintenance' -MessageBody 'Save your work: this host restarts in 5 minutes.' -NoUserPrompt
            $onHost | Invoke-RdsUserSessionLogoff -NoUserPrompt

            $messaged = @((Get-RdsEmulatorActivity -Url $url).messages | ForEach-Object { '{0}:{1}' -f $_.sessionHost, $_.sessionId } | Sort-Object)
            $messaged -join ',' | Should -BeExactly 'sh1.contoso.com:2,sh1.contoso.com:3'
            Get-RdsSessionIdsLeft -Url $url -TenantName Contoso -HostPoolName Pool-Desktop -SessionHostName sh1.contoso.com | Should -BeExactly ''
            Get-RdsSessionIdsLeft -Url $url -TenantName Contoso -HostPoolName Pool-Desktop -SessionHostName sh2.contoso.com | Should -BeExactly '4,9'

            $null = Set-RdsSessionHost Contoso Pool-Desktop sh1.contoso.com -AllowNewSession $true
            (Get-RdsSessionHost Contoso Pool-Desktop sh1.contoso.com).AllowNewSession | Should -BeTrue
        }

        It 'Set-RdsSessionHost -WhatIf changes nothing and sends no update' {
            Set-RdsSessionHost Contoso Pool-Desktop sh1.contoso.com -AllowNewSession $false -WhatIf

            (Get-RdsSessionHost Contoso Pool-Desktop sh1.contoso.com).AllowNewSession | Should -BeTrue
            @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.method -in 'PATCH', 'POST', 'PUT', 'DELETE' }).Count | Should -Be 0
        }
    }
}
