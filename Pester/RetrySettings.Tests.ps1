# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of the retry settings: -MaximumRetryCount, -RetryIntervalSec, -RetryTimeoutSec
# and -TimeoutSec of Add-RdsAccount (every parameter set) and Set-RdsContext (alone, or with a
# tenant group), and the context properties that show the settings in effect. The BUILT module
# runs against the project's RDS broker emulator (target/release/rds-emulator), which injects
# deterministic faults into broker requests (PUT /_emulator/faults, see
# rust/emulator/data/README.md) for the retries to meet. README.md ("Reliability") describes the
# retry layer in the Rust core.
# Build first, then run: ./build.ps1; Invoke-Pester ./Pester   (or: ./build.ps1 -Task Test)
#
# Every logoff in this process passes -NoUserPrompt: without it the cmdlet prompts, which would
# hang an interactive test run.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'retry settings'

    # The four settings: the type of the parameter and of the context property, the range the
    # parameter accepts and the value a new context has.
    $retryParameterCases = @(
        @{ ParameterName = 'MaximumRetryCount'; TypeName = 'System.Int32'; Minimum = 0; Maximum = 20; Default = 4 }
        @{ ParameterName = 'RetryIntervalSec'; TypeName = 'System.Double'; Minimum = 0.01; Maximum = 300; Default = 0.5 }
        @{ ParameterName = 'RetryTimeoutSec'; TypeName = 'System.Int32'; Minimum = 0; Maximum = 3600; Default = 120 }
        @{ ParameterName = 'TimeoutSec'; TypeName = 'System.Int32'; Minimum = 1; Maximum = 3600; Default = 60 }
    )

    $commandCases = @(
        @{ CommandName = 'Add-RdsAccount'; CommandType = 'AddRdsAccountCommand' }
        @{ CommandName = 'Set-RdsContext'; CommandType = 'SetRdsContextCommand' }
    )

    # Every setting on both cmdlets.
    $retryParameterOnCommandCases = @(
        foreach ($command in $commandCases) {
            foreach ($setting in $retryParameterCases) {
                @{ CommandName = $command.CommandName; ParameterName = $setting.ParameterName; TypeName = $setting.TypeName }
            }
        }
    )

    # The values just outside each range, on both cmdlets.
    $outOfRangeCases = @(
        foreach ($command in $commandCases) {
            foreach ($case in @(
                    @{ ParameterName = 'MaximumRetryCount'; Value = -1 }
                    @{ ParameterName = 'MaximumRetryCount'; Value = 21 }
                    @{ ParameterName = 'RetryIntervalSec'; Value = 0.009 }
                    @{ ParameterName = 'RetryIntervalSec'; Value = 300.5 }
                    @{ ParameterName = 'RetryTimeoutSec'; Value = -1 }
                    @{ ParameterName = 'RetryTimeoutSec'; Value = 3601 }
                    @{ ParameterName = 'TimeoutSec'; Value = 0 }
                    @{ ParameterName = 'TimeoutSec'; Value = 3601 }
                )) {
                @{
                    CommandName   = $command.CommandName
                    CommandType   = $command.CommandType
                    ParameterName = $case.ParameterName
                    Value         = $case.Value
                }
            }
        }
    )

    # The edges of each range, which are valid.
    $rangeEdgeCases = @(
        foreach ($setting in $retryParameterCases) {
            @{ ParameterName = $setting.ParameterName; Value = $setting.Minimum }
            @{ ParameterName = $setting.ParameterName; Value = $setting.Maximum }
        }
    )

    # Two ways to turn retries off for the current context. Each script runs in its test, with
    # the variables of the Describe's BeforeAll.
    $noRetryCases = @(
        @{ Case = 'Add-RdsAccount'; TurnRetriesOff = { $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken -MaximumRetryCount 0 } }
        @{ Case = 'Set-RdsContext'; TurnRetriesOff = { $null = Set-RdsContext -MaximumRetryCount 0 } }
    )
}

Describe 'Retry settings of Add-RdsAccount and Set-RdsContext' -Tag 'Integration', 'Retry' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        $suite = Initialize-RdsTestSuite
        $emulator = $suite.Emulator
        $accessToken = $suite.AccessToken

        $logoffFqidSuffix = ',RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand'
        $sh1 = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com' }
        $seed = New-RdsTestSeed -Session @(
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 18 }
        )

        # The emulator's request log entries of the logoff route, oldest first.
        function Get-RdsLogoffRequest {
            Get-RdsEmulatorRequests -Url $emulator.Url | Where-Object { $_.route -eq 'logoffUser' }
        }

        # A context's deployment URL, tenant group and settings as one line, to compare contexts.
        function Format-RdsContextSetting {
            param([Parameter(Mandatory)] [object] $Context)

            $values = @($Context.DeploymentUrl, $Context.TenantGroupName, $Context.MaximumRetryCount,
                $Context.RetryIntervalSec, $Context.RetryTimeoutSec, $Context.TimeoutSec)
            '{0} ({1}): MaximumRetryCount {2}, RetryIntervalSec {3}, RetryTimeoutSec {4}, TimeoutSec {5}' -f $values
        }
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
    }

    BeforeEach {
        # Replaces the state (which removes the injected faults) and clears the request log.
        Set-RdsEmulatorState -Url $emulator.Url -Seed $seed
        # A new context with the default settings.
        $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken
    }

    Context 'parameters' {
        It '<CommandName>: -<ParameterName> takes a <TypeName>' -ForEach $retryParameterOnCommandCases {
            $type = (Get-Command -Name $CommandName).Parameters[$ParameterName].ParameterType

            $type | Should -Not -BeNullOrEmpty -Because "$CommandName should have -$ParameterName"
            # A nullable type is how a cmdlet tells "not given" from a value: its value type counts.
            $valueType = [Nullable]::GetUnderlyingType($type)
            if ($null -eq $valueType) {
                $valueType = $type
            }
            $valueType.FullName | Should -BeExactly $TypeName
        }

        It 'Add-RdsAccount: -<ParameterName> is optional in every parameter set' -ForEach $retryParameterCases {
            $parameterSets = (Get-Command -Name 'Add-RdsAccount').ParameterSets

            $parameterSets.Count | Should -BeGreaterThan 1
            foreach ($parameterSet in $parameterSets) {
                $declared = @($parameterSet.Parameters | Where-Object { $_.Name -eq $ParameterName })
                $declared.Count | Should -Be 1 -Because "-$ParameterName should be in the parameter set $($parameterSet.Name)"
                $declared[0].IsMandatory | Should -BeFalse -Because "-$ParameterName should be optional in the parameter set $($parameterSet.Name)"
            }
        }

        It 'Set-RdsContext: -TenantGroupName is a mandatory string at position 0 of the default parameter set, and the other set has the four settings and nothing mandatory' {
            # Nothing mandatory in the other set is what lets `Set-RdsContext -MaximumRetryCount 0`
            # bind to it: when the default set is still possible, the binder picks the default set
            # and asks for its mandatory -TenantGroupName.
            $parameterSets = (Get-Command -Name 'Set-RdsContext').ParameterSets

            $parameterSets.Count | Should -Be 2
            $default = @($parameterSets | Where-Object { $_.IsDefault })
            $default.Count | Should -Be 1
            $tenantGroup = @($default[0].Parameters | Where-Object { $_.Name -eq 'TenantGroupName' })
            $tenantGroup.Count | Should -Be 1
            $tenantGroup[0].ParameterType.FullName | Should -BeExactly 'System.String'
            $tenantGroup[0].IsMandatory | Should -BeTrue
            $tenantGroup[0].Position | Should -Be 0
            $other = @($parameterSets | Where-Object { -not $_.IsDefault })
            @($other[0].Parameters | Where-Object { $_.IsMandatory } | ForEach-Object { $_.Name }) | Should -BeNullOrEmpty
            foreach ($name in 'MaximumRetryCount', 'RetryIntervalSec', 'RetryTimeoutSec', 'TimeoutSec') {
                $other[0].Parameters.Name | Should -Contain $name
            }
        }
    }

    Context 'the settings of a new context (Add-RdsAccount)' {
        It '<ParameterName> is <Default> when Add-RdsAccount is not given it' -ForEach $retryParameterCases {
            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken

            $rdsContext.$ParameterName | Should -Be $Default
            $rdsContext.$ParameterName.GetType().FullName | Should -BeExactly $TypeName
            (Get-RdsContext).$ParameterName | Should -Be $Default
        }

        It 'keeps the values Add-RdsAccount is given, in the context it returns and in Get-RdsContext' {
            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken `
                -MaximumRetryCount 2 -RetryIntervalSec 0.25 -RetryTimeoutSec 30 -TimeoutSec 10

            foreach ($shown in $rdsContext, (Get-RdsContext)) {
                $shown.MaximumRetryCount | Should -Be 2
                $shown.RetryIntervalSec | Should -Be 0.25
                $shown.RetryTimeoutSec | Should -Be 30
                $shown.TimeoutSec | Should -Be 10
                $shown.DeploymentUrl | Should -BeExactly $emulator.Url
                $shown.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            }
        }
    }

    Context 'Set-RdsContext' {
        BeforeEach {
            # Settings other than the defaults, so that a changed one and a kept one differ.
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken `
                -MaximumRetryCount 2 -RetryIntervalSec 0.25 -RetryTimeoutSec 30 -TimeoutSec 10
        }

        It '-MaximumRetryCount 0 alone changes only that setting, and outputs the changed context' {
            $changed = Set-RdsContext -MaximumRetryCount 0

            @($changed).Count | Should -Be 1
            $changed.GetType().FullName | Should -BeExactly 'RdsSessions.RdsContext'
            $changed.MaximumRetryCount | Should -Be 0
            $changed.RetryIntervalSec | Should -Be 0.25
            $changed.RetryTimeoutSec | Should -Be 30
            $changed.TimeoutSec | Should -Be 10
            $changed.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            $changed.DeploymentUrl | Should -BeExactly $emulator.Url
            Format-RdsContextSetting -Context (Get-RdsContext) | Should -BeExactly (Format-RdsContextSetting -Context $changed)
        }

        It "'Another Tenant Group' -TimeoutSec 5 changes the tenant group and the timeout, and keeps the other settings" {
            $changed = Set-RdsContext 'Another Tenant Group' -TimeoutSec 5

            $changed.TenantGroupName | Should -BeExactly 'Another Tenant Group'
            $changed.TimeoutSec | Should -Be 5
            $changed.MaximumRetryCount | Should -Be 2
            $changed.RetryIntervalSec | Should -Be 0.25
            $changed.RetryTimeoutSec | Should -Be 30
            (Get-RdsContext).TenantGroupName | Should -BeExactly 'Another Tenant Group'
            (Get-RdsContext).TimeoutSec | Should -Be 5

            # A tenant group alone keeps every retry setting.
            $back = Set-RdsContext -TenantGroupName 'Default Tenant Group'

            $back.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            $back.TimeoutSec | Should -Be 5
            $back.MaximumRetryCount | Should -Be 2
        }

        It 'accepts -<ParameterName> <Value>, an edge of its range' -ForEach $rangeEdgeCases {
            $setting = @{ $ParameterName = $Value }

            $changed = Set-RdsContext @setting

            # Rounded: a setting kept as a duration may come back with a last-digit difference.
            [math]::Round([double]$changed.$ParameterName, 6) | Should -Be $Value
            [math]::Round([double](Get-RdsContext).$ParameterName, 6) | Should -Be $Value
        }
    }

    Context 'values out of range' {
        BeforeEach {
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken `
                -MaximumRetryCount 2 -RetryIntervalSec 0.25 -RetryTimeoutSec 30 -TimeoutSec 10
            $contextBefore = Format-RdsContextSetting -Context (Get-RdsContext)
        }

        It '<CommandName> rejects -<ParameterName> <Value> as a parameter binding error, and changes nothing' -ForEach $outOfRangeCases {
            $arguments = @{ $ParameterName = $Value }
            if ($CommandName -eq 'Add-RdsAccount') {
                $arguments['DeploymentUrl'] = $emulator.Url
                $arguments['AccessToken'] = $accessToken
            }

            $errorRecord = { & $CommandName @arguments } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,RdsSessions.Commands.$CommandType" -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be 'InvalidData'
            Format-RdsContextSetting -Context (Get-RdsContext) | Should -BeExactly $contextBefore
            @(Get-RdsEmulatorRequests -Url $emulator.Url).Count | Should -Be 0
        }
    }

    Context 'against a broker with injected faults' {
        AfterEach {
            Clear-RdsEmulatorFault -Url $emulator.Url
        }

        It 'with -MaximumRetryCount 0 (set by <Case>), a logoff answered 503 fails with BrokerServerError after exactly one request, and the session stays' -ForEach $noRetryCases {
            . $TurnRetriesOff
            Set-RdsEmulatorFault -Url $emulator.Url -Rate 1 -Kind serverError -ServerErrorStatus 503 -Route logoffUser

            $verbose = @(Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -Verbose -ErrorVariable err -ErrorAction SilentlyContinue 4>&1)

            (Get-RdsContext).MaximumRetryCount | Should -Be 0
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "BrokerServerError$logoffFqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $err[0].Exception.HttpStatus | Should -Be 503
            $requests = @(Get-RdsLogoffRequest)
            $requests.Count | Should -Be 1
            $requests[0].status | Should -Be 503
            $requests[0].fault | Should -BeExactly 'serverError'
            @($verbose | Where-Object { "$_" -match 'retrying in' }).Count | Should -Be 0
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '17,18'
        }

        It 'with the default settings, a logoff whose first answer is 503 is retried, succeeds, and the verbose stream tells of the retry' {
            # Seed 7 at rate 0.5: the first logoff request gets the fault, the second does not
            # (the sequence is a pure function of the seed: FaultSampler::fault_at).
            Set-RdsEmulatorFault -Url $emulator.Url -Seed 7 -Rate 0.5 -Kind serverError -ServerErrorStatus 503 -Route logoffUser

            $verbose = @(Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -Verbose -ErrorVariable err -ErrorAction SilentlyContinue 4>&1)

            $err.Count | Should -Be 0 -Because ($err -join '; ')
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '18'
            $requests = @(Get-RdsLogoffRequest)
            $requests.Count | Should -Be 2
            $requests[0].status | Should -Be 503
            $requests[0].fault | Should -BeExactly 'serverError'
            $requests[1].status | Should -Be 200
            # Written when the wait starts, before the outcome, for example "Session
            # Contoso/Pool-Desktop/sh1.contoso.com/17: the broker answered HTTP 503; retrying in
            # 0.4 s (retry 1 of at most 4)."
            $messages = @($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            $retries = @($messages | Where-Object { $_ -match 'retrying in' })
            $retries.Count | Should -Be 1 -Because ($messages -join [Environment]::NewLine)
            $retries[0] | Should -Match '^Session Contoso/Pool-Desktop/sh1\.contoso\.com/17: .*HTTP 503.*retrying in \d+(\.\d+)? s \(retry 1 of at most 4\)\.$'
            $done = @($messages | Where-Object { $_ -match '^Logged off session' })
            $done.Count | Should -Be 1
            [array]::IndexOf($messages, $retries[0]) | Should -BeLessThan ([array]::IndexOf($messages, $done[0]))
        }

        It 'with -MaximumRetryCount 2, a broker that always answers 503 gets exactly three requests, then the error' {
            $null = Set-RdsContext -MaximumRetryCount 2 -RetryIntervalSec 0.01
            Set-RdsEmulatorFault -Url $emulator.Url -Rate 1 -Kind serverError -ServerErrorStatus 503 -Route logoffUser

            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "BrokerServerError$logoffFqidSuffix"
            $requests = @(Get-RdsLogoffRequest)
            $requests.Count | Should -Be 3
            $requests | ForEach-Object { $_.status | Should -Be 503 }
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '17,18'
        }

        It 'with -RetryTimeoutSec 0, no retry starts: one request, then the error' {
            $null = Set-RdsContext -RetryTimeoutSec 0
            Set-RdsEmulatorFault -Url $emulator.Url -Rate 1 -Kind serverError -ServerErrorStatus 503 -Route logoffUser

            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            (Get-RdsContext).MaximumRetryCount | Should -Be 4
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "BrokerServerError$logoffFqidSuffix"
            @(Get-RdsLogoffRequest).Count | Should -Be 1
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '17,18'
        }

        It 'with -TimeoutSec 1 and -MaximumRetryCount 0, a response stalled past the timeout fails with BrokerTimeout' {
            $null = Set-RdsContext -TimeoutSec 1 -MaximumRetryCount 0
            # The emulator answers a stalled request after 8 s (and logs the session off at once,
            # as a broker may well do with a request whose answer the client gave up on).
            Set-RdsEmulatorFault -Url $emulator.Url -Rate 1 -Kind stall -StallMs 8000 -Route logoffUser
            $stopwatch = [System.Diagnostics.Stopwatch]::StartNew()

            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $stopwatch.Stop()
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly "BrokerTimeout$logoffFqidSuffix"
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err[0].TargetObject.ToString() | Should -BeExactly 'Contoso/Pool-Desktop/sh1.contoso.com/17'
            $requests = @(Get-RdsLogoffRequest)
            $requests.Count | Should -Be 1
            $requests[0].fault | Should -BeExactly 'stall'
            $stopwatch.Elapsed.TotalSeconds | Should -BeLessThan 6 -Because 'the 1 s timeout should end the call long before the 8 s stall does'
        }
    }
}
