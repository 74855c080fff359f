# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of Add-RdsAccount's sign-in modes, end to end: the BUILT module signs in against
# the Entra-like authority of the project's emulator (target/release/rds-emulator), and the
# context it returns must log a session off on the emulator's broker. The same behaviours are
# tested in xunit by module/tests/RdsSessions.Tests/SignInTests.cs.
# Build first, then run: ./build.ps1; Invoke-Pester ./Pester   (or: ./build.ps1 -Task Test)
#
# Every identity below is the emulator's fake test data (rust/emulator/data/README.md); none of
# it is a real credential. The tests never reach a real authority or the real metadata address:
# IMDS_ENDPOINT points at a closed loopback port unless a test points it at the emulator.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'Add-RdsAccount sign-in'

    # Sign-ins the authority refuses: each is a specific, terminating error of Add-RdsAccount.
    $refusalCases = @(
        @{
            Case               = 'a wrong client secret'
            CredentialUserName = '22222222-2222-2222-2222-222222222222'
            CredentialPassword = 'not-the-secret'
            ServicePrincipal   = $true
            SignInTenant       = 'contoso.onmicrosoft.com'
            ErrorId            = 'InvalidClientSecret'
            Category           = 'AuthenticationError'
            Code               = 'AADSTS7000215'
        }
        @{
            Case               = 'an application the directory does not know'
            CredentialUserName = '99999999-9999-9999-9999-999999999999'
            CredentialPassword = 'emulator-test-secret-NOT-A-REAL-SECRET'
            ServicePrincipal   = $true
            SignInTenant       = 'contoso.onmicrosoft.com'
            ErrorId            = 'ApplicationNotFound'
            Category           = 'AuthenticationError'
            Code               = 'AADSTS700016'
        }
        @{
            Case               = 'a wrong user password'
            CredentialUserName = 'admin@contoso.com'
            CredentialPassword = 'emulator-test-password-NOT-A-REAL-PASSWORD-but-wrong'
            ServicePrincipal   = $false
            SignInTenant       = 'contoso.onmicrosoft.com'
            ErrorId            = 'InvalidUserCredentials'
            Category           = 'AuthenticationError'
            Code               = 'AADSTS50126'
        }
        @{
            Case               = 'a tenant the authority does not know'
            CredentialUserName = '22222222-2222-2222-2222-222222222222'
            CredentialPassword = 'emulator-test-secret-NOT-A-REAL-SECRET'
            ServicePrincipal   = $true
            SignInTenant       = 'nosuchtenant.onmicrosoft.com'
            ErrorId            = 'AadTenantNotFound'
            Category           = 'ObjectNotFound'
            Code               = 'AADSTS90002'
        }
    )

    # Certificate files Add-RdsAccount must refuse. Registered: the certificate the application
    # is registered with; Presented: the PEM file given to -CertificatePath (both name an entry of
    # $refusalCertificates in the Context's BeforeAll). TokenRequestCount: how many requests reach
    # the authority (0 when the module refuses the file itself); Code: what the message must quote.
    $certificateRefusalCases = @(
        @{
            ErrorId           = 'CertificateExpired'
            Case              = 'an expired certificate, before sending any request'
            Registered        = 'Expired'
            Presented         = 'Expired'
            Category          = 'SecurityError'
            TokenRequestCount = 0
            Code              = $null
        }
        @{
            ErrorId           = 'CertificateNotYetValid'
            Case              = 'a certificate whose validity has not begun, before sending any request'
            Registered        = 'Future'
            Presented         = 'Future'
            Category          = 'SecurityError'
            TokenRequestCount = 0
            Code              = $null
        }
        @{
            ErrorId           = 'InvalidClientCertificate'
            Case              = 'a certificate the application did not register (AADSTS700027)'
            Registered        = 'Expired'
            Presented         = 'Unregistered'
            Category          = 'AuthenticationError'
            TokenRequestCount = 1
            Code              = 'AADSTS700027'
        }
    )

    # Flows whose every stream must be free of secrets. Each FlowScript runs dot-sourced in its test
    # (so -ErrorVariable +flowErrors lands there) with the variables of the Describe's BeforeAll.
    # ExpectedErrorIds: the errors the flow must produce (comma-separated ErrorIds), so that a
    # flow that silently went wrong cannot pass the check vacuously.
    $redactionCases = @(
        @{
            Flow             = 'a service principal signs in with its secret'
            ExpectedErrorIds = ''
            FlowScript       = {
                Add-RdsAccount -DeploymentUrl $emulator.Url -AuthorityHost $emulator.Url -AadTenantId $tenantId `
                    -Credential (New-RdsSignInCredential -UserName $appId -Password $appSecret) -ServicePrincipal `
                    -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
        @{
            Flow             = 'a service principal is refused for a wrong secret'
            ExpectedErrorIds = 'InvalidClientSecret'
            FlowScript       = {
                Add-RdsAccount -DeploymentUrl $emulator.Url -AuthorityHost $emulator.Url -AadTenantId $tenantId `
                    -Credential (New-RdsSignInCredential -UserName $appId -Password 'not-the-secret') -ServicePrincipal `
                    -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
        @{
            Flow             = 'a user signs in with the password'
            ExpectedErrorIds = ''
            FlowScript       = {
                Add-RdsAccount $emulator.Url (New-RdsSignInCredential -UserName $userName -Password $userPassword) `
                    -AadTenantId $tenantId -AuthorityHost $emulator.Url -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
        @{
            Flow             = 'a user is refused for a wrong password'
            ExpectedErrorIds = 'InvalidUserCredentials'
            FlowScript       = {
                Add-RdsAccount $emulator.Url (New-RdsSignInCredential -UserName $userName -Password ($userPassword + 'x')) `
                    -AadTenantId $tenantId -AuthorityHost $emulator.Url -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
        @{
            Flow             = 'an application signs in with a PFX file and its password'
            ExpectedErrorIds = ''
            FlowScript       = {
                Add-RdsAccount -DeploymentUrl $emulator.Url -AuthorityHost $emulator.Url -AadTenantId $tenantId `
                    -CertificatePath $redactionPfxPath -CertificatePassword (ConvertTo-SecureString -String $redactionPfxPassword -AsPlainText -Force) `
                    -ApplicationId $certificateAppId -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
        @{
            Flow             = 'a PFX file is opened with a wrong password'
            ExpectedErrorIds = 'CertificatePasswordInvalid'
            FlowScript       = {
                Add-RdsAccount -DeploymentUrl $emulator.Url -AuthorityHost $emulator.Url -AadTenantId $tenantId `
                    -CertificatePath $redactionPfxPath -CertificatePassword (ConvertTo-SecureString -String 'not-the-secret' -AsPlainText -Force) `
                    -ApplicationId $certificateAppId -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
        @{
            Flow             = 'a managed identity signs in through IDENTITY_ENDPOINT and IDENTITY_HEADER'
            ExpectedErrorIds = ''
            FlowScript       = {
                Add-RdsAccount -DeploymentUrl $emulator.Url -Identity -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
        @{
            Flow             = 'Get-RdsContext and a logoff with -PassThru follow a sign-in'
            ExpectedErrorIds = ''
            FlowScript       = {
                $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AuthorityHost $emulator.Url -AadTenantId $tenantId `
                    -Credential (New-RdsSignInCredential -UserName $appId -Password $appSecret) -ServicePrincipal -ErrorVariable +flowErrors
                Get-RdsContext -Verbose -Debug -ErrorVariable +flowErrors
                (Get-RdsContext).ToString()
                Get-RdsContext | Format-List -Property * | Out-String
                Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -PassThru -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
        @{
            Flow             = 'a logoff fails after a sign-in'
            ExpectedErrorIds = 'SessionNotFound'
            FlowScript       = {
                $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AuthorityHost $emulator.Url -AadTenantId $tenantId `
                    -Credential (New-RdsSignInCredential -UserName $appId -Password $appSecret) -ServicePrincipal -ErrorVariable +flowErrors
                Invoke-RdsUserSessionLogoff @sh1 -SessionId 99 -NoUserPrompt -Verbose -Debug -ErrorVariable +flowErrors
            }
        }
    )
}

Describe 'Add-RdsAccount sign-in modes against the emulated authority' -Tag 'Integration', 'SignIn' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        # The emulator sample's test identities (fake values, see rust/emulator/data/README.md).
        $tenantId = 'contoso.onmicrosoft.com'
        $appId = '22222222-2222-2222-2222-222222222222'
        $appSecret = 'emulator-test-secret-NOT-A-REAL-SECRET'
        $userName = 'admin@contoso.com'
        $userPassword = 'emulator-test-password-NOT-A-REAL-PASSWORD'
        $managedIdentityId = '33333333-3333-3333-3333-333333333333'
        $identityHeader = 'emulator-test-identity-header-NOT-A-REAL-SECRET'
        $publicClientId = 'fa4345a4-a730-4230-84a8-7d9651b86739'
        # Registered by the certificate tests, with a certificate they make.
        $certificateAppId = '55555555-5555-5555-5555-555555555555'

        # Nothing listens on port 9 (discard) of the loopback: a safe "unreachable" endpoint.
        $closedEndpoint = 'http://127.0.0.1:9'
        $addFqidSuffix = ',RdsSessions.Commands.AddRdsAccountCommand'
        $logoffFqidSuffix = ',RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand'

        # The sign-in variables the module reads, saved to be put back after the run. Until then
        # every test starts from the hermetic baseline of Reset-RdsSignInEnvironment.
        $signInVariableNames = @('IMDS_ENDPOINT', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_AUTHORITY_HOST')
        $savedEnvironment = @{}
        foreach ($name in $signInVariableNames) {
            $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name)
        }

        function Reset-RdsSignInEnvironment {
            # No managed identity endpoint but a closed port (never the real 169.254.169.254), no
            # App Service identity, no authority from the environment.
            $env:IMDS_ENDPOINT = $closedEndpoint
            $env:IDENTITY_ENDPOINT = $null
            $env:IDENTITY_HEADER = $null
            $env:AZURE_AUTHORITY_HOST = $null
        }

        Reset-RdsSignInEnvironment

        # The broker also accepts this static token; only the -AccessToken tests use it.
        $suite = Initialize-RdsTestSuite -AccessToken ('pester-token-' + [guid]::NewGuid().ToString('N'))
        $brokerToken = $suite.AccessToken
        $emulator = $suite.Emulator

        # The identity section of the sample data, kept as JSON so every seed gets a fresh,
        # editable copy (PUT /_emulator/state replaces the identities too).
        $sampleIdentityJson = ConvertTo-Json -InputObject (Get-RdsEmulatorState -Url $emulator.Url).identity -Depth 32

        # The sessions of every seed; each sign-in test logs session 17 on sh1 off.
        $sh1 = @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com' }
        $sessionSpecs = @(
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 2; UserPrincipalName = 'alice@contoso.com' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 3; UserPrincipalName = 'bob@contoso.com'; SessionState = 'Disconnected' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 17; UserPrincipalName = 'dave@contoso.com'; SessionState = 'Disconnected' }
            @{ TenantName = 'Contoso'; HostPoolName = 'Pool-Desktop'; SessionHostName = 'sh1.contoso.com'; SessionId = 18; UserPrincipalName = 'erin@contoso.com' }
        )

        function New-RdsSignInIdentity {
            # A fresh copy of the sample's identity section: nested hashtables and arrays to edit.
            ConvertFrom-Json -InputObject $sampleIdentityJson -AsHashtable
        }

        function New-RdsSignInSeed {
            # The test sessions in 'Default Tenant Group' (and in each -ExtraTenantGroup), with
            # -Identity (default: the sample's) as the identity section; with -Certificate, that
            # section also registers the application $certificateAppId with it.
            param(
                [System.Collections.IDictionary] $Identity,
                [string[]] $ExtraTenantGroup = @(),
                [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate
            )

            if ($null -eq $Identity) {
                $Identity = New-RdsSignInIdentity
            }
            if ($null -ne $Certificate) {
                Add-RdsSignInCertificateApplication -Identity $Identity -Certificate $Certificate
            }
            $seed = New-RdsTestSeed -Session $sessionSpecs
            foreach ($groupName in $ExtraTenantGroup) {
                $extra = New-RdsTestSeed -TenantGroupName $groupName -Session $sessionSpecs
                $seed['tenantGroups'] = @($seed['tenantGroups']) + @($extra['tenantGroups'])
            }
            $seed['identity'] = $Identity
            $seed
        }

        function New-RdsSignInCredential {
            param([string] $UserName, [string] $Password)

            [pscredential]::new($UserName, (ConvertTo-SecureString -String $Password -AsPlainText -Force))
        }

        function New-RdsSignInCertificate {
            # A self-signed RSA certificate for -Key, valid from -NotBefore to -NotAfter.
            param(
                [System.Security.Cryptography.RSA] $Key,
                [DateTimeOffset] $NotBefore = [DateTimeOffset]::UtcNow.AddDays(-1),
                [DateTimeOffset] $NotAfter = [DateTimeOffset]::UtcNow.AddYears(1)
            )

            $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
                'CN=rds-sessions-pester',
                $Key,
                [System.Security.Cryptography.HashAlgorithmName]::SHA256,
                [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
            $request.CreateSelfSigned($NotBefore, $NotAfter)
        }

        function Export-RdsSignInPem {
            # Writes -Certificate and its unencrypted PKCS#8 -Key to one PEM file at -Path.
            param(
                [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate,
                [System.Security.Cryptography.RSA] $Key,
                [string] $Path
            )

            [System.IO.File]::WriteAllText($Path,
                $Certificate.ExportCertificatePem() + "`n" + $Key.ExportPkcs8PrivateKeyPem() + "`n")
        }

        function Remove-RdsSignInDisposable {
            # Disposes what a BeforeAll created (skipping what it did not get to create).
            param([AllowNull()] [object[]] $InputObject)

            foreach ($disposable in $InputObject) {
                if ($null -ne $disposable) {
                    $disposable.Dispose()
                }
            }
        }

        function Add-RdsSignInCertificateApplication {
            # Registers the application $certificateAppId with the PEM of -Certificate in -Identity.
            param(
                [System.Collections.IDictionary] $Identity,
                [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate
            )

            $application = [ordered]@{
                clientId     = $certificateAppId
                displayName  = 'RdsSessions Pester certificate application'
                certificates = @($Certificate.ExportCertificatePem())
            }
            $Identity['applications'] = @($Identity['applications']) + @($application)
        }

        function Get-RdsEmulatorIssuedToken {
            # GET /_emulator/tokens: { clientId, username, grant, credential, issuedAt, expiresAt }
            # of every token the emulator issued since the last state reset (never the token).
            param([Parameter(Mandatory)] [string] $Url)

            Invoke-RdsEmulatorAdminGet -Url $Url -Path '/_emulator/tokens' | ForEach-Object { $_ }
        }

        function Get-RdsEmulatorRoute {
            # The requests of one route ('token', 'deviceCode', 'imds', 'appServiceMsi', 'logoffUser').
            param([Parameter(Mandatory)] [string] $Url, [Parameter(Mandatory)] [string] $Route)

            Get-RdsEmulatorRequests -Url $Url | Where-Object { $_.route -eq $Route }
        }

        function Assert-RdsSignIn {
            # What every successful sign-in must prove: Add-RdsAccount returned one RdsContext for
            # the emulator and -ExpectedUserName, and the broker accepts its token: session 17 on
            # sh1 is logged off, by a request the broker attributes to that caller.
            param(
                [AllowNull()] [object] $Context,
                [string] $ExpectedUserName
            )

            @($Context).Count | Should -Be 1
            $Context.GetType().FullName | Should -BeExactly 'RdsSessions.RdsContext'
            $Context.DeploymentUrl | Should -BeExactly $emulator.Url
            $Context.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            $Context.UserName | Should -BeExactly $ExpectedUserName

            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable logoffErrors -ErrorAction SilentlyContinue

            $logoffErrors.Count | Should -Be 0 -Because ($logoffErrors -join '; ')
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,18'
            $logoffs = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'logoffUser')
            $logoffs.Count | Should -Be 1
            $logoffs[0].status | Should -Be 200
            $logoffs[0].authorized | Should -BeTrue
            $logoffs[0].caller | Should -BeExactly $ExpectedUserName
        }

        function ConvertTo-RdsStreamText {
            # Everything a person or a log could see of one output object, stream record, error
            # record or exception, as text.
            param([AllowNull()] [object] $Item)

            if ($null -eq $Item) {
                return
            }
            $Item | Out-String
            "$Item"
            $record = if ($Item -is [System.Management.Automation.ErrorRecord]) {
                $Item
            }
            elseif ($Item -is [System.Management.Automation.IContainsErrorRecord]) {
                $Item.ErrorRecord
            }
            if ($null -ne $record) {
                $record | Out-String
                $record.Exception | Out-String
                $record.Exception.ToString()
                [string]$record.ErrorDetails
                $record.TargetObject | Out-String
            }
            if ($Item -is [System.Exception]) {
                # ToString() includes the inner exceptions and their messages.
                $Item.ToString()
            }
        }
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
        foreach ($name in $signInVariableNames) {
            [Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name])
        }
    }

    BeforeEach {
        Reset-RdsSignInEnvironment
        # Replaces the sessions and identities and clears the request log and the issued tokens.
        Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed)
    }

    AfterEach {
        Reset-RdsSignInEnvironment
    }

    Context 'service principal with a client secret' {
        It 'signs in with -Credential -ServicePrincipal -AadTenantId, all named' {
            $credential = New-RdsSignInCredential -UserName $appId -Password $appSecret

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -Credential $credential -ServicePrincipal -AadTenantId $tenantId -AuthorityHost $emulator.Url

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $appId
            $tokens = @(Get-RdsEmulatorIssuedToken -Url $emulator.Url)
            $tokens.Count | Should -Be 1
            $tokens[0].clientId | Should -BeExactly $appId
            $tokens[0].grant | Should -BeExactly 'client_credentials'
            $tokens[0].credential | Should -BeExactly 'secret'
        }

        It 'signs in with the credential by position and the -TenantId alias' {
            $credential = New-RdsSignInCredential -UserName $appId -Password $appSecret

            $rdsContext = Add-RdsAccount $emulator.Url $credential -ServicePrincipal -TenantId $tenantId -AuthorityHost $emulator.Url

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $appId
        }

        It 'signs in with -ServicePrincipal:$isApplication when a script computed $true' {
            $credential = New-RdsSignInCredential -UserName $appId -Password $appSecret
            $isApplication = $credential.UserName -match '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$'

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -Credential $credential -ServicePrincipal:$isApplication -AadTenantId $tenantId -AuthorityHost $emulator.Url

            $isApplication | Should -BeTrue
            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $appId
        }

        It 'signs the credential in as a user with -ServicePrincipal:$false' {
            $credential = New-RdsSignInCredential -UserName $userName -Password $userPassword
            $isApplication = $false

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -Credential $credential -ServicePrincipal:$isApplication -AadTenantId $tenantId -AuthorityHost $emulator.Url

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $userName
            $tokenRequests = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token')
            $tokenRequests.Count | Should -Be 1
            $tokenRequests[0].grantType | Should -BeExactly 'password'
            $tokenRequests[0].clientId | Should -BeExactly $publicClientId
        }

        It "tries a user sign-in with -ServicePrincipal:`$false even for an application's credential" {
            $credential = New-RdsSignInCredential -UserName $appId -Password $appSecret

            { Add-RdsAccount -DeploymentUrl $emulator.Url -Credential $credential -ServicePrincipal:$false -AadTenantId $tenantId -AuthorityHost $emulator.Url } |
                Should -Throw -ErrorId "InvalidUserCredentials$addFqidSuffix"

            $tokenRequests = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token')
            $tokenRequests.Count | Should -Be 1
            $tokenRequests[0].grantType | Should -BeExactly 'password'
        }
    }

    Context 'user with a credential' {
        It 'signs in with -Credential -AadTenantId -AuthorityHost' {
            $credential = New-RdsSignInCredential -UserName $userName -Password $userPassword

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -Credential $credential -AadTenantId $tenantId -AuthorityHost $emulator.Url

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $userName
            $tokens = @(Get-RdsEmulatorIssuedToken -Url $emulator.Url)
            $tokens.Count | Should -Be 1
            $tokens[0].clientId | Should -BeExactly $publicClientId
            $tokens[0].username | Should -BeExactly $userName
            $tokens[0].grant | Should -BeExactly 'password'
        }

        It 'takes the authority from $env:AZURE_AUTHORITY_HOST when -AuthorityHost is not given' {
            $env:AZURE_AUTHORITY_HOST = $emulator.Url
            $credential = New-RdsSignInCredential -UserName $userName -Password $userPassword

            $rdsContext = Add-RdsAccount $emulator.Url $credential -AadTenantId $tenantId

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $userName
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token').Count | Should -Be 1
        }

        It "signs in through the tenant 'organizations' when -AadTenantId is not given" {
            # The sample directory does not answer to 'organizations'; make it an alias of it.
            $identity = New-RdsSignInIdentity
            $identity['tenants'] = @($identity['tenants']) + @('organizations')
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -Identity $identity)
            $credential = New-RdsSignInCredential -UserName $userName -Password $userPassword

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -Credential $credential -AuthorityHost $emulator.Url

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $userName
            $tokenRequests = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token')
            $tokenRequests.Count | Should -Be 1
            $tokenRequests[0].tenant | Should -BeExactly 'organizations'
        }
    }

    Context 'interactive device code sign-in' {
        It 'writes the verification URL and code as a warning, waits for the approval and signs the user in' {
            $identity = New-RdsSignInIdentity
            $identity['deviceCode'] = [ordered]@{
                intervalSeconds   = 1
                expiresInSeconds  = 60
                autoApproveUser   = $userName
                approveAfterPolls = 1
            }
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -Identity $identity)

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -AuthorityHost $emulator.Url -AadTenantId $tenantId `
                -WarningVariable signInWarnings -WarningAction SilentlyContinue

            $signInWarnings.Count | Should -Be 1
            $signInWarnings[0].Message | Should -Match ([regex]::Escape($emulator.Url + '/devicelogin'))
            $signInWarnings[0].Message | Should -Match 'enter the code \S+'
            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $userName
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'deviceCode').Count | Should -Be 1
            $tokens = @(Get-RdsEmulatorIssuedToken -Url $emulator.Url)
            $tokens.Count | Should -Be 1
            $tokens[0].grant | Should -BeExactly 'device_code'
            $tokens[0].username | Should -BeExactly $userName
        }

        It 'fails with DeviceCodeExpired when nobody approves the code in time' {
            $identity = New-RdsSignInIdentity
            $identity['deviceCode'] = [ordered]@{
                intervalSeconds  = 1
                expiresInSeconds = 2
            }
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -Identity $identity)

            $errorRecord = { Add-RdsAccount -DeploymentUrl $emulator.Url -AuthorityHost $emulator.Url -AadTenantId $tenantId -WarningAction SilentlyContinue } |
                Should -Throw -ErrorId "DeviceCodeExpired$addFqidSuffix" -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be 'OperationTimeout'
            @(Get-RdsEmulatorIssuedToken -Url $emulator.Url).Count | Should -Be 0
        }
    }

    Context 'application with a certificate file' {
        BeforeAll {
            $certificateKey = [System.Security.Cryptography.RSA]::Create(2048)
            $certificate = New-RdsSignInCertificate -Key $certificateKey
            $pfxPassword = 'pester-pfx-password-' + [guid]::NewGuid().ToString('N')
            $pfxPath = Join-Path -Path $TestDrive -ChildPath 'application.pfx'
            [System.IO.File]::WriteAllBytes($pfxPath,
                $certificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $pfxPassword))
            # PEM: the certificate and its unencrypted PKCS#8 key in one file.
            $pemPath = Join-Path -Path $TestDrive -ChildPath 'application.pem'
            Export-RdsSignInPem -Certificate $certificate -Key $certificateKey -Path $pemPath
        }

        AfterAll {
            Remove-RdsSignInDisposable -InputObject @($certificate, $certificateKey)
        }

        BeforeEach {
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -Certificate $certificate)
        }

        It 'signs in with -CertificatePath to a PFX file and -CertificatePassword' {
            $securePassword = ConvertTo-SecureString -String $pfxPassword -AsPlainText -Force

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -CertificatePath $pfxPath -CertificatePassword $securePassword `
                -ApplicationId $certificateAppId -AadTenantId $tenantId -AuthorityHost $emulator.Url

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $certificateAppId
            $tokens = @(Get-RdsEmulatorIssuedToken -Url $emulator.Url)
            $tokens.Count | Should -Be 1
            $tokens[0].clientId | Should -BeExactly $certificateAppId
            $tokens[0].credential | Should -BeExactly 'certificate'
        }

        It 'signs in with -CertificatePath to a PEM file with the certificate and an unencrypted key' {
            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -CertificatePath $pemPath `
                -ApplicationId $certificateAppId -AadTenantId $tenantId -AuthorityHost $emulator.Url

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $certificateAppId
            @(Get-RdsEmulatorIssuedToken -Url $emulator.Url | Where-Object { $_.credential -eq 'certificate' }).Count | Should -Be 1
        }

        It 'fails with CertificatePasswordInvalid for a wrong PFX password, before any request' {
            $wrongPassword = ConvertTo-SecureString -String 'not-the-pfx-password' -AsPlainText -Force

            $errorRecord = { Add-RdsAccount -DeploymentUrl $emulator.Url -CertificatePath $pfxPath -CertificatePassword $wrongPassword `
                    -ApplicationId $certificateAppId -AadTenantId $tenantId -AuthorityHost $emulator.Url } |
                Should -Throw -ErrorId "CertificatePasswordInvalid$addFqidSuffix" -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be 'AuthenticationError'
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token').Count | Should -Be 0
        }
    }

    Context 'application with a certificate in the CurrentUser My store' {
        BeforeAll {
            $certificateKey = [System.Security.Cryptography.RSA]::Create(2048)
            $ephemeral = New-RdsSignInCertificate -Key $certificateKey
            # A copy with a persisted, exportable key, as certificates installed in a store have.
            $transferPassword = [guid]::NewGuid().ToString('N')
            $storeCertificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new(
                $ephemeral.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $transferPassword),
                $transferPassword,
                [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]'PersistKeySet, Exportable')
        }

        AfterAll {
            Remove-RdsSignInDisposable -InputObject @($storeCertificate, $ephemeral, $certificateKey)
        }

        BeforeEach {
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -Certificate $storeCertificate)
        }

        It 'signs in with -CertificateThumbprint (lower case) -ApplicationId -AadTenantId' {
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new(
                [System.Security.Cryptography.X509Certificates.StoreName]::My,
                [System.Security.Cryptography.X509Certificates.StoreLocation]::CurrentUser)
            $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadWrite)
            try {
                $store.Add($storeCertificate)

                $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -CertificateThumbprint $storeCertificate.Thumbprint.ToLowerInvariant() `
                    -ApplicationId $certificateAppId -AadTenantId $tenantId -AuthorityHost $emulator.Url
            }
            finally {
                $store.Remove($storeCertificate)
                $store.Dispose()
            }

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $certificateAppId
            @(Get-RdsEmulatorIssuedToken -Url $emulator.Url | Where-Object { $_.credential -eq 'certificate' }).Count | Should -Be 1
        }
    }

    Context 'managed identity' {
        It 'signs in through IMDS at $env:IMDS_ENDPOINT' {
            $env:IMDS_ENDPOINT = $emulator.Url

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -Identity

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $managedIdentityId
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'imds').Count | Should -Be 1
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'appServiceMsi').Count | Should -Be 0
        }

        It 'signs in through the App Service endpoint when $env:IDENTITY_ENDPOINT and $env:IDENTITY_HEADER are set' {
            $env:IDENTITY_ENDPOINT = $emulator.Url + '/msi/token'
            $env:IDENTITY_HEADER = $identityHeader

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -Identity

            Assert-RdsSignIn -Context $rdsContext -ExpectedUserName $managedIdentityId
            $msiRequests = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'appServiceMsi')
            $msiRequests.Count | Should -Be 1
            $msiRequests[0].status | Should -Be 200
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'imds').Count | Should -Be 0
        }

        It 'fails with ManagedIdentityUnavailable when nothing answers at the IMDS endpoint' {
            # The baseline: IMDS_ENDPOINT is the closed port, no App Service variables.
            $errorRecord = { Add-RdsAccount -DeploymentUrl $emulator.Url -Identity } |
                Should -Throw -ErrorId "ManagedIdentityUnavailable$addFqidSuffix" -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be 'ConnectionError'
        }
    }

    Context 'refused and failed sign-ins' {
        BeforeAll {
            $refusedKey = [System.Security.Cryptography.RSA]::Create(2048)
            $unregisteredKey = [System.Security.Cryptography.RSA]::Create(2048)
            $now = [DateTimeOffset]::UtcNow
            # The certificates of $certificateRefusalCases, each with a PEM file of it and its key.
            $refusalCertificates = @{}
            foreach ($spec in @(
                    @{ Name = 'Expired'; Key = $refusedKey; NotBefore = $now.AddYears(-2); NotAfter = $now.AddYears(-1) }
                    @{ Name = 'Future'; Key = $refusedKey; NotBefore = $now.AddDays(1); NotAfter = $now.AddYears(1) }
                    # Valid, but with a key of its own that no application registered.
                    @{ Name = 'Unregistered'; Key = $unregisteredKey; NotBefore = $now.AddDays(-1); NotAfter = $now.AddYears(1) }
                )) {
                $certificate = New-RdsSignInCertificate -Key $spec.Key -NotBefore $spec.NotBefore -NotAfter $spec.NotAfter
                $pemPath = Join-Path -Path $TestDrive -ChildPath ($spec.Name + '.pem')
                Export-RdsSignInPem -Certificate $certificate -Key $spec.Key -Path $pemPath
                $refusalCertificates[$spec.Name] = @{ Certificate = $certificate; PemPath = $pemPath }
            }
        }

        AfterAll {
            $certificates = @($refusalCertificates.Values | ForEach-Object { $_.Certificate })
            Remove-RdsSignInDisposable -InputObject ($certificates + @($refusedKey, $unregisteredKey))
        }

        BeforeEach {
            # A known context that a failed sign-in must leave alone (no user: a plain token).
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $brokerToken
        }

        It '<ErrorId>: <Case> is a terminating <Category> error quoting <Code>, and the previous context stays' -ForEach $refusalCases {
            $credential = New-RdsSignInCredential -UserName $CredentialUserName -Password $CredentialPassword
            $arguments = @{
                DeploymentUrl = $emulator.Url
                Credential    = $credential
                AadTenantId   = $SignInTenant
                AuthorityHost = $emulator.Url
            }
            if ($ServicePrincipal) {
                $arguments['ServicePrincipal'] = $true
            }

            $errorRecord = { Add-RdsAccount @arguments } | Should -Throw -ErrorId "$ErrorId$addFqidSuffix" -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be $Category
            $errorRecord.Exception.Message | Should -Match $Code
            ($errorRecord | Out-String) + $errorRecord.Exception.ToString() | Should -Not -Match ([regex]::Escape($CredentialPassword))
            $current = Get-RdsContext
            $current.DeploymentUrl | Should -BeExactly $emulator.Url
            $current.UserName | Should -BeNullOrEmpty
        }

        It '<ErrorId>: refuses <Case>' -ForEach $certificateRefusalCases {
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -Certificate $refusalCertificates[$Registered].Certificate)

            $errorRecord = { Add-RdsAccount -DeploymentUrl $emulator.Url -CertificatePath $refusalCertificates[$Presented].PemPath `
                    -ApplicationId $certificateAppId -AadTenantId $tenantId -AuthorityHost $emulator.Url } |
                Should -Throw -ErrorId "$ErrorId$addFqidSuffix" -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be $Category
            if ($Code) {
                $errorRecord.Exception.Message | Should -Match $Code
            }
            $tokenRequests = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token')
            $tokenRequests.Count | Should -Be $TokenRequestCount
            $tokenRequests | ForEach-Object { $_.authorized | Should -BeFalse }
            (Get-RdsContext).UserName | Should -BeNullOrEmpty
        }

        It 'CertificateNotFound: reports a thumbprint that is in no certificate store' {
            $errorRecord = { Add-RdsAccount -DeploymentUrl $emulator.Url -CertificateThumbprint 'AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12' `
                    -ApplicationId $certificateAppId -AadTenantId $tenantId -AuthorityHost $emulator.Url } |
                Should -Throw -ErrorId "CertificateNotFound$addFqidSuffix" -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token').Count | Should -Be 0
        }

        It 'AuthorityUnreachable: reports an authority nothing answers at as a connection error' {
            $credential = New-RdsSignInCredential -UserName $appId -Password $appSecret

            $errorRecord = { Add-RdsAccount -DeploymentUrl $emulator.Url -Credential $credential -ServicePrincipal -AadTenantId $tenantId -AuthorityHost $closedEndpoint } |
                Should -Throw -ErrorId "AuthorityUnreachable$addFqidSuffix" -PassThru

            $errorRecord.CategoryInfo.Category | Should -Be 'ConnectionError'
            "$errorRecord" | Should -Not -Match ([regex]::Escape($appSecret))
        }

        It 'BrokerUnauthorized: a forged -AccessToken is accepted by Add-RdsAccount but refused on the first logoff' {
            $forgedToken = 'eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJodHRwczovL21ycy1wcm9kLmFtZS5nYmwvbXJzLVJESW5mcmEtcHJvZCJ9.Zm9yZ2Vk'

            $rdsContext = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $forgedToken
            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable logoffErrors -ErrorAction SilentlyContinue

            $rdsContext.GetType().FullName | Should -BeExactly 'RdsSessions.RdsContext'
            $logoffErrors.Count | Should -Be 1
            $logoffErrors[0].FullyQualifiedErrorId | Should -BeExactly "BrokerUnauthorized$logoffFqidSuffix"
            $logoffErrors[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
            ($logoffErrors[0] | Out-String) + $logoffErrors[0].Exception.ToString() | Should -Not -Match ([regex]::Escape($forgedToken))
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,17,18'
            $logoffs = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'logoffUser')
            $logoffs.Count | Should -BeGreaterOrEqual 1
            $logoffs | ForEach-Object { $_.status | Should -Be 401 }
            $logoffs | ForEach-Object { $_.authorized | Should -BeFalse }
        }
    }

    Context 'Set-RdsContext' {
        BeforeEach {
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -ExtraTenantGroup 'Contoso Group')
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -Credential (New-RdsSignInCredential -UserName $appId -Password $appSecret) `
                -ServicePrincipal -AadTenantId $tenantId -AuthorityHost $emulator.Url
        }

        AfterEach {
            # Later tests sign in again anyway; this keeps a failure here from leaking the group.
            $null = Set-RdsContext -TenantGroupName 'Default Tenant Group' -ErrorAction SilentlyContinue
        }

        It 'switches the tenant group for the later calls, with the same identity, and back' {
            (Get-RdsContext).TenantGroupName | Should -BeExactly 'Default Tenant Group'

            $switched = Set-RdsContext 'Contoso Group'
            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable otherGroupErrors -ErrorAction SilentlyContinue

            $switched.GetType().FullName | Should -BeExactly 'RdsSessions.RdsContext'
            $switched.TenantGroupName | Should -BeExactly 'Contoso Group'
            $switched.DeploymentUrl | Should -BeExactly $emulator.Url
            $switched.UserName | Should -BeExactly $appId
            (Get-RdsContext).TenantGroupName | Should -BeExactly 'Contoso Group'
            $otherGroupErrors.Count | Should -Be 0 -Because ($otherGroupErrors -join '; ')
            $logoffs = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'logoffUser')
            $logoffs.Count | Should -Be 1
            $logoffs[0].tenantGroup | Should -BeExactly 'Contoso Group'
            $logoffs[0].caller | Should -BeExactly $appId
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 -TenantGroupName 'Contoso Group' | Should -BeExactly '2,3,18'
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,17,18'

            $back = Set-RdsContext -TenantGroupName 'Default Tenant Group'
            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable defaultGroupErrors -ErrorAction SilentlyContinue

            $back.TenantGroupName | Should -BeExactly 'Default Tenant Group'
            $defaultGroupErrors.Count | Should -Be 0 -Because ($defaultGroupErrors -join '; ')
            $logoffs = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'logoffUser')
            $logoffs.Count | Should -Be 2
            $logoffs[1].tenantGroup | Should -BeExactly 'Default Tenant Group'
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3,18'
            # Switching the group is no new sign-in: the one token serves both groups.
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token').Count | Should -Be 1
        }
    }

    Context 'token renewal' {
        BeforeEach {
            $identity = New-RdsSignInIdentity
            $identity['tokenLifetimeSeconds'] = 2
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -Identity $identity)
        }

        It 'gets a new token when the first one has expired, so a later logoff still works' {
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -Credential (New-RdsSignInCredential -UserName $appId -Password $appSecret) `
                -ServicePrincipal -AadTenantId $tenantId -AuthorityHost $emulator.Url

            Invoke-RdsUserSessionLogoff @sh1 -SessionId 17 -NoUserPrompt -ErrorVariable firstErrors -ErrorAction SilentlyContinue
            # The emulator's tokens live 2 s: the first one has expired after this.
            Start-Sleep -Milliseconds 2500
            Invoke-RdsUserSessionLogoff @sh1 -SessionId 18 -NoUserPrompt -ErrorVariable secondErrors -ErrorAction SilentlyContinue

            $firstErrors.Count | Should -Be 0 -Because ($firstErrors -join '; ')
            $secondErrors.Count | Should -Be 0 -Because ($secondErrors -join '; ')
            Get-RdsSessionIdsLeft -Url $emulator.Url @sh1 | Should -BeExactly '2,3'
            $logoffs = @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'logoffUser')
            $logoffs.Count | Should -Be 2
            $logoffs | ForEach-Object { $_.authorized | Should -BeTrue }
            @(Get-RdsEmulatorRoute -Url $emulator.Url -Route 'token' | Where-Object { $_.status -eq 200 }).Count |
                Should -BeGreaterOrEqual 2
            @(Get-RdsEmulatorIssuedToken -Url $emulator.Url).Count | Should -BeGreaterOrEqual 2
        }
    }

    Context 'secrets in the output, error, warning, verbose and debug streams' {
        BeforeAll {
            $redactionKey = [System.Security.Cryptography.RSA]::Create(2048)
            $redactionCertificate = New-RdsSignInCertificate -Key $redactionKey
            $redactionPfxPassword = 'pester-pfx-password-NOT-A-REAL-SECRET'
            $redactionPfxPath = Join-Path -Path $TestDrive -ChildPath 'redaction.pfx'
            [System.IO.File]::WriteAllBytes($redactionPfxPath,
                $redactionCertificate.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $redactionPfxPassword))

            # 'eyJ' starts every JSON web token (base64 of '{"'), whoever issued it.
            $secrets = @($appSecret, $userPassword, $identityHeader, $redactionPfxPassword, 'not-the-secret', 'eyJ')
        }

        AfterAll {
            Remove-RdsSignInDisposable -InputObject @($redactionCertificate, $redactionKey)
        }

        BeforeEach {
            Set-RdsEmulatorState -Url $emulator.Url -Seed (New-RdsSignInSeed -Certificate $redactionCertificate)
            $env:IDENTITY_ENDPOINT = $emulator.Url + '/msi/token'
            $env:IDENTITY_HEADER = $identityHeader
        }

        It 'writes no secret, password, identity header or token anywhere when <Flow>' -ForEach $redactionCases {
            $flowErrors = $null

            # try/catch: a terminating error ends the flow, and is kept like everything else.
            $records = @(
                try {
                    . $FlowScript *>&1
                }
                catch {
                    $_
                }
            )

            $text = @(
                $records | ForEach-Object { ConvertTo-RdsStreamText -Item $_ }
                $flowErrors | ForEach-Object {
                    $_ | Out-String
                    $_.Exception | Out-String
                    ConvertTo-RdsStreamText -Item $_
                }
            ) -join [Environment]::NewLine

            $errorIds = @(
                $records |
                    Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } |
                    ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] }
            )
            ($errorIds -join ',') | Should -BeExactly $ExpectedErrorIds -Because ($records | Out-String)
            @($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Count |
                Should -BeGreaterThan 0 -Because 'the flow ran with -Verbose, so there were messages to check'
            $text.Length | Should -BeGreaterThan 0
            foreach ($secret in $secrets) {
                $text.Contains($secret) | Should -BeFalse -Because "'$secret' must not appear in anything written when $Flow"
            }
        }
    }
}
