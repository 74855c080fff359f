# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of Invoke-RdsUserSessionLogoff: the BUILT module (out/RdsSessions/<version>/)
# against the project's RDS broker emulator (target/release/rds-emulator) over loopback HTTP.
# Build first, then run: ./build.ps1; Invoke-Pester ./Pester   (or: ./build.ps1 -Task Test)
#
# Every call in this process passes -NoUserPrompt: without it the cmdlet prompts, which would
# hang an interactive test run. Prompting is tested in child processes.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'Invoke-RdsUserSessionLogoff'

    # The parameter contract of the original help page (reference/Invoke-RdsUserSessionLogoff.md).
    $mandatoryParameterCases = @(
        @{ ParameterName = 'TenantName'; TypeName = 'System.String'; Position = 0 }
        @{ ParameterName = 'HostPoolName'; TypeName = 'System.String'; Position = 1 }
        @{ ParameterName = 'SessionHostName'; TypeName = 'System.String'; Position = 2 }
        @{ ParameterName = 'SessionId'; TypeName = 'System.Int32'; Position = 3 }
    )
    $switchParameterCases = @(
        @{ ParameterName = 'NoUserPrompt' }
        @{ ParameterName = 'Force' }
        @{ ParameterName = 'PassThru' }
    )

    # Session: the four identity parameters of the call, splatted. ArmErrorId: what the same call
    # gets through ARM (a tenant is a mapping entry there); none for a missing session, which ARM
    # answers 204 (tested on its own below).
    $notFoundCases = @(
        @{ ErrorId = 'TenantNotFound'; ArmErrorId = 'ArmMappingNotFound'; Session = @{ TenantName = 'NoSuchTenant'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 } }
        @{ ErrorId = 'HostPoolNotFound'; ArmErrorId = 'HostPoolNotFound'; Session = @{ TenantName = 'Contoso'; HostPoolName = 'NoSuchPool'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 } }
        @{ ErrorId = 'SessionHostNotFound'; ArmErrorId = 'SessionHostNotFound'; Session = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'nosuch.contoso.com'; SessionId = 17 } }
        @{ ErrorId = 'SessionNotFound'; ArmErrorId = $null; Session = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 99 } }
    )

    $invalidInputCases = @(
        @{ Case = "'..' as the tenant name"; Session = @{ TenantName = '..'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 } }
        @{ Case = "'.' as the host pool name"; Session = @{ TenantName = 'Contoso'; HostPoolName = '.'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 } }
        @{ Case = "'..' as the session host name"; Session = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = '..'; SessionId = 17 } }
        @{ Case = 'a blank session host name'; Session = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = '   '; SessionId = 17 } }
        @{ Case = 'a control character in the tenant name'; Session = @{ TenantName = "Con`ttoso"; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 } }
        @{ Case = 'a negative session id'; Session = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = -1 } }
    )

    $hostileNameCases = @(Get-RdsHostileNameCase)
}

# Every behaviour runs on both backends: the classic broker, and Azure Resource Manager reached
# through a mapping file (the way the old scripts run today). Where ARM answers differently by
# design (a missing session is 204, permissions are roles), the test names the flavour's answer.
Describe 'Invoke-RdsUserSessionLogoff (<Flavour>)' -Tag 'Integration' -Skip:([bool]$skipReason) -ForEach @(
    @{ Flavour = 'Classic' }
    @{ Flavour = 'Arm' }
) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        $fqidSuffix = ',RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand'

        # Splattable addresses of the session hosts the tests use most.
        $sh1 = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com' }
        $sh2 = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh2.contoso.com' }
        $app1 = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Apps'; SessionHostName = 'app1.contoso.com' }
        $stale1 = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Apps'; SessionHostName = 'stale1.contoso.com' }
        $northwind = @{ TenantName = 'Northwind'; HostPoolName = 'Northwind-Pool'; SessionHostName = 'nw1.northwind.com' }

        # The known state every test starts from (the emulator's sample data, plus a forbidden
        # tenant and hosts with hostile names).
        $sessionSpecs = [System.Collections.Generic.List[object]]::new()
        $sessionSpecs.AddRange([object[]]@(
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 2; UserPrincipalName = 'alice@contoso.com'; SessionState = 'Active' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 3; UserPrincipalName = 'bob@contoso.com'; SessionState = 'Disconnected' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 5; UserPrincipalName = 'carol@contoso.com'; SessionState = 'Active' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17; UserPrincipalName = 'dave@contoso.com'; SessionState = 'Disconnected' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh2.contoso.com'; SessionId = 2; UserPrincipalName = 'erin@contoso.com'; SessionState = 'Active' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh2.contoso.com'; SessionId = 4; UserPrincipalName = 'frank@contoso.com'; SessionState = 'Active' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh2.contoso.com'; SessionId = 9; UserPrincipalName = 'alice@contoso.com'; SessionState = 'Disconnected' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Apps'; SessionHostName = 'app1.contoso.com'; SessionId = 1; UserPrincipalName = 'grace@contoso.com'; SessionState = 'Active'; ApplicationType = 'RemoteApp' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Apps'; SessionHostName = 'app1.contoso.com'; SessionId = 6; UserPrincipalName = 'heidi@contoso.com'; SessionState = 'Disconnected'; ApplicationType = 'RemoteApp' }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Apps'; SessionHostName = 'stale1.contoso.com'; SessionId = 3; UserPrincipalName = 'ivan@contoso.com'; SessionState = 'Disconnected'; ApplicationType = 'RemoteApp' }
                @{ TenantName = 'Fabrikam'; HostPoolName = 'Fabrikam-Pool'; SessionHostName = 'vm1.fabrikam.com'; SessionId = 11; UserPrincipalName = 'judy@fabrikam.com'; SessionState = 'Active' }
                @{ TenantName = 'Northwind'; HostPoolName = 'Northwind-Pool'; SessionHostName = 'nw1.northwind.com'; SessionId = 8; UserPrincipalName = 'mallory@northwind.com'; SessionState = 'Active' }
            ))
        foreach ($case in Get-RdsHostileNameCase) {
            foreach ($id in 1, 2) {
                $sessionSpecs.Add(@{
                        TenantName      = $case.TenantName
                        HostPoolName    = $case.HostPoolName
                        SessionHostName = $case.SessionHostName
                        SessionId       = $id
                    })
            }
        }
        $seed = New-RdsTestSeed -Session $sessionSpecs.ToArray() -UnreachableSessionHost 'stale1.contoso.com' -ForbiddenTenant 'Northwind'

        $suite = Initialize-RdsTestSuite -SignIn -Flavour $Flavour -Seed $seed -ForbiddenTenant 'Northwind'
        $seed = $suite.Seed
        $emulator = $suite.Emulator
        $accessToken = $suite.AccessToken
        $logoffRoute = Get-RdsTestRoute -Flavour $Flavour -Operation Logoff
        # What a child pwsh needs to sign in to the emulator (Invoke-RdsChildPwshCommand); on ARM
        # it finds the mapping file through RDSSESSIONS_ARM_MAPPING, which it inherits.
        $childSignIn = @{ ManifestPath = $suite.ManifestPath; Url = $emulator.Url; AccessToken = $accessToken }
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
    }

    BeforeEach {
        # Replaces the state and clears the request log.
        $sessionsBefore = @(Reset-RdsEmulatorState -Url $emulator.Url -Seed $seed)
    }

    Context 'parameters (the contract of the original help page)' {
        It '-<ParameterName> is a mandatory <TypeName> at position <Position>, bound from the pipeline by value and by property name' -ForEach $mandatoryParameterCases {
            # Exactly this, so also: one declaration, in every parameter set, and no aliases.
            Get-RdsParameterContract -CommandName 'Invoke-RdsUserSessionLogoff' -ParameterName $ParameterName |
                Should -BeExactly "$TypeName, mandatory, position $Position, from the pipeline by value and by property name, in every parameter set"
        }

        It '-<ParameterName> is an optional, named switch that is not bound from the pipeline' -ForEach $switchParameterCases {
            Get-RdsParameterContract -CommandName 'Invoke-RdsUserSessionLogoff' -ParameterName $ParameterName |
                Should -BeExactly 'System.Management.Automation.SwitchParameter, optional, named, not from the pipeline, in every parameter set'
        }

        It 'has a single parameter set, and -WhatIf and -Confirm for a dry run' {
            $command = Get-Command -Name 'Invoke-RdsUserSessionLogoff'

            $command.ParameterSets.Count | Should -Be 1
            $command.Parameters.Keys | Should -Contain 'WhatIf'
            $command.Parameters.Keys | Should -Contain 'Confirm'
        }
    }

    Context 'ways of calling it' {
        It 'logs a session off with the four values given by position' {
            Invoke-RdsUserSessionLogoff 'Contoso' 'Pool-Desktop' 'sh1.contoso.com' 17 -NoUserPrompt

            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,5'
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/17'
        }

        It 'logs a session off with named parameters' {
            Invoke-RdsUserSessionLogoff -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -SessionHostName 'sh2.contoso.com' -SessionId 4 -NoUserPrompt

            Get-RdsSessionIdsLeft -Url $emulator.Url @sh2 | Should -BeExactly '2,9'
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly 'Contoso/Pool-Desktop/sh2.contoso.com/4'
        }

        It 'logs a session off with splatted parameters' {
            $arguments = @{
                TenantName      = 'Contoso'
                HostPoolName    = 'Pool-Apps'
                SessionHostName = 'app1.contoso.com'
                SessionId       = 6
                NoUserPrompt    = $true
            }

            Invoke-RdsUserSessionLogoff @arguments

            Get-RdsSessionIdsLeft -Url $emulator.Url @app1 | Should -BeExactly '1'
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly 'Contoso/Pool-Apps/app1.contoso.com/6'
        }

        It "converts -SessionId '17' (a string) to the session id 17" {
            Invoke-RdsUserSessionLogoff @sh1 -SessionId '17' -NoUserPrompt

            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,5'
        }

        It 'writes nothing to the output without -PassThru' {
            $output = Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt

            $output | Should -BeNullOrEmpty
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,5'
        }
    }

    Context 'pipeline input' {
        It 'logs off every object piped in, binding the four properties by name' {
            $sessions = @(
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 3 }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh2.contoso.com'; SessionId = 9 }
            )

            $sessions | Invoke-RdsUserSessionLogoff -NoUserPrompt

            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,5,17'
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh2 | Should -BeExactly '2,4'
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore |
                Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/3, Contoso/Pool-Desktop/sh2.contoso.com/9'
        }

        It 'logs off only the sessions a Where-Object filter lets through' {
            $disconnected = @(
                Get-RdsEmulatorSession -Url $emulator.Url |
                    Where-Object { $_.HostPoolName -eq 'Pool-Desktop' -and $_.SessionState -eq 'Disconnected' }
            )
            $disconnected.Count | Should -Be 3

            $disconnected | Invoke-RdsUserSessionLogoff -NoUserPrompt

            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,5'
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh2 | Should -BeExactly '2,4'
            Get-RdsSessionIdsLeft -Url $emulator.Url @app1 | Should -BeExactly '1,6'
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore |
                Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/3, Contoso/Pool-Desktop/sh1.contoso.com/17, Contoso/Pool-Desktop/sh2.contoso.com/9'
        }

        It 'binds a bare string piped in to -TenantName when the other three are named' {
            'Contoso' | Invoke-RdsUserSessionLogoff -HostPoolName 'Pool-Desktop' -SessionHostName 'sh1.contoso.com' -SessionId 17 -NoUserPrompt

            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,5'
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/17'
        }

        It 'goes on with the next item after a failed one' {
            $sessions = @(
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 2 }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'nosuch.contoso.com'; SessionId = 99 }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 5 }
            )

            $sessions | Invoke-RdsUserSessionLogoff -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "SessionHostNotFound$fqidSuffix"
            $err[0].TargetObject.SessionId | Should -Be 99
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '3,17'
        }

        It 'stops at the failed item with -ErrorAction Stop, and try/catch catches the error' {
            $sessions = @(
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 2 }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'nosuch.contoso.com'; SessionId = 99 }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 5 }
            )
            $caught = $null
            $completed = $false

            try {
                $sessions | Invoke-RdsUserSessionLogoff -NoUserPrompt -ErrorAction Stop
                $completed = $true
            }
            catch {
                $caught = $_
            }

            $completed | Should -BeFalse
            $caught | Should -Not -BeNullOrEmpty
            $caught.FullyQualifiedErrorId | Should -BeExactly "SessionHostNotFound$fqidSuffix"
            $caught.TargetObject.SessionId | Should -Be 99
            # The first item was logged off; the third was never reached.
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '3,5,17'
        }

        It 'throws the per-session error with -ErrorAction Stop (Should -Throw -ErrorId)' {
            { Invoke-RdsUserSessionLogoff @sh1 -SessionHostName 'nosuch.contoso.com' -SessionId 99 -NoUserPrompt -ErrorAction Stop } |
                Should -Throw -ErrorId "SessionHostNotFound$fqidSuffix"

            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
        }
    }

    Context 'prompting (child pwsh -NonInteractive)' {
        It 'never prompts with -NoUserPrompt: it completes in a non-interactive pwsh' {
            $result = Invoke-RdsChildPwshCommand @childSignIn -Command {
                Invoke-RdsUserSessionLogoff -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -SessionHostName 'sh1.contoso.com' -SessionId 17 -NoUserPrompt -ErrorAction Stop
            }

            $result.ExitCode | Should -Be 0 -Because ($result.Output -join [Environment]::NewLine)
            $result.Output | Should -Contain 'NO-ERROR'
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,5'
        }

        It 'fails with ConfirmationNotPossible without -NoUserPrompt in a non-interactive pwsh, and logs nothing off' {
            $result = Invoke-RdsChildPwshCommand @childSignIn -Command {
                $sessions = @(
                    [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
                    [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 3 }
                )
                $sessions | Invoke-RdsUserSessionLogoff
            }

            $result.ExitCode | Should -Be 3 -Because ($result.Output -join [Environment]::NewLine)
            $result.ErrorId | Should -BeExactly "ConfirmationNotPossible$fqidSuffix"
            $result.Category | Should -BeExactly 'InvalidOperation'
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
            @(Get-RdsEmulatorRequests -Url $emulator.Url | Where-Object { $_.route -eq $logoffRoute }).Count | Should -Be 0
        }
    }

    Context '-Force and unreachable session hosts' {
        It 'without -Force, reports BrokerConflict for a session on an unreachable host and leaves it' {
            Invoke-RdsUserSessionLogoff @stale1 -SessionId 3 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "BrokerConflict$fqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err[0].TargetObject.ToString() | Should -BeExactly 'Contoso/Pool-Apps/stale1.contoso.com/3'
            Get-RdsSessionIdsLeft -Url $emulator.Url @stale1 | Should -BeExactly '3'
            $requests = @(Get-RdsEmulatorRequests -Url $emulator.Url | Where-Object { $_.route -eq $logoffRoute })
            $requests.Count | Should -Be 1
            $requests[0].status | Should -Be 409
            $requests[0].force | Should -BeNullOrEmpty
        }

        It 'with -Force, logs off a session on an unreachable host' {
            Invoke-RdsUserSessionLogoff @stale1 -SessionId 3 -NoUserPrompt -Force -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            Get-RdsSessionIdsLeft -Url $emulator.Url @stale1 | Should -BeExactly ''
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly 'Contoso/Pool-Apps/stale1.contoso.com/3'
            $requests = @(Get-RdsEmulatorRequests -Url $emulator.Url | Where-Object { $_.route -eq $logoffRoute })
            $requests.Count | Should -Be 1
            $requests[0].force | Should -BeTrue
            $requests[0].status | Should -Be 200
        }
    }

    Context 'errors' {
        It '<ErrorId> (ARM: <ArmErrorId>): writes a non-terminating ObjectNotFound error that identifies the session, and changes nothing' -ForEach @($notFoundCases | Where-Object { $Flavour -eq 'Classic' -or $_.ArmErrorId }) {
            Invoke-RdsUserSessionLogoff @Session -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $expectedId = if ($Flavour -eq 'Arm') { $ArmErrorId } else { $ErrorId }
            $err[0].FullyQualifiedErrorId | Should -BeExactly "$expectedId$fqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $target = $err[0].TargetObject
            $target.GetType().FullName | Should -BeExactly 'RdsSessions.SessionIdentity'
            $target.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            foreach ($name in 'TenantName', 'HostPoolName', 'SessionHostName', 'SessionId') {
                $target.$name | Should -BeExactly $Session[$name] -Because "the error's TargetObject should carry the -$name of the call"
            }
            $target.ToString() | Should -BeExactly ('{0}/{1}/{2}/{3}' -f $Session.TenantName, $Session.HostPoolName, $Session.SessionHostName, $Session.SessionId)
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
        }

        if ($Flavour -eq 'Arm') {
            It 'ARM: a session that does not exist is answered 204 and counted as done, with a verbose note' {
                $result = Invoke-RdsUserSessionLogoff @sh1 -SessionId 99 -NoUserPrompt -PassThru -Verbose -ErrorVariable err -ErrorAction SilentlyContinue 4>&1

                $err.Count | Should -Be 0
                $verbose = @($result | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
                $verbose -match 'did not exist \(ARM answered 204' | Should -Not -BeNullOrEmpty -Because ($verbose -join '; ')
                $requests = @(Get-RdsEmulatorRequests -Url $emulator.Url | Where-Object { $_.route -eq $logoffRoute })
                $requests.Count | Should -Be 1
                $requests[0].status | Should -Be 204
                Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
            }
        }

        # ARM: the tenant group is part of how the emulator derives a tenant's subscription id,
        # so the same move makes the mapped subscription unknown.
        It 'TenantGroupNotFound (ARM: SubscriptionNotFound): reports a tenant group the broker does not know' {
            $otherGroup = New-RdsTestSeed -TenantGroupName 'Another Tenant Group' -Session @(
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
            )
            Set-RdsEmulatorState -Url $emulator.Url -Seed $otherGroup

            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $expectedId = if ($Flavour -eq 'Arm') { 'SubscriptionNotFound' } else { 'TenantGroupNotFound' }
            $err[0].FullyQualifiedErrorId | Should -BeExactly "$expectedId$fqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 -TenantGroupName 'Another Tenant Group' | Should -BeExactly '17'
        }

        It 'BrokerUnauthorized: reports a token the broker rejects' {
            try {
                $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken 'not-the-emulator-token'
                Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue
            }
            finally {
                $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken
            }

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "BrokerUnauthorized$fqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
            $err[0].TargetObject.SessionId | Should -Be 17
            "$($err[0])" | Should -Not -Match 'not-the-emulator-token'
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,5,17'
            $requests = @(Get-RdsEmulatorRequests -Url $emulator.Url)
            $requests.Count | Should -BeGreaterOrEqual 1
            $requests | ForEach-Object { $_.authorized | Should -BeFalse }
            $requests | ForEach-Object { $_.status | Should -Be 401 }
        }

        It 'BrokerForbidden (ARM: AuthorizationFailed): reports a tenant the caller has no role on' {
            Invoke-RdsUserSessionLogoff @northwind -SessionId 8 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $expectedId = if ($Flavour -eq 'Arm') { 'AuthorizationFailed' } else { 'BrokerForbidden' }
            $err[0].FullyQualifiedErrorId | Should -BeExactly "$expectedId$fqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            Get-RdsSessionIdsLeft -Url $emulator.Url @northwind | Should -BeExactly '8'
        }

        It 'InvalidInput: rejects <Case> before sending anything' -ForEach $invalidInputCases {
            Invoke-RdsUserSessionLogoff @Session -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "InvalidInput$fqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err[0].TargetObject.SessionId | Should -Be $Session.SessionId
            @(Get-RdsEmulatorRequests -Url $emulator.Url).Count | Should -Be 0
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
        }
    }

    Context '-PassThru' {
        It 'writes one RdsUserSessionLogoffResult per session logged off' {
            $sessions = @(
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 3 }
                [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
            )

            $results = @($sessions | Invoke-RdsUserSessionLogoff -NoUserPrompt -PassThru)

            $results.Count | Should -Be 2
            foreach ($result in $results) {
                $result.GetType().FullName | Should -BeExactly 'RdsSessions.RdsUserSessionLogoffResult'
                $result.Status | Should -BeExactly 'LoggedOff'
                $result.TenantGroupName | Should -BeExactly 'Default Tenant Group'
                $result.TenantName | Should -BeExactly 'Contoso'
                $result.HostPoolName | Should -BeExactly 'Pool-Desktop'
                $result.SessionHostName | Should -BeExactly 'sh1.contoso.com'
                $result.Forced | Should -BeFalse
                $result.CorrelationId | Should -Not -BeNullOrEmpty
            }
            $results[0].SessionId | Should -Be 3
            $results[1].SessionId | Should -Be 17
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,5'
        }

        It 'reports Forced when -Force was used' {
            $result = Invoke-RdsUserSessionLogoff @stale1 -SessionId 3 -NoUserPrompt -Force -PassThru

            $result.Status | Should -BeExactly 'LoggedOff'
            $result.Forced | Should -BeTrue
            Get-RdsSessionIdsLeft -Url $emulator.Url @stale1 | Should -BeExactly ''
        }

        It 'writes no result for a session that failed' {
            $results = @(Invoke-RdsUserSessionLogoff @sh1 -SessionHostName 'nosuch.contoso.com' -SessionId 99 -NoUserPrompt -PassThru -ErrorAction SilentlyContinue)

            $results.Count | Should -Be 0
        }
    }

    Context 'names that are not plain words' {
        It 'sends tenant <TenantName>, host pool <HostPoolName> and session host <SessionHostName> as one path segment each' -ForEach $hostileNameCases {
            $address = @{ TenantName = $TenantName; HostPoolName = $HostPoolName; SessionHostName = $SessionHostName }

            Invoke-RdsUserSessionLogoff @address -SessionId 1 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            Get-RdsSessionIdsLeft -Url $emulator.Url @address | Should -BeExactly '2'
            $requests = @(Get-RdsEmulatorRequests -Url $emulator.Url | Where-Object { $_.route -eq $logoffRoute })
            $requests.Count | Should -Be 1
            if ($Flavour -eq 'Arm') {
                # ARM names the host pool by its mapped ARM name; the session host as given.
                $mapped = (Get-Content -Raw -LiteralPath $suite.MappingPath | ConvertFrom-Json -AsHashtable).tenants[$TenantName].hostPools[$HostPoolName]
                $requests[0].resourceGroup | Should -BeExactly $mapped.resourceGroup
                $requests[0].hostPool | Should -BeExactly $mapped.name
            }
            else {
                $requests[0].tenantGroup | Should -BeExactly 'Default Tenant Group'
                $requests[0].tenant | Should -BeExactly $TenantName
                $requests[0].hostPool | Should -BeExactly $HostPoolName
            }
            $requests[0].sessionHost | Should -BeExactly $SessionHostName
            $requests[0].sessionId | Should -BeExactly '1'
            $requests[0].status | Should -Be 200
        }
    }
}
