# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of what an admin at the prompt expects of the action cmdlets beyond the
# original contract: -WhatIf (a dry run of a bulk logoff), -Confirm, $ConfirmPreference left
# alone, and tab completion of tenant, host pool, session host and tenant group names from the
# signed-in broker. The BUILT module against the project's emulator over loopback HTTP.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'admin experience'

    $actionCases = @(
        @{ CommandName = 'Invoke-RdsUserSessionLogoff' }
        @{ CommandName = 'Disconnect-RdsUserSession' }
        @{ CommandName = 'Send-RdsUserSessionMessage' }
    )
}

Describe 'What an admin expects at the prompt' -Tag 'Integration', 'AdminExperience' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        $suite = Initialize-RdsTestSuite -SignIn
        $emulator = $suite.Emulator
        $url = $emulator.Url
        $childSignIn = @{ ManifestPath = $suite.ManifestPath; Url = $url; AccessToken = $suite.AccessToken }
        $sampleState = Get-RdsEmulatorState -Url $url

        function Get-ActionRequest {
            @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.method -ne 'GET' })
        }

        function Get-Completion {
            # What pressing Tab at the end of -Line offers.
            param([string] $Line)
            @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object CompletionText)
        }
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
    }

    BeforeEach {
        Set-RdsEmulatorState -Url $url -Seed $sampleState
        $sessionsBefore = @(Get-RdsSessionList -Url $url)
    }

    Context '-WhatIf, -Confirm and $ConfirmPreference' {
        It '<CommandName> -WhatIf sends nothing and says, per session, what would happen' -ForEach $actionCases {
            $result = Invoke-RdsChildPwshCommand @childSignIn -Parameters @{ CommandName = $CommandName } -Command {
                $extra = @{}
                if ($CommandName -eq 'Send-RdsUserSessionMessage') {
                    $extra = @{ MessageTitle = 'Title'; MessageBody = 'Body' }
                }
                Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' | & $CommandName @extra -WhatIf -ErrorAction Stop
            }

            $result.ExitCode | Should -Be 0 -Because ($result.Output -join [Environment]::NewLine)
            $whatIf = @($result.Output | Where-Object { $_ -like 'What if:*' })
            $sessions = @($sessionsBefore | Where-Object { $_ -like 'Contoso/Pool-Desktop/*' })
            $whatIf.Count | Should -Be $sessions.Count
            $whatIf[0] | Should -Match 'sh1\.contoso\.com'
            Get-ActionRequest | Should -BeNullOrEmpty
            Get-RdsRemovedSession -Url $url -Before $sessionsBefore | Should -BeExactly ''
        }

        It 'a calling script''s -WhatIf ($WhatIfPreference) reaches the logoff inside it: nothing is sent' {
            function Remove-StaleSession {
                [CmdletBinding(SupportsShouldProcess)]
                param()
                Get-RdsUserSession Contoso Pool-Desktop | Where-Object SessionState -EQ 'Disconnected' | Invoke-RdsUserSessionLogoff -NoUserPrompt
            }

            # (Its "What if:" lines go to the host, like any cmdlet's.)
            Remove-StaleSession -WhatIf

            Get-ActionRequest | Should -BeNullOrEmpty
            Get-RdsRemovedSession -Url $url -Before $sessionsBefore | Should -BeExactly ''
        }

        It '-NoUserPrompt with $ConfirmPreference = ''Low'' still never prompts (old scripts keep running unattended)' {
            $result = Invoke-RdsChildPwshCommand @childSignIn -Command {
                $ConfirmPreference = 'Low'
                Invoke-RdsUserSessionLogoff Contoso Pool-Desktop sh1.contoso.com 3 -NoUserPrompt -ErrorAction Stop
            }

            $result.ExitCode | Should -Be 0 -Because ($result.Output -join [Environment]::NewLine)
            Get-RdsRemovedSession -Url $url -Before $sessionsBefore | Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/3'
        }

        It 'an explicit -Confirm asks through ShouldProcess, so a non-interactive pwsh cannot answer and nothing is sent' {
            $result = Invoke-RdsChildPwshCommand @childSignIn -Command {
                Invoke-RdsUserSessionLogoff Contoso Pool-Desktop sh1.contoso.com 3 -NoUserPrompt -Confirm
            }

            $result.ExitCode | Should -Not -Be 0 -Because ($result.Output -join [Environment]::NewLine)
            Get-ActionRequest | Should -BeNullOrEmpty
            Get-RdsRemovedSession -Url $url -Before $sessionsBefore | Should -BeExactly ''
        }

        It '-Confirm:$false changes nothing for a script that passes -NoUserPrompt' {
            Invoke-RdsUserSessionLogoff Contoso Pool-Desktop sh1.contoso.com 3 -NoUserPrompt -Confirm:$false

            Get-RdsRemovedSession -Url $url -Before $sessionsBefore | Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/3'
        }
    }

    Context 'tab completion from the signed-in broker' {
        It 'completes -TenantName with the broker''s tenants' {
            Get-Completion 'Get-RdsUserSession -TenantName ' | Should -Be @('Contoso', 'Fabrikam')
            Get-Completion 'Get-RdsUserSession -TenantName Fab' | Should -Be @('Fabrikam')
        }

        It 'completes -HostPoolName with the tenant''s host pools, quoting names that need it' {
            Get-Completion 'Invoke-RdsUserSessionLogoff -TenantName Contoso -HostPoolName ' | Should -Be @('Pool-Apps', 'Pool-Desktop')
            Get-Completion 'Get-RdsHostPool Contoso Pool-D' | Should -Be @('Pool-Desktop')
        }

        It 'completes -SessionHostName with the host pool''s session hosts' {
            Get-Completion 'Disconnect-RdsUserSession -TenantName Contoso -HostPoolName Pool-Desktop -SessionHostName ' |
                Should -Be @('sh1.contoso.com', 'sh2.contoso.com')
        }

        It 'completes Set-RdsContext -TenantGroupName with the broker''s tenant groups' {
            Get-Completion 'Set-RdsContext -TenantGroupName ' | Should -Be @("'Default Tenant Group'")
        }

        It 'offers nothing, writes no error and returns promptly when the broker cannot answer' {
            $errorsBefore = $Error.Count
            $null = Add-RdsAccount -DeploymentUrl 'http://127.0.0.1:9' -AccessToken 'rds-emulator-token'
            try {
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $offered = @(Get-Completion 'Get-RdsUserSession -TenantName ')
                $watch.Stop()
            }
            finally {
                $null = Add-RdsAccount -DeploymentUrl $url -AccessToken $suite.AccessToken
            }

            # No tenant names, only whatever PowerShell's own fallback offers (file names), never an error.
            $offered | Should -Not -Contain 'Contoso'
            $Error.Count | Should -Be $errorsBefore
            # The completer gives up after 3 s; a generous bound, not a timing test.
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 15
        }
    }
}
