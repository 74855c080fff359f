# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of Add-RdsAccount and Get-RdsContext: the BUILT module against the project's
# RDS broker emulator. Build first, then run: ./build.ps1; Invoke-Pester ./Pester

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'Add-RdsAccount'

    $invalidUrlCases = @(
        @{ Case = 'http to a host that is not loopback'; DeploymentUrl = 'http://example.com' }
        @{ Case = 'http to a private address'; DeploymentUrl = 'http://10.0.0.1:8080' }
        @{ Case = 'a user name and password in the URL'; DeploymentUrl = 'https://admin:Url-Secret-42@rdbroker.example.com' }
        @{ Case = 'a user name without a password in the URL'; DeploymentUrl = 'https://admin@rdbroker.example.com' }
        @{ Case = 'an unsupported scheme'; DeploymentUrl = 'ftp://rdbroker.example.com' }
        @{ Case = 'a URL that is not absolute'; DeploymentUrl = 'rdbroker.example.com' }
        @{ Case = 'a query string'; DeploymentUrl = 'https://rdbroker.example.com/?tenant=Contoso' }
    )

    # Cmdlets that need a context, each run in a fresh pwsh that never called Add-RdsAccount.
    $noContextCases = @(
        @{
            CommandName = 'Get-RdsContext'
            CommandType = 'GetRdsContextCommand'
            Command     = { $null = Get-RdsContext }
        }
        @{
            CommandName = 'Invoke-RdsUserSessionLogoff'
            CommandType = 'InvokeRdsUserSessionLogoffCommand'
            Command     = { Invoke-RdsUserSessionLogoff -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -SessionHostName 'sh1.contoso.com' -SessionId 17 -NoUserPrompt }
        }
    )
}

Describe 'Add-RdsAccount and Get-RdsContext' -Tag 'Integration' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        # A token nobody writes by accident, so any leak of it is easy to spot.
        $suite = Initialize-RdsTestSuite -AccessToken ('pester-token-' + [guid]::NewGuid().ToString('N'))
        $manifestPath = $suite.ManifestPath
        $accessToken = $suite.AccessToken
        $emulator = $suite.Emulator
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
    }

    Context 'with the loopback URL of the emulator' {
        BeforeAll {
            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken
        }

        It 'returns an RdsContext for the deployment URL and the Default Tenant Group' {
            $rdsContext | Should -Not -BeNullOrEmpty
            $rdsContext.GetType().FullName | Should -BeExactly 'RdsSessions.RdsContext'
            $rdsContext.DeploymentUrl | Should -BeExactly $emulator.Url
            $rdsContext.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            $rdsContext.UserName | Should -BeNullOrEmpty
        }

        It 'makes Get-RdsContext return that context' {
            $current = Get-RdsContext

            $current.GetType().FullName | Should -BeExactly 'RdsSessions.RdsContext'
            $current.DeploymentUrl | Should -BeExactly $rdsContext.DeploymentUrl
            $current.TenantGroupName | Should -BeExactly $rdsContext.TenantGroupName
        }

        It 'never shows the access token: not in properties, ToString(), formatting or JSON' {
            $texts = @(
                $rdsContext.ToString()
                ($rdsContext | Out-String)
                ($rdsContext | Format-List -Property * | Out-String)
                (ConvertTo-Json -InputObject $rdsContext -Depth 3)
                ($rdsContext.PSObject.Properties | ForEach-Object { '{0}={1}' -f $_.Name, $_.Value })
                ((Get-RdsContext) | Out-String)
            )

            $texts.Count | Should -BeGreaterThan 0
            foreach ($text in $texts) {
                $text | Should -Not -Match ([regex]::Escape($accessToken))
            }
            $rdsContext.PSObject.Properties.Name | Should -Not -Contain 'AccessToken'
            $rdsContext.PSObject.Properties.Name | Should -Not -Contain 'Connection'
        }

        It 'keeps the access token out of the verbose stream' {
            $records = @(Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken -Verbose 4>&1)

            ($records | ForEach-Object { "$_" }) -join [Environment]::NewLine |
                Should -Not -Match ([regex]::Escape($accessToken))
        }

        It 'removes a trailing slash from the deployment URL' {
            $withSlash = Add-RdsAccount -DeploymentUrl ($emulator.Url + '/') -AccessToken $accessToken

            $withSlash.DeploymentUrl | Should -BeExactly $emulator.Url
        }

        It 'gives the other cmdlets a connection the broker accepts' {
            $seed = New-RdsTestSeed -Session @(
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 2 }
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
            )
            Set-RdsEmulatorState -Url $emulator.Url -Seed $seed
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken

            $result = Invoke-RdsUserSessionLogoff -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -SessionHostName 'sh1.contoso.com' -SessionId 17 -NoUserPrompt -PassThru

            $result.Status | Should -BeExactly 'LoggedOff'
            Get-RdsSessionIdsLeft -Url $emulator.Url -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -SessionHostName 'sh1.contoso.com' |
                Should -BeExactly '2'
            $requests = @(Get-RdsEmulatorRequests -Url $emulator.Url)
            $requests.Count | Should -Be 1
            $requests[0].authorized | Should -BeTrue
        }
    }

    Context 'with an invalid deployment URL' {
        BeforeAll {
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken
        }

        It 'rejects <Case> with the terminating error InvalidAccountParameters' -ForEach $invalidUrlCases {
            $errorRecord = { Add-RdsAccount -DeploymentUrl $DeploymentUrl -AccessToken $accessToken } |
                Should -Throw -ErrorId 'InvalidAccountParameters,RdsSessions.Commands.AddRdsAccountCommand' -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $errorRecord.Exception.Message | Should -Not -BeNullOrEmpty
            $errorRecord.Exception.Message | Should -Not -Match ([regex]::Escape($accessToken))
            # The password part of a URL is a secret too: the message must not repeat it.
            $errorRecord.Exception.Message | Should -Not -Match 'Url-Secret-42'
        }

        It 'keeps the previous context when a URL is rejected' {
            { Add-RdsAccount -DeploymentUrl 'http://example.com' -AccessToken $accessToken } |
                Should -Throw -ErrorId 'InvalidAccountParameters,RdsSessions.Commands.AddRdsAccountCommand'

            (Get-RdsContext).DeploymentUrl | Should -BeExactly $emulator.Url
        }
    }

    Context 'in a PowerShell session without Add-RdsAccount' {
        It '<CommandName> fails with NoRdsContext in a fresh pwsh and sends nothing' -ForEach $noContextCases {
            $seed = New-RdsTestSeed -Session @(
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
            )
            Set-RdsEmulatorState -Url $emulator.Url -Seed $seed

            $result = Invoke-RdsChildPwshCommand -ManifestPath $manifestPath -Command $Command

            $result.ExitCode | Should -Be 3 -Because ($result.Output -join [Environment]::NewLine)
            $result.ErrorId | Should -BeExactly "NoRdsContext,RdsSessions.Commands.$CommandType"
            $result.Category | Should -BeExactly 'InvalidOperation'
            @(Get-RdsEmulatorRequests -Url $emulator.Url).Count | Should -Be 0
            Get-RdsSessionIdsLeft -Url $emulator.Url -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -SessionHostName 'sh1.contoso.com' |
                Should -BeExactly '17'
        }

        It 'keeps the context per runspace: a new runspace of this process has none' {
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $accessToken
            $runspaceScript = @'
param([string] $ManifestPath)
Import-Module -Name $ManifestPath -ErrorAction Stop
try {
    $null = Get-RdsContext
    'NO-ERROR'
}
catch {
    'ERRORID=' + $_.FullyQualifiedErrorId
}
'@
            # Core cmdlets are all the script needs; CreateDefault2 keeps the runspace cheap.
            $powershell = [powershell]::Create([initialsessionstate]::CreateDefault2())
            try {
                $null = $powershell.AddScript($runspaceScript).AddArgument($manifestPath)
                $output = @($powershell.Invoke() | ForEach-Object { "$_" })
            }
            finally {
                $powershell.Dispose()
            }

            $output | Should -Contain 'ERRORID=NoRdsContext,RdsSessions.Commands.GetRdsContextCommand'
            (Get-RdsContext).DeploymentUrl | Should -BeExactly $emulator.Url
        }
    }
}
