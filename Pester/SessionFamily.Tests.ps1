# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of the session family: Send-RdsUserSessionMessage, Disconnect-RdsUserSession and
# the concurrent pipeline the three action cmdlets share (-ThrottleLimit, results in input order,
# one result or one error per input, one session at a time under -ErrorAction Stop, progress,
# stopping). The BUILT module (out/RdsSessions/<version>/) runs against the project's RDS broker
# emulator (target/release/rds-emulator), whose activity record tells what each session got and
# how many requests overlapped. The same behaviours are tested in xunit by
# module/tests/RdsSessions.Tests/SessionFamilyTests.cs and InvokeRdsUserSessionLogoffTests.cs.
# Build first, then run: ./build.ps1; Invoke-Pester ./Pester   (or: ./build.ps1 -Task Test)
#
# Every action in this process passes -NoUserPrompt: without it the cmdlets prompt, which would
# hang an interactive test run. Prompting is tested in child processes. Progress records cannot
# be redirected in a script, and Ctrl+C cannot be pressed in a test: both are tested through a
# PowerShell instance of its own (New-RdsSignedInPowerShell), whose Streams collect progress and
# host warnings and whose Stop() is what the console's Ctrl+C handler calls on the running
# pipeline.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'session family'

    # The three action cmdlets and what each one does. MessageParameters is splatted into every
    # call (Send-RdsUserSessionMessage needs a title and a body); Counter is the per-session
    # count of the emulator's activity record that the action raises.
    $actionCommandCases = @(
        @{
            CommandName       = 'Invoke-RdsUserSessionLogoff'
            CommandType       = 'InvokeRdsUserSessionLogoffCommand'
            Action            = 'Logoff'
            Status            = 'LoggedOff'
            ResultType        = 'RdsSessions.RdsUserSessionLogoffResult'
            Counter           = 'logoff'
            Activity          = 'Logging off user sessions'
            SessionsLeft      = 0
            MessageParameters = @{}
        }
        @{
            CommandName       = 'Disconnect-RdsUserSession'
            CommandType       = 'DisconnectRdsUserSessionCommand'
            Action            = 'Disconnect'
            Status            = 'Disconnected'
            ResultType        = 'RdsSessions.RdsUserSessionActionResult'
            Counter           = 'disconnect'
            Activity          = 'Disconnecting user sessions'
            SessionsLeft      = 40
            MessageParameters = @{}
        }
        @{
            CommandName       = 'Send-RdsUserSessionMessage'
            CommandType       = 'SendRdsUserSessionMessageCommand'
            Action            = 'SendMessage'
            Status            = 'MessageSent'
            ResultType        = 'RdsSessions.RdsUserSessionActionResult'
            Counter           = 'message'
            Activity          = 'Sending a message to user sessions'
            SessionsLeft      = 40
            MessageParameters = @{ MessageTitle = 'Heads-up'; MessageBody = 'Maintenance tonight at 22:00.' }
        }
    )
    $promptingCommandCases = @($actionCommandCases | Where-Object { $_.CommandName -ne 'Invoke-RdsUserSessionLogoff' })

    # The original's four identity parameters, on each action cmdlet.
    $identityParameterCases = @(
        foreach ($command in $actionCommandCases) {
            @{ CommandName = $command.CommandName; ParameterName = 'TenantName'; TypeName = 'System.String'; Position = 0 }
            @{ CommandName = $command.CommandName; ParameterName = 'HostPoolName'; TypeName = 'System.String'; Position = 1 }
            @{ CommandName = $command.CommandName; ParameterName = 'SessionHostName'; TypeName = 'System.String'; Position = 2 }
            @{ CommandName = $command.CommandName; ParameterName = 'SessionId'; TypeName = 'System.Int32'; Position = 3 }
        }
    )

    $throttleLimitRejectCases = @(
        foreach ($command in $actionCommandCases) {
            foreach ($throttleLimit in 0, 1025) {
                @{
                    CommandName       = $command.CommandName
                    CommandType       = $command.CommandType
                    MessageParameters = $command.MessageParameters
                    ThrottleLimit     = $throttleLimit
                }
            }
        }
    )

    $messageParameterCases = @(
        @{ ParameterName = 'MessageTitle'; Position = 4 }
        @{ ParameterName = 'MessageBody'; Position = 5 }
    )

    # Three ways a script asks to stop at the first error. LogOff gets the sessions to log off.
    $stopOnFirstErrorCases = @(
        @{
            Case   = '-ErrorAction Stop'
            LogOff = {
                param([object[]] $Batch)
                $Batch | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 32 -ErrorAction Stop
            }
        }
        @{
            Case   = "ErrorActionPreference set to 'Stop' in the caller's scope"
            LogOff = {
                param([object[]] $Batch)
                $ErrorActionPreference = 'Stop'
                $Batch | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 32
            }
        }
        @{
            Case   = 'an advanced function called with -ErrorAction Stop'
            LogOff = {
                param([object[]] $Batch)
                function Remove-RdsSessionBatch {
                    [CmdletBinding()]
                    param([Parameter(Mandatory)] [object[]] $Session)

                    $Session | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 32
                }
                Remove-RdsSessionBatch -Session $Batch -ErrorAction Stop
            }
        }
    )
}

# Both backends: the classic broker, and ARM through a mapping file (see common.ps1).
Describe 'The session family and its concurrent pipeline (<Flavour>)' -Tag 'Integration', 'SessionFamily' -Skip:([bool]$skipReason) -ForEach @(
    @{ Flavour = 'Classic' }
    @{ Flavour = 'Arm' }
) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        # Under $ErrorActionPreference = 'Stop' the action cmdlets take one session at a time (so
        # that the first failure stops the run), and some hosts set it for every script (GitHub
        # Actions' pwsh shell does). These tests measure the concurrent default, so they pin
        # 'Continue'; the tests of 'Stop' set it themselves.
        $ErrorActionPreference = 'Continue'

        $logoffFqidSuffix = ',RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand'

        # The known state every test starts from, as in the xunit tests: host pool Pool1 with
        # sh1 (17, 18, 19), sh2 (20, 21) and the unreachable stale1 (30); odd ids Active, even
        # ids Disconnected. Tests that need many sessions add the generated pool Bulk/Pool-Bulk.
        $seed = New-RdsTestSeed -UnreachableSessionHost 'stale1.contoso.com' -Session @(
            foreach ($session in @(
                    @{ SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
                    @{ SessionHostName = 'sh1.contoso.com'; SessionId = 18 }
                    @{ SessionHostName = 'sh1.contoso.com'; SessionId = 19 }
                    @{ SessionHostName = 'sh2.contoso.com'; SessionId = 20 }
                    @{ SessionHostName = 'sh2.contoso.com'; SessionId = 21 }
                    @{ SessionHostName = 'stale1.contoso.com'; SessionId = 30 }
                )) {
                @{
                    TenantName        = 'Contoso'
                    HostPoolName      = 'Pool1'
                    SessionHostName   = $session.SessionHostName
                    SessionId         = $session.SessionId
                    UserPrincipalName = 'user{0}@contoso.com' -f $session.SessionId
                    AdUserName        = 'CONTOSO\user{0}' -f $session.SessionId
                    SessionState      = if ($session.SessionId % 2) { 'Active' } else { 'Disconnected' }
                }
            }
        )

        $suite = Initialize-RdsTestSuite -SignIn -Flavour $Flavour -Seed $seed
        $seed = $suite.Seed
        $emulator = $suite.Emulator
        # What a PowerShell instance or a child pwsh of its own needs to sign in to the emulator
        # (on ARM both find the mapping file through RDSSESSIONS_ARM_MAPPING).
        $signIn = @{ ManifestPath = $suite.ManifestPath; Url = $emulator.Url; AccessToken = $suite.AccessToken }
        # The generated pool Bulk/Pool-Bulk that tests add must be in the mapping too: generate
        # it once, map it, and start from the seed again.
        $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 1 -SessionsPerHost 1
        Update-RdsTestArmMapping -Suite $suite
        Set-RdsEmulatorState -Url $emulator.Url -Seed $seed

        $sh1 = @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com' }
        $bulkHost1 = @{ TenantName = 'Bulk'; HostPoolName = 'Pool-Bulk'; SessionHostName = 'host-0001.bulk.test' }
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
    }

    BeforeEach {
        # Replaces the state (which removes the injected latency) and clears the request log and
        # the activity record.
        $sessionsBefore = @(Reset-RdsEmulatorState -Url $emulator.Url -Seed $seed)
    }

    AfterEach {
        Clear-RdsEmulatorLatency -Url $emulator.Url
    }

    Context 'the module and the parameters' {
        It 'exports the session family next to the account cmdlets' {
            $exported = @((Get-Module -Name 'RdsSessions').ExportedCmdlets.Keys | Sort-Object)

            $exported -join ', ' |
                Should -BeExactly 'Add-RdsAccount, Disconnect-RdsUserSession, Get-RdsArmMapping, Get-RdsContext, Get-RdsHostPool, Get-RdsSessionHost, Get-RdsTenant, Get-RdsUserSession, Invoke-RdsUserSessionLogoff, Send-RdsUserSessionMessage, Set-RdsArmMapping, Set-RdsContext, Set-RdsSessionHost'
        }

        It '<CommandName>: -<ParameterName> is a mandatory <TypeName> at position <Position>, bound from the pipeline by value and by property name' -ForEach $identityParameterCases {
            Get-RdsParameterContract -CommandName $CommandName -ParameterName $ParameterName |
                Should -BeExactly "$TypeName, mandatory, position $Position, from the pipeline by value and by property name, in every parameter set"
        }

        It '<CommandName>: -NoUserPrompt and -PassThru are optional, named switches' -ForEach $actionCommandCases {
            foreach ($name in 'NoUserPrompt', 'PassThru') {
                Get-RdsParameterContract -CommandName $CommandName -ParameterName $name |
                    Should -BeExactly 'System.Management.Automation.SwitchParameter, optional, named, not from the pipeline, in every parameter set' -Because "$CommandName should have -$name"
            }
        }

        It '<CommandName>: -ThrottleLimit is an optional, named int from 1 to 1024, 32 by default' -ForEach $actionCommandCases {
            $command = Get-Command -Name $CommandName
            $parameter = $command.Parameters['ThrottleLimit']

            Get-RdsParameterContract -CommandName $CommandName -ParameterName 'ThrottleLimit' |
                Should -BeExactly 'System.Int32, optional, named, not from the pipeline, in every parameter set'
            $range = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] })
            $range.Count | Should -Be 1
            $range[0].MinRange | Should -Be 1
            $range[0].MaxRange | Should -Be 1024
            $cmdlet = $command.ImplementingType::new()
            try {
                $cmdlet.ThrottleLimit | Should -Be 32
            }
            finally {
                $cmdlet.Dispose()
            }
        }

        It '<CommandName> rejects -ThrottleLimit <ThrottleLimit> before sending anything' -ForEach $throttleLimitRejectCases {
            { & $CommandName @sh1 -SessionId 17 @MessageParameters -NoUserPrompt -ThrottleLimit $ThrottleLimit } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,RdsSessions.Commands.$CommandType"

            @(Get-RdsEmulatorRequests -Url $emulator.Url).Count | Should -Be 0
        }

        It 'Send-RdsUserSessionMessage: -<ParameterName> is a mandatory string at position <Position>' -ForEach $messageParameterCases {
            Get-RdsParameterContract -CommandName 'Send-RdsUserSessionMessage' -ParameterName $ParameterName |
                Should -BeExactly "System.String, mandatory, position $Position, not from the pipeline, in every parameter set"
        }

        It 'only Invoke-RdsUserSessionLogoff has -Force' {
            (Get-Command -Name 'Invoke-RdsUserSessionLogoff').Parameters.Keys | Should -Contain 'Force'
            (Get-Command -Name 'Disconnect-RdsUserSession').Parameters.Keys | Should -Not -Contain 'Force'
            (Get-Command -Name 'Send-RdsUserSessionMessage').Parameters.Keys | Should -Not -Contain 'Force'
        }
    }

    Context 'Send-RdsUserSessionMessage' {
        It "delivers the exact title and body (&, %, +, ?, =, #, a newline, non-ASCII) to every session piped in" {
            $title = 'Maintenance at 22:00 & 100% sure? a=b #1'
            # "Please save your work.<LF>Zoë 東京 + you", built from code points so this file's
            # encoding never matters.
            $body = "Please save your work.`nZo" + [char]0x00EB + ' ' + [char]0x6771 + [char]0x4EAC + ' + you'

            $results = @(
                Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1' |
                    Where-Object SessionHostName -eq 'sh2.contoso.com' |
                    Send-RdsUserSessionMessage -MessageTitle $title -MessageBody $body -NoUserPrompt -PassThru -ErrorVariable err -ErrorAction SilentlyContinue
            )

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            $results.Count | Should -Be 2
            foreach ($result in $results) {
                $result.GetType().FullName | Should -BeExactly 'RdsSessions.RdsUserSessionActionResult'
                $result.Action | Should -BeExactly 'SendMessage'
                $result.Status | Should -BeExactly 'MessageSent'
                $result.CorrelationId | Should -Not -BeNullOrEmpty
            }
            @($results | ForEach-Object { $_.SessionId }) -join ',' | Should -BeExactly '20,21'

            $messages = @((Get-RdsEmulatorActivity -Url $emulator.Url).messages)
            $messages.Count | Should -Be 2
            foreach ($message in $messages) {
                $message.title | Should -BeExactly $title
                $message.body | Should -BeExactly $body
                $message.tenantGroup | Should -BeExactly 'Default Tenant Group'
                $message.tenant | Should -BeExactly 'Contoso'
                $message.hostPool | Should -BeExactly 'Pool1'
                $message.sessionHost | Should -BeExactly 'sh2.contoso.com'
            }
            @($messages | ForEach-Object { [int]$_.sessionId } | Sort-Object) -join ',' | Should -BeExactly '20,21'
            # A message logs nobody off.
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
        }

        It 'takes the title and the body by position (4 and 5)' {
            Send-RdsUserSessionMessage 'Contoso' 'Pool1' 'sh1.contoso.com' 17 'Title' 'Body' -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            $messages = @((Get-RdsEmulatorActivity -Url $emulator.Url).messages)
            $messages.Count | Should -Be 1
            $messages[0].title | Should -BeExactly 'Title'
            $messages[0].body | Should -BeExactly 'Body'
            $messages[0].sessionHost | Should -BeExactly 'sh1.contoso.com'
            $messages[0].sessionId | Should -Be 17
        }

        It 'writes nothing to the output without -PassThru' {
            $output = Send-RdsUserSessionMessage @sh1 -SessionId 19 -MessageTitle 'Title' -MessageBody 'Body' -NoUserPrompt

            $output | Should -BeNullOrEmpty
            @((Get-RdsEmulatorActivity -Url $emulator.Url).messages).Count | Should -Be 1
        }

        It 'reports a session on an unreachable session host as BrokerConflict, and delivers nothing' {
            Send-RdsUserSessionMessage -TenantName 'Contoso' -HostPoolName 'Pool1' -SessionHostName 'stale1.contoso.com' -SessionId 30 `
                -MessageTitle 'Title' -MessageBody 'Body' -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'BrokerConflict,RdsSessions.Commands.SendRdsUserSessionMessageCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err[0].TargetObject.ToString() | Should -BeExactly 'Contoso/Pool1/stale1.contoso.com/30'
            @((Get-RdsEmulatorActivity -Url $emulator.Url).messages).Count | Should -Be 0
        }
    }

    Context 'Disconnect-RdsUserSession' {
        It 'disconnects a session: it stays on its host, its state becomes Disconnected, and the broker records it' {
            $before = @(Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1' | Where-Object SessionId -eq 17)
            $before[0].SessionState | Should -BeExactly 'Active'

            Disconnect-RdsUserSession 'Contoso' 'Pool1' 'sh1.contoso.com' 17 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            $after = @(Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1' | Where-Object SessionId -eq 17)
            $after.Count | Should -Be 1
            $after[0].SessionState | Should -BeExactly 'Disconnected'
            $disconnects = @((Get-RdsEmulatorActivity -Url $emulator.Url).disconnects)
            $disconnects.Count | Should -Be 1
            $disconnects[0].sessionHost | Should -BeExactly 'sh1.contoso.com'
            $disconnects[0].sessionId | Should -Be 17
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
        }

        It 'disconnects every active session piped in and writes one Disconnect result for each with -PassThru' {
            $results = @(
                Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1' |
                    Where-Object SessionState -eq 'Active' |
                    Disconnect-RdsUserSession -NoUserPrompt -PassThru -ErrorVariable err -ErrorAction SilentlyContinue
            )

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            @($results | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ', ' |
                Should -BeExactly 'sh1.contoso.com/17, sh1.contoso.com/19, sh2.contoso.com/21'
            foreach ($result in $results) {
                $result.GetType().FullName | Should -BeExactly 'RdsSessions.RdsUserSessionActionResult'
                $result.Action | Should -BeExactly 'Disconnect'
                $result.Status | Should -BeExactly 'Disconnected'
                $result.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            }
            @(Get-RdsUserSession -TenantName 'Contoso' -HostPoolName 'Pool1' | Where-Object SessionState -ne 'Disconnected').Count | Should -Be 0
            @((Get-RdsEmulatorActivity -Url $emulator.Url).disconnects).Count | Should -Be 3
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
        }

        It 'reports a session on an unreachable session host as BrokerConflict, and nothing is disconnected' {
            $session = [pscustomobject]@{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'stale1.contoso.com'; SessionId = 30 }

            $session | Disconnect-RdsUserSession -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'BrokerConflict,RdsSessions.Commands.DisconnectRdsUserSessionCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err[0].TargetObject.ToString() | Should -BeExactly 'Contoso/Pool1/stale1.contoso.com/30'
            $activity = Get-RdsEmulatorActivity -Url $emulator.Url
            @($activity.disconnects).Count | Should -Be 0
            # The request reached the broker, which refused it.
            @($activity.callsPerSession | Where-Object { $_.sessionId -eq 30 -and $_.disconnect -eq 1 }).Count | Should -Be 1
            Get-RdsRemovedSession -Url $emulator.Url -Before $sessionsBefore | Should -BeExactly ''
        }

        It 'reports a session that does not exist as SessionNotFound' {
            Disconnect-RdsUserSession @sh1 -SessionId 99 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'SessionNotFound,RdsSessions.Commands.DisconnectRdsUserSessionCommand'
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err[0].TargetObject.ToString() | Should -BeExactly 'Contoso/Pool1/sh1.contoso.com/99'
        }
    }

    Context 'prompting (child pwsh -NonInteractive)' {
        It '<CommandName> fails with ConfirmationNotPossible without -NoUserPrompt in a non-interactive pwsh, and does nothing' -ForEach $promptingCommandCases {
            $result = Invoke-RdsChildPwshCommand @signIn -Parameters @{ CommandName = $CommandName } -Command {
                $arguments = @{ TenantName = 'Contoso'; HostPoolName = 'Pool1'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
                if ($CommandName -eq 'Send-RdsUserSessionMessage') {
                    $arguments.MessageTitle = 'Title'
                    $arguments.MessageBody = 'Body'
                }
                & $CommandName @arguments
            }

            $result.ExitCode | Should -Be 3 -Because ($result.Output -join [Environment]::NewLine)
            $result.ErrorId | Should -BeExactly "ConfirmationNotPossible,RdsSessions.Commands.$CommandType"
            $result.Category | Should -BeExactly 'InvalidOperation'
            @((Get-RdsEmulatorActivity -Url $emulator.Url).callsPerSession).Count | Should -Be 0
        }
    }

    Context 'the concurrent pipeline (-ThrottleLimit)' {
        It 'logs off 500 sessions with overlapping requests, each exactly once, never more than -ThrottleLimit at a time' {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 10 -SessionsPerHost 50
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 20 -JitterMs 10

            $results = @(
                Get-RdsUserSession -TenantName 'Bulk' -HostPoolName 'Pool-Bulk' |
                    Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 32 -PassThru -ErrorVariable err -ErrorAction SilentlyContinue
            )

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            $results.Count | Should -Be 500
            Get-RdsEmulatorSessionCount -Url $emulator.Url -TenantName 'Bulk' | Should -Be 0
            $activity = Get-RdsEmulatorActivity -Url $emulator.Url
            $calls = @($activity.callsPerSession | Where-Object { $_.tenant -ceq 'Bulk' })
            $calls.Count | Should -Be 500
            @($calls | Where-Object { $_.logoff -ne 1 -or $_.disconnect -ne 0 -or $_.message -ne 0 }).Count | Should -Be 0
            @($activity.logoffs | Where-Object { $_.tenant -ceq 'Bulk' }).Count | Should -Be 500
            $activity.maxInFlight | Should -BeGreaterOrEqual 2 -Because 'the requests should overlap'
            $activity.maxInFlight | Should -BeLessOrEqual 32 -Because 'no more than -ThrottleLimit requests may be in flight'
            # The results come in the order Get-RdsUserSession listed the sessions: host by host, id by id.
            $expectedOrder = foreach ($hostNumber in 1..10) {
                foreach ($id in 1..50) {
                    'host-{0:D4}.bulk.test/{1}' -f $hostNumber, $id
                }
            }
            @($results | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ',' |
                Should -BeExactly ($expectedOrder -join ',')
        }

        It '-PassThru results keep the input order while the requests overlap' {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 4 -SessionsPerHost 25
            $sessions = @(Get-RdsUserSession -TenantName 'Bulk' -HostPoolName 'Pool-Bulk')
            # Not the broker's order, and the jitter makes the requests finish out of order.
            [array]::Reverse($sessions)
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 2 -JitterMs 20

            $results = @($sessions | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 16 -PassThru -ErrorVariable err -ErrorAction SilentlyContinue)

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            @($results | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ',' |
                Should -BeExactly (@($sessions | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ',')
            (Get-RdsEmulatorActivity -Url $emulator.Url).maxInFlight | Should -BeGreaterOrEqual 2
            Get-RdsEmulatorSessionCount -Url $emulator.Url -TenantName 'Bulk' | Should -Be 0
        }

        It 'one failing session among many: exactly one error, and every other session is logged off' {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 2 -SessionsPerHost 50
            $sessions = @(Get-RdsUserSession -TenantName 'Bulk' -HostPoolName 'Pool-Bulk')
            # A session host that does not exist: an error on both backends (ARM answers a missing
            # session on a real host with 204, which counts as done).
            $missing = [pscustomobject]@{ TenantName = 'Bulk'; HostPoolName = 'Pool-Bulk'; SessionHostName = 'host-0999.bulk.test'; SessionId = 99999 }
            $batch = @($sessions[0..49]) + $missing + @($sessions[50..99])
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 5 -JitterMs 5

            $results = @($batch | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 16 -PassThru -ErrorVariable err -ErrorAction SilentlyContinue)

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "SessionHostNotFound$logoffFqidSuffix"
            $err[0].TargetObject.ToString() | Should -BeExactly 'Bulk/Pool-Bulk/host-0999.bulk.test/99999'
            $results.Count | Should -Be 100
            @($results | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ',' |
                Should -BeExactly (@($sessions | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ',')
            Get-RdsEmulatorSessionCount -Url $emulator.Url -TenantName 'Bulk' | Should -Be 0
            (Get-RdsEmulatorActivity -Url $emulator.Url).maxInFlight | Should -BeGreaterOrEqual 2
        }

        It '-ThrottleLimit 1 never overlaps requests' {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 1 -SessionsPerHost 20
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 10

            Get-RdsUserSession -TenantName 'Bulk' -HostPoolName 'Pool-Bulk' |
                Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 1 -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            (Get-RdsEmulatorActivity -Url $emulator.Url).maxInFlight | Should -Be 1
            Get-RdsEmulatorSessionCount -Url $emulator.Url -TenantName 'Bulk' | Should -Be 0
        }

        It '<CommandName>: 40 sessions with overlapping requests, within -ThrottleLimit 4, one <Action> each, results in input order' -ForEach $actionCommandCases {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 2 -SessionsPerHost 20
            $sessions = @(Get-RdsUserSession -TenantName 'Bulk' -HostPoolName 'Pool-Bulk')
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 10 -JitterMs 5

            $results = @($sessions | & $CommandName @MessageParameters -NoUserPrompt -ThrottleLimit 4 -PassThru -ErrorVariable err -ErrorAction SilentlyContinue)

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            $results.Count | Should -Be 40
            @($results | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ',' |
                Should -BeExactly (@($sessions | ForEach-Object { '{0}/{1}' -f $_.SessionHostName, $_.SessionId }) -join ',')
            foreach ($result in $results) {
                $result.GetType().FullName | Should -BeExactly $ResultType
                $result.Action | Should -BeExactly $Action
                $result.Status | Should -BeExactly $Status
            }
            $activity = Get-RdsEmulatorActivity -Url $emulator.Url
            $calls = @($activity.callsPerSession | Where-Object { $_.tenant -ceq 'Bulk' })
            $calls.Count | Should -Be 40
            @($calls | Where-Object { $_.$Counter -ne 1 -or ($_.logoff + $_.disconnect + $_.message) -ne 1 }).Count | Should -Be 0
            $activity.maxInFlight | Should -BeGreaterOrEqual 2
            $activity.maxInFlight | Should -BeLessOrEqual 4
            Get-RdsEmulatorSessionCount -Url $emulator.Url -TenantName 'Bulk' | Should -Be $SessionsLeft
        }
    }

    Context 'stopping at the first error: one session at a time' {
        It 'with <Case>, stops at the failed session and never touches the sessions after it' -ForEach $stopOnFirstErrorCases {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 1 -SessionsPerHost 20
            $sessions = @(Get-RdsUserSession -TenantName 'Bulk' -HostPoolName 'Pool-Bulk')
            # A session host that does not exist: an error on both backends (ARM answers a missing
            # session on a real host with 204, which counts as done).
            $missing = [pscustomobject]@{ TenantName = 'Bulk'; HostPoolName = 'Pool-Bulk'; SessionHostName = 'host-0999.bulk.test'; SessionId = 99999 }
            $batch = @($sessions[0..4]) + $missing + @($sessions[5..19])
            # With overlapping requests, sessions after the failing one would be under way by now.
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 5

            $caught = { & $LogOff $batch } | Should -Throw -PassThru

            $caught.FullyQualifiedErrorId | Should -BeExactly "SessionHostNotFound$logoffFqidSuffix"
            $caught.TargetObject.SessionId | Should -Be 99999
            # Sessions 1-5 were logged off; 6-20 were never sent.
            Get-RdsSessionIdsLeft -Url $emulator.Url @bulkHost1 | Should -BeExactly ((6..20) -join ',')
            $activity = Get-RdsEmulatorActivity -Url $emulator.Url
            # (The request for the missing host is counted per session by the classic broker
            # only; the generated sessions are 1-20.)
            @($activity.callsPerSession | Where-Object { $_.tenant -ceq 'Bulk' -and $_.sessionId -le 20 } | ForEach-Object { $_.sessionId }) -join ',' |
                Should -BeExactly '1,2,3,4,5'
            $activity.maxInFlight | Should -Be 1
        }
    }

    Context 'progress (read from a PowerShell instance of its own: progress cannot be redirected)' {
        It '<CommandName> reports progress for 200 sessions and completes it' -ForEach $actionCommandCases {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 2 -SessionsPerHost 100
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 5
            $runScript = '
                param([string] $CommandName, [hashtable] $MessageParameters)
                Get-RdsUserSession -TenantName Bulk -HostPoolName Pool-Bulk |
                    & $CommandName @MessageParameters -NoUserPrompt -ThrottleLimit 8
            '

            $run = Invoke-RdsSignedInScript @signIn -Script $runScript -Parameters @{ CommandName = $CommandName; MessageParameters = $MessageParameters }

            $run.Errors.Count | Should -Be 0 -Because ($run.Errors -join '; ')
            $progress = $run.Progress
            $progress | ForEach-Object { $_.Activity | Should -BeExactly $Activity }
            # Records come at most every 200 ms, so how many there are, and whether one was
            # written after the last input arrived (then it reads "<n> of 200 sessions done"),
            # depends on timing; that there is one, and what each one says, does not.
            $processing = @($progress | Where-Object { $_.RecordType -eq 'Processing' })
            $processing.Count | Should -BeGreaterThan 0
            $processing | ForEach-Object { $_.StatusDescription | Should -Match '^\d+ (of 200 )?sessions done \(\d+\.\d/s\)$' }
            $progress[-1].RecordType | Should -Be 'Completed'
            @($progress | Where-Object { $_.RecordType -eq 'Completed' }).Count | Should -Be 1
            $calls = @((Get-RdsEmulatorActivity -Url $emulator.Url).callsPerSession | Where-Object { $_.tenant -ceq 'Bulk' })
            $calls.Count | Should -Be 200
        }

        It 'shows the total from the start when the input is a host pool''s sessions' {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 2 -SessionsPerHost 100
            # 200 sessions, 8 at a time, 100 ms each: about 2.5 s, long enough for several records.
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 100

            $run = Invoke-RdsSignedInScript @signIn -Script 'Get-RdsUserSession -TenantName Bulk -HostPoolName Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 8'

            $run.Errors.Count | Should -Be 0 -Because ($run.Errors -join '; ')
            $processing = @($run.Progress | Where-Object { $_.RecordType -eq 'Processing' })
            $processing.Count | Should -BeGreaterThan 2
            # The module reads the input ahead of the requests in flight, so even the first record
            # knows the total, with a percentage and the time left.
            $processing | ForEach-Object { $_.StatusDescription | Should -Match '^\d+ of 200 sessions done' }
            $processing[0].PercentComplete | Should -BeLessThan 100
            @($processing | Where-Object { $_.SecondsRemaining -gt 0 }).Count | Should -BeGreaterThan 0
            (Get-RdsEmulatorActivity -Url $emulator.Url).maxInFlight | Should -BeLessOrEqual 8
        }

        It 'writes no progress for a single session' {
            $run = Invoke-RdsSignedInScript @signIn -Script "Invoke-RdsUserSessionLogoff -TenantName 'Contoso' -HostPoolName 'Pool1' -SessionHostName 'sh1.contoso.com' -SessionId 17 -NoUserPrompt"

            $run.Errors.Count | Should -Be 0 -Because ($run.Errors -join '; ')
            $run.Progress.Count | Should -Be 0
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '18,19'
        }
    }

    Context 'stopping a run (PowerShell.Stop(), what Ctrl+C does)' {
        It 'stops a 1000-session run promptly, tells the host which sessions were not processed, and a second run does the rest' {
            $null = New-RdsEmulatorBulkPool -Url $emulator.Url -HostCount 10 -SessionsPerHost 100
            # Slow requests keep the cmdlet waiting for them nearly all the time, which is where
            # it notices the stop and reports what was not processed (a stop that lands while
            # the pipeline writes a record ends it without that report).
            Set-RdsEmulatorLatency -Url $emulator.Url -FixedMs 200
            $logoffScript = 'Get-RdsUserSession -TenantName Bulk -HostPoolName Pool-Bulk | Invoke-RdsUserSessionLogoff -NoUserPrompt -ThrottleLimit 4'
            $powershell = New-RdsSignedInPowerShell @signIn
            try {
                $null = $powershell.AddScript($logoffScript)
                $handle = $powershell.BeginInvoke()
                # Wait until the run is under way: progress shown and a session logged off
                # (counted 100 ms steps, not wall-clock time, since CI machines can pause).
                $underWay = $false
                for ($i = 0; $i -lt 300 -and -not $underWay; $i++) {
                    Start-Sleep -Milliseconds 100
                    $underWay = $powershell.Streams.Progress.Count -gt 0 -and
                        @((Get-RdsEmulatorActivity -Url $emulator.Url).logoffs).Count -gt 0
                }
                $underWay | Should -BeTrue -Because 'the run should have started'

                $stopwatch = [System.Diagnostics.Stopwatch]::StartNew()
                $powershell.Stop()
                $stopwatch.Stop()
                $endError = $null
                try {
                    $null = $powershell.EndInvoke($handle)
                }
                catch {
                    $endError = $_
                }

                $stopwatch.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'Stop() should return promptly'
                $powershell.InvocationStateInfo.State | Should -Be 'Stopped'
                $endError | Should -Not -BeNullOrEmpty
                $left = Get-RdsEmulatorSessionCount -Url $emulator.Url -TenantName 'Bulk'
                $left | Should -BeGreaterThan 0 -Because 'the run was stopped early'
                $left | Should -BeLessThan 1000 -Because 'some sessions were logged off before the stop'
                $warnings = @($powershell.Streams.Warning | Where-Object { $_.Message.StartsWith('Stopped: ') })
                $warnings.Count | Should -Be 1
                $warnings[0].Message | Should -Match '^Stopped: (\d+ session\(s\) were not processed|every session received before the stop was processed; the sessions not yet received were not processed)'
                if ($warnings[0].Message -match '^Stopped: \d+') {
                    # The sessions in flight are named.
                    $warnings[0].Message | Should -Match 'Bulk/Pool-Bulk/host-\d{4}\.bulk\.test/\d+'
                }
                # No request starts after the stop: the count of broker requests settles at once.
                Start-Sleep -Milliseconds 300
                $settled = (Get-RdsEmulatorActivity -Url $emulator.Url).brokerRequests
                Start-Sleep -Milliseconds 500
                (Get-RdsEmulatorActivity -Url $emulator.Url).brokerRequests | Should -Be $settled

                # The runspace and the module still work: a second run logs off the rest.
                Clear-RdsEmulatorLatency -Url $emulator.Url
                $powershell.Commands.Clear()
                $powershell.Streams.ClearStreams()
                $null = $powershell.AddScript($logoffScript)
                $null = $powershell.Invoke()

                $powershell.Streams.Error.Count | Should -Be 0 -Because (@($powershell.Streams.Error) -join '; ')
                Get-RdsEmulatorSessionCount -Url $emulator.Url -TenantName 'Bulk' | Should -Be 0
            }
            finally {
                $powershell.Dispose()
            }
        }
    }
}
