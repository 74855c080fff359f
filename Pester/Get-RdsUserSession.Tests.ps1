# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of Get-RdsUserSession: the BUILT module (out/RdsSessions/<version>/) against the
# project's RDS broker emulator (target/release/rds-emulator) over loopback HTTP, and the
# "list, filter, then act" pipelines pwsh users write with it. The same behaviours are tested in
# xunit by module/tests/RdsSessions.Tests/SessionFamilyTests.cs.
# Build first, then run: ./build.ps1; Invoke-Pester ./Pester   (or: ./build.ps1 -Task Test)
#
# Every logoff in this process passes -NoUserPrompt: without it the cmdlet prompts, which would
# hang an interactive test run.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'Get-RdsUserSession'

    # The parameter contract of the original cmdlet.
    $mandatoryParameterCases = @(
        @{ ParameterName = 'TenantName'; Position = 0 }
        @{ ParameterName = 'HostPoolName'; Position = 1 }
    )

    # The properties of the original RdMgmtUserSession objects, with the .NET type of each value.
    $propertyCases = @(
        @{ PropertyName = 'TenantGroupName'; TypeName = 'System.String' }
        @{ PropertyName = 'TenantName'; TypeName = 'System.String' }
        @{ PropertyName = 'HostPoolName'; TypeName = 'System.String' }
        @{ PropertyName = 'SessionHostName'; TypeName = 'System.String' }
        @{ PropertyName = 'SessionId'; TypeName = 'System.Int32' }
        @{ PropertyName = 'UserPrincipalName'; TypeName = 'System.String' }
        @{ PropertyName = 'AdUserName'; TypeName = 'System.String' }
        @{ PropertyName = 'SessionState'; TypeName = 'System.String' }
        @{ PropertyName = 'ApplicationType'; TypeName = 'System.String' }
        @{ PropertyName = 'CreateTime'; TypeName = 'System.DateTime' }
        @{ PropertyName = 'CreateTimeText'; TypeName = 'System.String' }
    )

    # Filters a script puts between Get-RdsUserSession -TenantName Contoso -HostPoolName Pool1 and
    # Invoke-RdsUserSessionLogoff, and the sessions each one logs off (in the order they were listed).
    # Filter runs as `& $Filter` in that pipeline: its $input is what Get-RdsUserSession lists.
    $logoffFilterCases = @(
        @{
            Case    = 'the sessions of one session host (Where-Object SessionHostName)'
            Filter  = { $input | Where-Object SessionHostName -eq 'sh2.contoso.com' }
            Removed = 'Contoso/Pool1/sh2.contoso.com/20, Contoso/Pool1/sh2.contoso.com/21'
        }
        @{
            # The same user's session in Pool2 is not listed, so it stays.
            Case    = 'the sessions of one user in one host pool (Where-Object UserPrincipalName)'
            Filter  = { $input | Where-Object UserPrincipalName -eq 'user18@contoso.com' }
            Removed = 'Contoso/Pool1/sh1.contoso.com/18'
        }
        @{
            Case    = 'the disconnected sessions of the reachable hosts (a Where-Object script block on SessionState)'
            Filter  = { $input | Where-Object { $_.SessionState -eq 'Disconnected' -and $_.SessionHostName -ne 'stale1.contoso.com' } }
            Removed = 'Contoso/Pool1/sh1.contoso.com/18, Contoso/Pool1/sh2.contoso.com/20'
        }
        @{
            # Any time zone puts the old sessions (Nov 1, 08:00 UTC) before and the new ones
            # (Nov 23, 21:04 UTC) after this local midnight.
            Case    = 'the sessions created before a fixed date (CreateTime compared with a [datetime])'
            Filter  = { $input | Where-Object { $_.CreateTime -lt [datetime]'2026-11-10' } }
            Removed = 'Contoso/Pool1/sh1.contoso.com/17, Contoso/Pool1/sh1.contoso.com/18'
        }
        @{
            Case    = 'the sessions older than a number of days before a fixed time (CreateTime arithmetic)'
            Filter  = { $input | Where-Object { (([datetimeoffset]'2026-11-24T09:00:00Z').LocalDateTime - $_.CreateTime).TotalDays -gt 7 } }
            Removed = 'Contoso/Pool1/sh1.contoso.com/17, Contoso/Pool1/sh1.contoso.com/18'
        }
        @{
            Case    = 'nothing when the filter lets nothing through'
            Filter  = { $input | Where-Object UserPrincipalName -eq 'nobody@contoso.com' }
            Removed = ''
        }
    )
}

# Both backends: the classic broker, and ARM through a mapping file (see common.ps1).
Describe 'Get-RdsUserSession (<Flavour>)' -Tag 'Integration', 'SessionFamily' -Skip:([bool]$skipReason) -ForEach @(
    @{ Flavour = 'Classic' }
    @{ Flavour = 'Arm' }
) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        $fqidSuffix = ',RdsSessions.Commands.GetRdsUserSessionCommand'

        # Two ages, so tests can filter "older than": sessions 17 and 18 are old, the rest new.
        $oldCreateTime = '2026-11-01T08:00:00Z'
        $newCreateTime = '2026-11-23T21:04:00Z'

        # The known state every test starts from: host pool Pool1 as in the xunit tests (odd ids
        # Active, even ids Disconnected, stale1 unreachable), plus sessions in other host pools
        # and tenants that no filter of Pool1 may touch.
        $seed = New-RdsTestSeed -UnreachableSessionHost 'stale1.contoso.com' -Session @(
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 17; UserPrincipalName = 'user17@contoso.com'; AdUserName = 'CONTOSO\user17'; SessionState = 'Active'; CreateTime = $oldCreateTime }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 18; UserPrincipalName = 'user18@contoso.com'; AdUserName = 'CONTOSO\user18'; SessionState = 'Disconnected'; CreateTime = $oldCreateTime }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 19; UserPrincipalName = 'user19@contoso.com'; AdUserName = 'CONTOSO\user19'; SessionState = 'Active'; CreateTime = $newCreateTime }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh2.contoso.com'; SessionId = 20; UserPrincipalName = 'user20@contoso.com'; AdUserName = 'CONTOSO\user20'; SessionState = 'Disconnected'; CreateTime = $newCreateTime }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh2.contoso.com'; SessionId = 21; UserPrincipalName = 'user21@contoso.com'; AdUserName = 'CONTOSO\user21'; SessionState = 'Active'; CreateTime = $newCreateTime }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'stale1.contoso.com'; SessionId = 30; UserPrincipalName = 'user30@contoso.com'; AdUserName = 'CONTOSO\user30'; SessionState = 'Disconnected'; CreateTime = $newCreateTime; ApplicationType = 'RemoteApp' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool2'; SessionHostName = 'sh1.contoso.com'; SessionId = 18; UserPrincipalName = 'user18@contoso.com'; AdUserName = 'CONTOSO\user18'; SessionState = 'Disconnected'; CreateTime = $oldCreateTime }
            @{ TenantName = 'Fabrikam'; HostPoolName = 'Fabrikam-Pool'; SessionHostName = 'vm1.fabrikam.com'; SessionId = 11; UserPrincipalName = 'judy@fabrikam.com'; AdUserName = 'FABRIKAM\judy'; SessionState = 'Disconnected'; CreateTime = $oldCreateTime }
        )
        $suite = Initialize-RdsTestSuite -SignIn -Flavour $Flavour -Seed $seed
        $seed = $suite.Seed
        $emulator = $suite.Emulator
        $logoffRoute = Get-RdsTestRoute -Flavour $Flavour -Operation Logoff
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
    }

    BeforeEach {
        # Replaces the state and clears the request log and the activity record.
        $sessionsBefore = @(Reset-RdsEmulatorState -Url $emulator.Url -Seed $seed)
    }

    Context 'parameters (the contract of the original cmdlet)' {
        It '-<ParameterName> is a mandatory string at position <Position>, bound from the pipeline by value and by property name' -ForEach $mandatoryParameterCases {
            Get-RdsParameterContract -CommandName 'Get-RdsUserSession' -ParameterName $ParameterName |
                Should -BeExactly "System.String, mandatory, position $Position, from the pipeline by value and by property name, in every parameter set"
        }

        It 'has a single parameter set' {
            (Get-Command -Name 'Get-RdsUserSession').ParameterSets.Count | Should -Be 1
        }
    }

    Context 'the objects it writes' {
        BeforeAll {
            # Read-only: the state is the seed's in every test of this Context.
            Set-RdsEmulatorState -Url $emulator.Url -Seed $seed
            $sessions = @(Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1')
        }

        It 'writes one object per session of the host pool, in the order the broker lists them' {
            $sessions.Count | Should -Be 6
            @($sessions | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ', ' |
                Should -BeExactly 'sh1.contoso.com/17, sh1.contoso.com/18, sh1.contoso.com/19, sh2.contoso.com/20, sh2.contoso.com/21, stale1.contoso.com/30'
        }

        It 'has the property <PropertyName> with a <TypeName> value' -ForEach $propertyCases {
            foreach ($session in $sessions) {
                $session.PSObject.Properties[$PropertyName] | Should -Not -BeNullOrEmpty
                $session.$PropertyName | Should -Not -BeNullOrEmpty
                $session.$PropertyName.GetType().FullName | Should -BeExactly $TypeName
            }
        }

        It "is an RdsSessions.RdsUserSession named like the original's objects (PSTypeNames[0])" {
            $sessions[0].GetType().FullName | Should -BeExactly 'RdsSessions.RdsUserSession'
            $sessions[0].PSTypeNames[0] | Should -BeExactly 'Microsoft.RDInfra.RDManagementData.RdMgmtUserSession'
            $sessions[0].PSTypeNames | Should -Contain 'RdsSessions.RdsUserSession'
        }

        It 'carries the values the broker holds for the session' {
            $first = $sessions[0]

            $first.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            $first.TenantName | Should -BeExactly 'Contoso'
            $first.HostPoolName | Should -BeExactly 'Pool1'
            $first.SessionHostName | Should -BeExactly 'sh1.contoso.com'
            $first.SessionId | Should -Be 17
            $first.UserPrincipalName | Should -BeExactly 'user17@contoso.com'
            $first.AdUserName | Should -BeExactly 'CONTOSO\user17'
            $first.SessionState | Should -BeExactly 'Active'
            $first.ApplicationType | Should -BeExactly 'Desktop'
            if ($Flavour -eq 'Arm') {
                # ARM writes the instant with seven fractional digits: the same instant.
                [datetimeoffset]::Parse($first.CreateTimeText, [cultureinfo]::InvariantCulture) | Should -Be ([datetimeoffset]::Parse($oldCreateTime, [cultureinfo]::InvariantCulture))
            }
            else {
                $first.CreateTimeText | Should -BeExactly $oldCreateTime
            }
            $sessions[5].ApplicationType | Should -BeExactly 'RemoteApp'
            $sessions[5].SessionState | Should -BeExactly 'Disconnected'
        }

        It 'gives CreateTime in local time: the instant of the broker''s UTC time' {
            $expected = ([datetimeoffset]$oldCreateTime).LocalDateTime

            $sessions[0].CreateTime | Should -Be $expected
            $sessions[0].CreateTime.Kind | Should -Be 'Local'
            $sessions[0].CreateTime.ToUniversalTime().ToString('o') | Should -BeExactly '2026-11-01T08:00:00.0000000Z'
        }

        It 'only reads: no session is logged off, disconnected or messaged' {
            $null = Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1'

            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
            $activity = Get-RdsEmulatorActivity -Url $emulator.Url
            @($activity.logoffs).Count | Should -Be 0
            @($activity.disconnects).Count | Should -Be 0
            @($activity.messages).Count | Should -Be 0
        }
    }

    Context 'ways of calling it' {
        It 'lists a host pool given by position' {
            $ids = @(Get-RdsUserSession 'Contoso' 'Pool2' | ForEach-Object { $_.SessionId })

            $ids -join ',' | Should -BeExactly '18'
        }

        It 'takes TenantName and HostPoolName from the properties of a piped object' {
            $pool = [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1' }

            $ids = @($pool | Get-RdsUserSession | ForEach-Object { $_.SessionId })

            $ids -join ',' | Should -BeExactly '17,18,19,20,21,30'
        }

        It 'lists every host pool piped in, one after the other' {
            $pools = @(
                [pscustomobject]@{ TenantName = 'Fabrikam'; HostPoolName = 'Fabrikam-Pool' }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool2' }
            )

            $listed = @($pools | Get-RdsUserSession | ForEach-Object { '{0}/{1}/{2}' -f $_.TenantName, $_.HostPoolName, $_.SessionId })

            $listed -join ', ' | Should -BeExactly 'Fabrikam/Fabrikam-Pool/11, Contoso/Pool2/18'
        }

        It 'binds a bare string piped in to -TenantName when -HostPoolName is named' {
            $ids = @('Contoso' | Get-RdsUserSession -HostPoolName 'Pool2' | ForEach-Object { $_.SessionId })

            $ids -join ',' | Should -BeExactly '18'
        }
    }

    Context 'errors' {
        It 'reports an unknown host pool as a non-terminating HostPoolNotFound error, and the script goes on' {
            $output = @(
                Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'NoSuchPool' -ErrorVariable err -ErrorAction SilentlyContinue
                'after'
            )

            $output.Count | Should -Be 1
            $output[0] | Should -BeExactly 'after'
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "HostPoolNotFound$fqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            "$($err[0].TargetObject)" | Should -BeExactly 'Contoso/NoSuchPool'
        }

        # On ARM a tenant is an entry of the mapping file: one it lacks is ArmMappingNotFound.
        It 'reports an unknown tenant as TenantNotFound (ARM: ArmMappingNotFound)' {
            $output = @(Get-RdsUserSession -TenantName 'NoSuchTenant' -HostPoolName 'Pool1' -ErrorVariable err -ErrorAction SilentlyContinue)

            $output.Count | Should -Be 0
            $err.Count | Should -Be 1
            $expectedId = if ($Flavour -eq 'Arm') { 'ArmMappingNotFound' } else { 'TenantNotFound' }
            $err[0].FullyQualifiedErrorId | Should -BeExactly "$expectedId$fqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'goes on with the next host pool piped in after an unknown one' {
            $pools = @(
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool2' }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'NoSuchPool' }
                [pscustomobject]@{ TenantName = 'Fabrikam'; HostPoolName = 'Fabrikam-Pool' }
            )

            $listed = @($pools | Get-RdsUserSession -ErrorVariable err -ErrorAction SilentlyContinue | ForEach-Object { '{0}/{1}' -f $_.HostPoolName, $_.SessionId })

            $listed -join ', ' | Should -BeExactly 'Pool2/18, Fabrikam-Pool/11'
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "HostPoolNotFound$fqidSuffix"
        }

        It 'throws the error with -ErrorAction Stop (Should -Throw -ErrorId)' {
            { Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'NoSuchPool' -ErrorAction Stop } |
                Should -Throw -ErrorId "HostPoolNotFound$fqidSuffix"
        }
    }

    Context 'filter, then pipe into Invoke-RdsUserSessionLogoff' {
        It 'logs off <Case>' -ForEach $logoffFilterCases {
            $selected = @(Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1' | & $Filter)
            @($selected | ForEach-Object { '{0}/{1}/{2}/{3}' -f $_.TenantName, $_.HostPoolName, $_.SessionHostName, $_.SessionId }) -join ', ' |
                Should -BeExactly $Removed

            Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1' |
                & $Filter |
                Invoke-RdsUserSessionLogoff -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly $Removed
            # One logoff request per selected session, and none when nothing was selected.
            @(Get-RdsEmulatorRequests -Url $emulator.Url | Where-Object { $_.route -eq $logoffRoute }).Count | Should -Be $selected.Count
        }

        It 'writes -PassThru results that name the listed sessions, in the order they were listed' {
            $results = @(
                Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1' |
                    Where-Object SessionHostName -eq 'sh1.contoso.com' |
                    Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru -ErrorVariable err -ErrorAction SilentlyContinue
            )

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            @($results | ForEach-Object { '{0}/{1}/{2}/{3}' -f $_.TenantName, $_.HostPoolName, $_.SessionHostName, $_.SessionId }) -join ', ' |
                Should -BeExactly 'Contoso/Pool1/sh1.contoso.com/17, Contoso/Pool1/sh1.contoso.com/18, Contoso/Pool1/sh1.contoso.com/19'
            $results | ForEach-Object { $_.Status | Should -BeExactly 'LoggedOff' }
            Get-RdsSessionIdsLeft -Url $emulator.Url -TenantName 'Contoso' -HostPoolName 'Pool1' -SessionHostName 'sh1.contoso.com' |
                Should -BeExactly ''
        }
    }
}
