# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of Add-RdsAccount and Get-RdsContext: the BUILT module against the project's
# RDS broker emulator. Build first, then run: ./build.ps1; Invoke-Pester ./Pester

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason
    if ($skipReason) {
        Write-Warning "Skipping the Add-RdsAccount tests. $skipReason"
    }

    $invalidUrlCases = @(
        @{ Case = 'http to a host that is not loopback'; DeploymentUrl = 'http://example.com' }
        @{ Case = 'http to a private address'; DeploymentUrl = 'http://10.0.0.1:8080' }
        @{ Case = 'a user name and password in the URL'; DeploymentUrl = 'https://admin:Url-Secret-42@rdbroker.example.com' }
        @{ Case = 'a user name without a password in the URL'; DeploymentUrl = 'https://admin@rdbroker.example.com' }
        @{ Case = 'an unsupported scheme'; DeploymentUrl = 'ftp://rdbroker.example.com' }
        @{ Case = 'a URL that is not absolute'; DeploymentUrl = 'rdbroker.example.com' }
        @{ Case = 'a query string'; DeploymentUrl = 'https://rdbroker.example.com/?tenant=Contoso' }
    )
}

Describe 'Add-RdsAccount and Get-RdsContext' -Tag 'Integration' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        $manifestPath = Get-RdsModuleManifest
        Import-Module -Name $manifestPath -Force -ErrorAction Stop

        # A token nobody writes by accident, so any leak of it is easy to spot.
        $accessToken = 'pester-token-' + [guid]::NewGuid().ToString('N')
        $emulator = Start-RdsEmulator -AccessToken $accessToken
        $childParameters = [ordered]@{
            ManifestPath = $manifestPath
            Url          = $emulator.Url
        }
    }

    AfterAll {
        Stop-RdsEmulator -Emulator $emulator
        Remove-Module -Name 'RdsSessions' -Force -ErrorAction SilentlyContinue
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
        It 'Get-RdsContext fails with NoRdsContext in a fresh pwsh' {
            $childScript = @'
param([string] $ManifestPath, [string] $Url)
Import-Module -Name $ManifestPath -ErrorAction Stop
try {
    $null = Get-RdsContext
    'NO-ERROR'
    exit 0
}
catch {
    'ERRORID=' + $_.FullyQualifiedErrorId
    'CATEGORY=' + $_.CategoryInfo.Category
    exit 3
}
'@

            $result = Invoke-RdsChildPwsh -ScriptText $childScript -Parameters $childParameters

            $result.ExitCode | Should -Be 3 -Because ($result.Output -join [Environment]::NewLine)
            $result.Output | Should -Contain 'ERRORID=NoRdsContext,RdsSessions.Commands.GetRdsContextCommand'
            $result.Output | Should -Contain 'CATEGORY=InvalidOperation'
        }

        It 'Invoke-RdsUserSessionLogoff fails with NoRdsContext in a fresh pwsh and sends nothing' {
            $seed = New-RdsTestSeed -Session @(
                @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17 }
            )
            Set-RdsEmulatorState -Url $emulator.Url -Seed $seed
            $childScript = @'
param([string] $ManifestPath, [string] $Url)
Import-Module -Name $ManifestPath -ErrorAction Stop
try {
    Invoke-RdsUserSessionLogoff -TenantName 'Contoso' -HostPoolName 'Pool-Desktop' -SessionHostName 'sh1.contoso.com' -SessionId 17 -NoUserPrompt
    'NO-ERROR'
    exit 0
}
catch {
    'ERRORID=' + $_.FullyQualifiedErrorId
    'CATEGORY=' + $_.CategoryInfo.Category
    exit 3
}
'@

            $result = Invoke-RdsChildPwsh -ScriptText $childScript -Parameters $childParameters

            $result.ExitCode | Should -Be 3 -Because ($result.Output -join [Environment]::NewLine)
            $result.Output | Should -Contain 'ERRORID=NoRdsContext,RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand'
            $result.Output | Should -Contain 'CATEGORY=InvalidOperation'
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
