# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Helpers shared by the Pester suites (dot-source it: . (Join-Path $PSScriptRoot 'common.ps1')).
# Dot-sourcing it defines the functions below and imports tools/RdsSessions.Dev.psm1, the
# project's dev tools (paths, version, pwsh, and Start-RdsEmulator/Stop-RdsEmulator, the one
# PowerShell launcher of the broker emulator, which build.ps1 uses too); it has no other effect.
# Inside these functions $PSScriptRoot is this file's folder (Pester/), wherever they are called from.

# -Global: the suites call these from their own scopes, in blocks Pester runs later.
Import-Module -Name (Join-Path (Split-Path -Parent $PSScriptRoot) 'tools' 'RdsSessions.Dev.psm1') -Global

#region Build check

function Get-RdsTestSkipReason {
    <#
    .SYNOPSIS
        $null when the built module and the emulator exist; otherwise why the integration suites
        cannot run (for Describe -Skip).
    .PARAMETER SuiteName
        When given, a suite that cannot run is also announced with the warning
        "Skipping the <SuiteName> tests. <reason>".
        When RDSSESSIONS_REQUIRE_BUILD is set (the test command sets it), a missing build is an
        error instead: a run that is meant to test the build must not pass by skipping it.
    .EXAMPLE
        BeforeDiscovery { $skipReason = Get-RdsTestSkipReason -SuiteName 'Get-RdsUserSession' }
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([string] $SuiteName)

    $missing = [System.Collections.Generic.List[string]]::new()
    $manifest = Get-RdsModuleManifestPath
    if (-not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
        $missing.Add("the built module '$manifest'")
    }
    $emulator = Get-RdsEmulatorPath
    if (-not (Test-Path -LiteralPath $emulator -PathType Leaf)) {
        $missing.Add("the broker emulator '$emulator'")
    }
    if ($missing.Count -eq 0) {
        return $null
    }
    $reason = 'Missing ' + ($missing -join ' and ') + '. Run ./build.ps1 in the repository root first.'
    if ($env:RDSSESSIONS_REQUIRE_BUILD) {
        throw "RDSSESSIONS_REQUIRE_BUILD is set: $reason"
    }
    if ($SuiteName) {
        Write-Warning "Skipping the $SuiteName tests. $reason"
    }
    $reason
}

#endregion

#region Integration suite setup

function Initialize-RdsTestSuite {
    <#
    .SYNOPSIS
        The start of every integration suite's BeforeAll: imports the BUILT module, starts an
        emulator and, with -SignIn, signs in to it as the -Flavour says.
        Returns { ManifestPath; AccessToken; Emulator; Flavour; Seed; MappingPath };
        Complete-RdsTestSuite (AfterAll) undoes it.
    .PARAMETER Flavour
        Classic: the classic broker routes with the classic token, as before the retirement.
        Arm: the same data through Azure Resource Manager, as admins run the old scripts today:
        the ARM token and a mapping file (written from the emulator's data after -Seed is in
        place, and found through RDSSESSIONS_ARM_MAPPING, so child processes and other
        runspaces that sign in the old way use it too).
    .PARAMETER Seed
        The state the suite starts from (New-RdsTestSeed); put in place before the mapping is
        written. With -Flavour Arm the returned Seed also carries role assignments that keep
        -ForbiddenTenant out (ARM has no forbidden tenants: it has roles).
    .EXAMPLE
        BeforeAll {
            . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
            $suite = Initialize-RdsTestSuite -SignIn -Flavour $Flavour -Seed $seed
            $emulator = $suite.Emulator
        }
        AfterAll {
            Complete-RdsTestSuite -Emulator $emulator
        }
    #>
    [CmdletBinding()]
    param(
        [string] $AccessToken,

        [switch] $SignIn,

        [ValidateSet('Classic', 'Arm')]
        [string] $Flavour = 'Classic',

        [object] $Seed,

        [string[]] $ForbiddenTenant = @()
    )

    if (-not $AccessToken) {
        $AccessToken = if ($Flavour -eq 'Arm') { 'rds-emulator-arm-token' } else { 'rds-emulator-token' }
    }
    $manifestPath = Get-RdsModuleManifest
    # -Global: the suite's tests run outside this function and must see the cmdlets.
    Import-Module -Name $manifestPath -Force -Global -ErrorAction Stop
    $emulator = Start-RdsEmulator -AccessToken $AccessToken
    $mappingPath = $null
    try {
        if ($null -ne $Seed) {
            Set-RdsEmulatorState -Url $emulator.Url -Seed $Seed
        }
        if ($Flavour -eq 'Arm') {
            $mappingPath = Join-Path ([System.IO.Path]::GetTempPath()) ('rds-arm-mapping-{0}.json' -f [guid]::NewGuid())
            $Seed = Write-RdsTestArmMapping -Url $emulator.Url -Path $mappingPath -Seed $Seed -ForbiddenTenant $ForbiddenTenant
            $env:RDSSESSIONS_ARM_MAPPING = $mappingPath
            if ($null -ne $Seed) {
                Set-RdsEmulatorState -Url $emulator.Url -Seed $Seed
            }
        }
        if ($SignIn) {
            $null = Add-RdsAccount -DeploymentUrl $emulator.Url -AccessToken $AccessToken -ErrorAction Stop
        }
    }
    catch {
        Stop-RdsEmulator -Emulator $emulator
        throw
    }

    [pscustomobject]@{
        PSTypeName   = 'RdsSessions.Tests.Suite'
        ManifestPath = $manifestPath
        AccessToken  = $AccessToken
        Emulator     = $emulator
        Flavour      = $Flavour
        Seed         = $Seed
        MappingPath  = $mappingPath
    }
}

function Write-RdsTestArmMapping {
    <#
    .SYNOPSIS
        Writes the ARM mapping of the emulator's current data to -Path, as an admin would with
        Set-RdsArmMapping: each tenant's subscription, each host pool's resource group and ARM
        name. Returns -Seed with an "arm" section whose role assignments grant the emulator's ARM
        principal 'Desktop Virtualization User Session Operator' on every host pool except those
        of -ForbiddenTenant (no assignments when there is none: then everything is allowed).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $Path,
        [object] $Seed,
        [string[]] $ForbiddenTenant = @()
    )

    $pools = @(Invoke-RdsEmulatorAdminGet -Url $Url -Path '/_emulator/arm/hostPools' | ForEach-Object { $_ })
    $tenants = [ordered]@{}
    foreach ($pool in $pools) {
        if (-not $tenants.Contains($pool.tenant)) {
            $tenants[$pool.tenant] = [ordered]@{ subscriptionId = $pool.subscriptionId; hostPools = [ordered]@{} }
        }
        $tenants[$pool.tenant].hostPools[$pool.hostPool] = [ordered]@{ resourceGroup = $pool.resourceGroup; name = $pool.armHostPoolName }
    }
    # armEndpoint: the emulator stands in for https://management.azure.com.
    $json = ConvertTo-Json -InputObject ([ordered]@{ armEndpoint = $Url.TrimEnd('/'); tenants = $tenants }) -Depth 8
    [System.IO.File]::WriteAllText($Path, $json, [System.Text.UTF8Encoding]::new($false))

    if ($null -eq $Seed) {
        return $Seed
    }
    $assignments = @(
        foreach ($pool in $pools) {
            if ($ForbiddenTenant -cnotcontains $pool.tenant) {
                [ordered]@{
                    principalId        = '88888888-8888-8888-8888-888888888888'
                    roleDefinitionName = 'Desktop Virtualization User Session Operator'
                    scope              = $pool.id
                }
            }
        }
    )
    $withRoles = [ordered]@{}
    foreach ($entry in $Seed.GetEnumerator()) { $withRoles[$entry.Key] = $entry.Value }
    # No assignments at all means everything is allowed. The behaviour suites run against
    # buckets far larger than ARM's (the pacing suite and the benchmark test ARM's own): a
    # 1,000-session test would otherwise take 80 s. The headers still count down, so the
    # module's pacer learns the larger bucket from them as it would from a live one.
    $large = [ordered]@{ burst = 1000000; perSecond = 1000000 }
    $arm = [ordered]@{ rateLimits = [ordered]@{ reads = $large; deletes = $large; writes = $large } }
    if ($ForbiddenTenant.Count -gt 0) {
        $arm['roleAssignments'] = $assignments
    }
    $withRoles['arm'] = $arm
    $withRoles
}

function Update-RdsTestArmMapping {
    <#
    .SYNOPSIS
        For a suite on the ARM flavour whose tests add tenants (generated pools): rewrites the
        suite's mapping file from the emulator's current data and signs in again, so the new
        tenants are mapped. Does nothing on the classic flavour.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Suite)

    if ($Suite.Flavour -ne 'Arm') {
        return
    }
    $null = Write-RdsTestArmMapping -Url $Suite.Emulator.Url -Path $Suite.MappingPath
    $null = Add-RdsAccount -DeploymentUrl $Suite.Emulator.Url -AccessToken $Suite.AccessToken -ErrorAction Stop
}

function Get-RdsTestRoute {
    <#
    .SYNOPSIS
        The emulator's request-log route name of an operation in a flavour (classic and ARM
        routes have different names).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [ValidateSet('Classic', 'Arm')] [string] $Flavour,
        [Parameter(Mandatory)] [ValidateSet('Logoff', 'Disconnect', 'SendMessage', 'ListSessions')] [string] $Operation
    )

    $routes = @{
        Classic = @{ Logoff = 'logoffUser'; Disconnect = 'disconnectUser'; SendMessage = 'sendMessageUser'; ListSessions = 'listSessions' }
        Arm     = @{ Logoff = 'armDeleteUserSession'; Disconnect = 'armDisconnect'; SendMessage = 'armSendMessage'; ListSessions = 'armListUserSessions' }
    }
    $routes[$Flavour][$Operation]
}

function Complete-RdsTestSuite {
    <#
    .SYNOPSIS
        The AfterAll of an integration suite: stops its emulator (if it started) and removes the module.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)]
        [AllowNull()]
        [object] $Emulator
    )

    Stop-RdsEmulator -Emulator $Emulator
    Remove-Module -Name 'RdsSessions' -Force -ErrorAction SilentlyContinue
    $mapping = $env:RDSSESSIONS_ARM_MAPPING
    if ($mapping -and (Split-Path -Leaf $mapping) -like 'rds-arm-mapping-*.json') {
        Remove-Item -LiteralPath $mapping -ErrorAction SilentlyContinue
        Remove-Item -Path Env:RDSSESSIONS_ARM_MAPPING -ErrorAction SilentlyContinue
    }
}

#endregion

#region Emulator admin API (no authentication; for tests and demos)

function Invoke-RdsEmulatorAdminGet {
    # GET {url}{path} and parse the JSON, decoding the body as UTF-8 whatever the Content-Type says.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $Path
    )

    $ProgressPreference = 'SilentlyContinue'
    $response = Invoke-WebRequest -Uri ($Url.TrimEnd('/') + $Path) -Method Get -NoProxy
    $text = [System.Text.Encoding]::UTF8.GetString($response.RawContentStream.ToArray())
    ConvertFrom-Json -InputObject $text
}

function Set-RdsEmulatorState {
    <#
    .SYNOPSIS
        Replaces the emulator's whole state (and clears its request log): PUT {url}/_emulator/state.
    .PARAMETER Seed
        A hashtable or object in the seed shape (see New-RdsTestSeed), or the JSON text itself.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [object] $Seed
    )

    $json = if ($Seed -is [string]) { $Seed } else { ConvertTo-Json -InputObject $Seed -Depth 32 }
    # Bytes, so the names reach the emulator as UTF-8 whatever the web cmdlets' default encoding is.
    $body = [System.Text.Encoding]::UTF8.GetBytes($json)
    $ProgressPreference = 'SilentlyContinue'
    $null = Invoke-WebRequest -Uri ($Url.TrimEnd('/') + '/_emulator/state') -Method Put -Body $body `
        -ContentType 'application/json; charset=utf-8' -NoProxy
}

function Get-RdsEmulatorState {
    <#
    .SYNOPSIS
        The emulator's state: GET {url}/_emulator/state (same shape as a seed).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Url)

    Invoke-RdsEmulatorAdminGet -Url $Url -Path '/_emulator/state'
}

function Get-RdsEmulatorRequests {
    <#
    .SYNOPSIS
        The broker requests the emulator received since the last state reset, oldest first:
        { method, rawPath, query, route, tenantGroup, tenant, hostPool, sessionHost, sessionId,
        force, status, authorized } with the path segments already percent-decoded.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Url)

    # Re-emitting each item flattens the array whether or not the cmdlet enumerated it.
    Invoke-RdsEmulatorAdminGet -Url $Url -Path '/_emulator/requests' | ForEach-Object { $_ }
}

function Get-RdsEmulatorSession {
    <#
    .SYNOPSIS
        Every session of the emulator's state, flattened to one object per session with the
        property names Invoke-RdsUserSessionLogoff binds from the pipeline.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Url)

    $state = Get-RdsEmulatorState -Url $Url
    foreach ($tenantGroup in @($state.tenantGroups)) {
        foreach ($tenant in @($tenantGroup.tenants)) {
            foreach ($hostPool in @($tenant.hostPools)) {
                foreach ($sessionHost in @($hostPool.sessionHosts)) {
                    foreach ($session in @($sessionHost.sessions)) {
                        [pscustomobject]@{
                            TenantGroupName   = [string]$tenantGroup.name
                            TenantName        = [string]$tenant.name
                            HostPoolName      = [string]$hostPool.name
                            SessionHostName   = [string]$sessionHost.name
                            SessionId         = [int]$session.sessionId
                            UserPrincipalName = [string]$session.userPrincipalName
                            SessionState      = [string]$session.sessionState
                            Reachable         = [bool]$sessionHost.reachable
                        }
                    }
                }
            }
        }
    }
}

function Get-RdsSessionList {
    <#
    .SYNOPSIS
        Every session of the emulator as 'Tenant/HostPool/SessionHost/Id' (SessionIdentity's format), in state order.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string] $Url)

    Get-RdsEmulatorSession -Url $Url | ForEach-Object {
        '{0}/{1}/{2}/{3}' -f $_.TenantName, $_.HostPoolName, $_.SessionHostName, $_.SessionId
    }
}

function Get-RdsSessionIdsLeft {
    <#
    .SYNOPSIS
        The session ids left on one session host, ascending, joined with ',' ('' when none):
        one string, so `| Should -BeExactly '2,5'` compares the whole set.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $TenantName,
        [Parameter(Mandatory)] [string] $HostPoolName,
        [Parameter(Mandatory)] [string] $SessionHostName,
        [string] $TenantGroupName = 'Default Tenant Group'
    )

    $ids = @(
        Get-RdsEmulatorSession -Url $Url |
            Where-Object {
                $_.TenantGroupName -ceq $TenantGroupName -and
                $_.TenantName -ceq $TenantName -and
                $_.HostPoolName -ceq $HostPoolName -and
                $_.SessionHostName -ceq $SessionHostName
            } |
            ForEach-Object { $_.SessionId } |
            Sort-Object
    )
    $ids -join ','
}

function Get-RdsRemovedSession {
    <#
    .SYNOPSIS
        Which sessions of -Before (from Get-RdsSessionList) are gone now, joined with ', ' in
        their original order ('' when none). Throws if sessions appeared.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [string[]] $Before
    )

    $after = @(Get-RdsSessionList -Url $Url)
    $added = @($after | Where-Object { $Before -cnotcontains $_ })
    if ($added.Count -gt 0) {
        throw "Sessions appeared that were not there before: $($added -join ', ')"
    }
    @($Before | Where-Object { $after -cnotcontains $_ }) -join ', '
}

function Reset-RdsEmulatorState {
    <#
    .SYNOPSIS
        The BeforeEach of the session suites: puts -Seed back with Set-RdsEmulatorState (which also
        clears the request log, the activity record, the injected latency and faults) and returns
        the sessions as Get-RdsSessionList lists them, for Get-RdsRemovedSession -Before.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [object] $Seed
    )

    Set-RdsEmulatorState -Url $Url -Seed $Seed
    Get-RdsSessionList -Url $Url
}

function Invoke-RdsEmulatorAdminRequest {
    <#
    .SYNOPSIS
        Sends {Method} {url}{path} to one of the emulator's admin routes and returns the parsed
        JSON answer (nothing for an empty one, such as 204 No Content).
    .PARAMETER Body
        A hashtable or object sent as JSON, or the JSON text itself; always sent as UTF-8.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [ValidateSet('Get', 'Put', 'Post', 'Delete')] [string] $Method,
        [Parameter(Mandatory)] [string] $Path,
        [object] $Body
    )

    $request = @{
        Uri     = $Url.TrimEnd('/') + $Path
        Method  = $Method
        NoProxy = $true
    }
    if ($PSBoundParameters.ContainsKey('Body')) {
        $json = if ($Body -is [string]) { $Body } else { ConvertTo-Json -InputObject $Body -Depth 32 }
        $request.Body = [System.Text.Encoding]::UTF8.GetBytes($json)
        $request.ContentType = 'application/json; charset=utf-8'
    }
    $ProgressPreference = 'SilentlyContinue'
    $response = Invoke-WebRequest @request
    $text = [System.Text.Encoding]::UTF8.GetString($response.RawContentStream.ToArray())
    if (-not [string]::IsNullOrWhiteSpace($text)) {
        ConvertFrom-Json -InputObject $text
    }
}

function Set-RdsEmulatorLatency {
    <#
    .SYNOPSIS
        Delays every broker request by FixedMs plus up to JitterMs milliseconds (the jitter
        sequence is the same for one Seed): PUT {url}/_emulator/latency. PUT /_emulator/state and
        Clear-RdsEmulatorLatency remove it.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [ValidateRange(0, 60000)] [int] $FixedMs,
        [ValidateRange(0, 60000)] [int] $JitterMs = 0,
        [int] $Seed = 7
    )

    $latency = [ordered]@{ fixedMs = $FixedMs; jitterMs = $JitterMs; seed = $Seed }
    $null = Invoke-RdsEmulatorAdminRequest -Url $Url -Method Put -Path '/_emulator/latency' -Body $latency
}

function Clear-RdsEmulatorLatency {
    <#
    .SYNOPSIS
        Removes the injected broker latency: DELETE {url}/_emulator/latency.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Url)

    $null = Invoke-RdsEmulatorAdminRequest -Url $Url -Method Delete -Path '/_emulator/latency'
}

function Set-RdsEmulatorFault {
    <#
    .SYNOPSIS
        Injects deterministic faults into broker requests: PUT {url}/_emulator/faults.
        PUT /_emulator/state and Clear-RdsEmulatorFault remove them.
    .DESCRIPTION
        Candidate request n of a -Route (counted from 0 since this call; only requests the broker
        would otherwise process) gets a fault with probability -Rate, of one of the -Kind (equal
        weights). Both are a pure function of -Seed and n (FaultSampler::fault_at), so one seed
        always gives the same sequence. What each kind does: rust/emulator/data/README.md
        ("Fault injection"). The request log marks a faulted request with its "fault" kind.
    .EXAMPLE
        Set-RdsEmulatorFault -Url $emulator.Url -Rate 1 -Kind serverError -ServerErrorStatus 503 -Route logoffUser
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Url,

        [Parameter(Mandatory)]
        [ValidateRange(0.0, 1.0)]
        [double] $Rate,

        [Parameter(Mandatory)]
        [ValidateSet('throttle', 'serverError', 'reset', 'stall', 'malformed', 'appliedLost', IgnoreCase = $false)]
        [string[]] $Kind,

        [ValidateRange(0, [long]::MaxValue)]
        [long] $Seed = 7,

        [ValidateRange(500, 599)]
        [int[]] $ServerErrorStatus = @(500, 502, 503, 504),

        [ValidateRange(0, 600000)]
        [int] $StallMs = 3000,

        [ValidateRange(0, 3600)]
        [int] $RetryAfterSeconds = 1,

        [ValidateSet('logoffUser', 'disconnectUser', 'sendMessageUser', 'listSessions', IgnoreCase = $false)]
        [string[]] $Route = @('logoffUser', 'disconnectUser', 'sendMessageUser', 'listSessions')
    )

    $kinds = [ordered]@{}
    foreach ($name in $Kind) {
        $kinds[$name] = 1
    }
    $faults = [ordered]@{
        seed                = $Seed
        rate                = $Rate
        kinds               = $kinds
        retryAfterSeconds   = $RetryAfterSeconds
        stallMs             = $StallMs
        serverErrorStatuses = @($ServerErrorStatus)
        routes              = @($Route)
    }
    $null = Invoke-RdsEmulatorAdminRequest -Url $Url -Method Put -Path '/_emulator/faults' -Body $faults
}

function Clear-RdsEmulatorFault {
    <#
    .SYNOPSIS
        Stops injecting faults: DELETE {url}/_emulator/faults.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Url)

    $null = Invoke-RdsEmulatorAdminRequest -Url $Url -Method Delete -Path '/_emulator/faults'
}

function New-RdsEmulatorBulkPool {
    <#
    .SYNOPSIS
        Adds (or replaces) a generated host pool: POST {url}/_emulator/generate. Returns the
        emulator's summary { tenantGroup, tenant, hostPool, hosts, sessions, replaced }.
    .DESCRIPTION
        The hosts are host-0001.bulk.test, host-0002.bulk.test, ...; each holds SessionsPerHost
        sessions with ids FirstSessionId, FirstSessionId + 1, ... Session number n of the pool
        (1-based, host by host) belongs to user<n>@bulk.test and is Active when n is odd,
        Disconnected when n is even. The rest of the state is kept.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [ValidateRange(1, 1000)] [int] $HostCount,
        [Parameter(Mandatory)] [ValidateRange(1, 100000)] [int] $SessionsPerHost,
        [string] $TenantName = 'Bulk',
        [string] $HostPoolName = 'Pool-Bulk',
        [int] $FirstSessionId = 1,
        [string] $TenantGroupName = 'Default Tenant Group'
    )

    $spec = [ordered]@{
        tenantGroup     = $TenantGroupName
        tenant          = $TenantName
        hostPool        = $HostPoolName
        hosts           = $HostCount
        sessionsPerHost = $SessionsPerHost
        firstSessionId  = $FirstSessionId
    }
    Invoke-RdsEmulatorAdminRequest -Url $Url -Method Post -Path '/_emulator/generate' -Body $spec
}

function Get-RdsEmulatorActivity {
    <#
    .SYNOPSIS
        What the session actions did since the last reset (PUT /_emulator/state or DELETE
        /_emulator/activity): GET {url}/_emulator/activity.
    .DESCRIPTION
        { logoffs; disconnects; messages (with the decoded title and body); callsPerSession
        (per targeted session: logoff, disconnect and message request counts, whatever their
        outcome); maxInFlight (the most broker requests handled at once); inFlight;
        brokerRequests }. Each record names tenantGroup, tenant, hostPool, sessionHost and
        sessionId.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Url)

    Invoke-RdsEmulatorAdminRequest -Url $Url -Method Get -Path '/_emulator/activity'
}

function Get-RdsEmulatorSessionCount {
    <#
    .SYNOPSIS
        How many sessions of one tenant (all its host pools) the emulator holds.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $TenantName
    )

    @(Get-RdsEmulatorSession -Url $Url | Where-Object { $_.TenantName -ceq $TenantName }).Count
}

#endregion

#region Cmdlet metadata

function Get-RdsParameterContract {
    <#
    .SYNOPSIS
        How -ParameterName of -CommandName is declared, as one line to compare with
        Should -BeExactly; $null when the command has no such parameter.
    .DESCRIPTION
        The parameter's .NET type, then for each of its [Parameter()] attributes (one per
        parameter set; sorted, joined with '; '): 'mandatory' or 'optional'; 'position N' or
        'named'; how it binds from the pipeline ('from the pipeline by value and by property
        name', '... by value', '... by property name' or 'not from the pipeline'); and 'in every
        parameter set' or 'in parameter set <name>'. Last, 'aliases <a>, <b>' when it has any.
    .EXAMPLE
        Get-RdsParameterContract -CommandName 'Get-RdsUserSession' -ParameterName 'TenantName' |
            Should -BeExactly 'System.String, mandatory, position 0, from the pipeline by value and by property name, in every parameter set'
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [string] $CommandName,
        [Parameter(Mandatory)] [string] $ParameterName
    )

    $parameter = (Get-Command -Name $CommandName -ErrorAction Stop).Parameters[$ParameterName]
    if ($null -eq $parameter) {
        return $null
    }

    $declarations = foreach ($attribute in $parameter.Attributes) {
        if ($attribute -isnot [System.Management.Automation.ParameterAttribute]) {
            continue
        }
        $mandatory = if ($attribute.Mandatory) { 'mandatory' } else { 'optional' }
        $position = if ($attribute.Position -eq [int]::MinValue) { 'named' } else { "position $($attribute.Position)" }
        $pipeline = if ($attribute.ValueFromPipeline -and $attribute.ValueFromPipelineByPropertyName) {
            'from the pipeline by value and by property name'
        }
        elseif ($attribute.ValueFromPipeline) {
            'from the pipeline by value'
        }
        elseif ($attribute.ValueFromPipelineByPropertyName) {
            'from the pipeline by property name'
        }
        else {
            'not from the pipeline'
        }
        $set = if ($attribute.ParameterSetName -eq [System.Management.Automation.ParameterAttribute]::AllParameterSets) {
            'in every parameter set'
        }
        else {
            "in parameter set $($attribute.ParameterSetName)"
        }
        '{0}, {1}, {2}, {3}' -f $mandatory, $position, $pipeline, $set
    }

    $contract = $parameter.ParameterType.FullName + ', ' + (@($declarations | Sort-Object) -join '; ')
    if ($parameter.Aliases.Count -gt 0) {
        $contract += ', aliases ' + ($parameter.Aliases -join ', ')
    }
    $contract
}

#endregion

#region Seeds and test data

function Get-RdsSpecValue {
    # Reads $Name from a hashtable or an object, or returns $Default (works under strict mode).
    param($Spec, [string] $Name, $Default)

    if ($Spec -is [System.Collections.IDictionary]) {
        if ($Spec.Contains($Name)) {
            return $Spec[$Name]
        }
        return $Default
    }
    $property = $Spec.PSObject.Properties[$Name]
    if ($null -ne $property) {
        return $property.Value
    }
    $Default
}

function New-RdsTestSeed {
    <#
    .SYNOPSIS
        Builds an emulator seed (for Set-RdsEmulatorState) from a flat list of sessions.
    .PARAMETER Session
        Hashtables or objects with TenantName, HostPoolName, SessionHostName, SessionId and,
        optionally, UserPrincipalName (default user<SessionId>@example.com), AdUserName
        (default EXAMPLE\<the UPN's user part>), SessionState (default Active), ApplicationType
        (default Desktop) and CreateTime (RFC 3339 text, default 2026-11-23T08:00:00Z).
        Tenants, host pools and hosts keep the order of first appearance; names are compared
        case-sensitively, as the emulator does.
    .PARAMETER UnreachableSessionHost
        Session host names seeded with "reachable": false (logoff needs -Force).
    .PARAMETER ForbiddenTenant
        Tenant names seeded with "forbidden": true (every request gets 403).
    .EXAMPLE
        New-RdsTestSeed -Session @{ TenantName = 'Contoso'; HostPoolName = 'Pool'; SessionHostName = 'sh1'; SessionId = 17 }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [object[]] $Session,

        [string] $TenantGroupName = 'Default Tenant Group',

        [string[]] $UnreachableSessionHost = @(),

        [string[]] $ForbiddenTenant = @()
    )

    # OrderedDictionary built with new(): case-sensitive keys, unlike [ordered]@{}.
    $tenants = [System.Collections.Specialized.OrderedDictionary]::new()
    foreach ($spec in $Session) {
        $tenantName = [string](Get-RdsSpecValue $spec 'TenantName' $null)
        $hostPoolName = [string](Get-RdsSpecValue $spec 'HostPoolName' $null)
        $sessionHostName = [string](Get-RdsSpecValue $spec 'SessionHostName' $null)
        $sessionId = [int](Get-RdsSpecValue $spec 'SessionId' 0)
        $userPrincipalName = [string](Get-RdsSpecValue $spec 'UserPrincipalName' ('user{0}@example.com' -f $sessionId))
        $userName = $userPrincipalName.Split('@')[0]

        if (-not $tenants.Contains($tenantName)) {
            $tenants.Add($tenantName, [System.Collections.Specialized.OrderedDictionary]::new())
        }
        $hostPools = $tenants[$tenantName]
        if (-not $hostPools.Contains($hostPoolName)) {
            $hostPools.Add($hostPoolName, [System.Collections.Specialized.OrderedDictionary]::new())
        }
        $sessionHosts = $hostPools[$hostPoolName]
        if (-not $sessionHosts.Contains($sessionHostName)) {
            $sessionHosts.Add($sessionHostName, [System.Collections.Generic.List[object]]::new())
        }
        $sessionHosts[$sessionHostName].Add([ordered]@{
                sessionId         = $sessionId
                userPrincipalName = $userPrincipalName
                adUserName        = [string](Get-RdsSpecValue $spec 'AdUserName' ('EXAMPLE\' + $userName))
                applicationType   = [string](Get-RdsSpecValue $spec 'ApplicationType' 'Desktop')
                sessionState      = [string](Get-RdsSpecValue $spec 'SessionState' 'Active')
                createTime        = [string](Get-RdsSpecValue $spec 'CreateTime' '2026-11-23T08:00:00Z')
            })
    }

    $tenantList = @(
        foreach ($tenantName in $tenants.Keys) {
            $hostPools = $tenants[$tenantName]
            [ordered]@{
                name      = $tenantName
                forbidden = [bool]($ForbiddenTenant -ccontains $tenantName)
                hostPools = @(
                    foreach ($hostPoolName in $hostPools.Keys) {
                        $sessionHosts = $hostPools[$hostPoolName]
                        [ordered]@{
                            name         = $hostPoolName
                            sessionHosts = @(
                                foreach ($sessionHostName in $sessionHosts.Keys) {
                                    [ordered]@{
                                        name      = $sessionHostName
                                        reachable = -not ($UnreachableSessionHost -ccontains $sessionHostName)
                                        sessions  = @($sessionHosts[$sessionHostName])
                                    }
                                }
                            )
                        }
                    }
                )
            }
        }
    )

    [ordered]@{
        tenantGroups = @(
            [ordered]@{
                name    = $TenantGroupName
                tenants = $tenantList
            }
        )
    }
}

function Get-RdsHostileNameCase {
    <#
    .SYNOPSIS
        Names that must each reach the broker as exactly one, correctly decoded, path segment.
        Non-ASCII characters are built from code points so this file's encoding never matters.
    #>
    [CmdletBinding()]
    param()

    $zoeTokyo = 'Zo' + [char]0x00EB + ' ' + [char]0x6771 + [char]0x4EAC   # "Zoë 東京"
    @(
        @{ TenantName = 'a/b'; HostPoolName = 'x?y'; SessionHostName = '100%' }
        @{ TenantName = $zoeTokyo; HostPoolName = $zoeTokyo; SessionHostName = $zoeTokyo }
        @{ TenantName = 'hash#tag'; HostPoolName = 'semi;colon&amp=1'; SessionHostName = 'plus+sign space' }
    )
}

#endregion

#region Child processes

function Invoke-RdsChildPwsh {
    <#
    .SYNOPSIS
        Runs a script in a fresh `pwsh -NoProfile -NonInteractive` and returns { ExitCode; Output }.
    .DESCRIPTION
        The script text is written to a temporary .ps1 file and run with -File, each entry of
        -Parameters passed as `-Name value`, so no quoting is involved. Output holds the child's
        stdout and stderr lines as strings.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $ScriptText,
        [System.Collections.IDictionary] $Parameters = @{}
    )

    $scriptPath = Join-Path ([System.IO.Path]::GetTempPath()) ('rds-pester-{0}.ps1' -f [guid]::NewGuid().ToString('N'))
    Set-Content -LiteralPath $scriptPath -Value $ScriptText -Encoding utf8BOM
    try {
        $arguments = @('-NoLogo', '-NoProfile', '-NonInteractive', '-File', $scriptPath)
        foreach ($entry in $Parameters.GetEnumerator()) {
            $arguments += '-' + $entry.Key
            $arguments += [string]$entry.Value
        }
        $pwsh = Get-RdsPwshPath
        $output = @(& $pwsh @arguments 2>&1 | ForEach-Object { "$_" })
        $exitCode = $LASTEXITCODE
        [pscustomobject]@{
            ExitCode = $exitCode
            Output   = [string[]]$output
        }
    }
    finally {
        Remove-Item -LiteralPath $scriptPath -Force -ErrorAction SilentlyContinue
    }
}

function Invoke-RdsChildPwshCommand {
    <#
    .SYNOPSIS
        Runs -Command in a fresh pwsh with the built module imported and tells how it ended:
        { ExitCode; Output; ErrorId; Category }.
    .DESCRIPTION
        The child imports -ManifestPath and, when -AccessToken is given, signs in to -Url with it.
        Then it runs the text of -Command in a try block: when the command completes it prints
        'NO-ERROR' and exits 0; when it throws, it prints 'ERRORID=<FullyQualifiedErrorId>' and
        'CATEGORY=<category>' and exits 3, and ErrorId and Category are those values ($null
        when nothing was thrown). -Command runs in the child, so it sees none of the caller's
        variables: only $ManifestPath, $Url, $AccessToken and one [string] variable for each
        entry of -Parameters.
    .EXAMPLE
        $result = Invoke-RdsChildPwshCommand -Command { $null = Get-RdsContext }
        $result.ErrorId | Should -BeExactly 'NoRdsContext,RdsSessions.Commands.GetRdsContextCommand'
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [scriptblock] $Command,
        [string] $ManifestPath = (Get-RdsModuleManifest),
        [string] $Url,
        [string] $AccessToken,
        [System.Collections.IDictionary] $Parameters = @{}
    )

    $values = [ordered]@{ ManifestPath = $ManifestPath; Url = $Url; AccessToken = $AccessToken }
    foreach ($entry in $Parameters.GetEnumerator()) {
        $values[[string]$entry.Key] = [string]$entry.Value
    }
    $template = @'
param(<PARAMETERS>)
Import-Module -Name $ManifestPath -ErrorAction Stop
if ($AccessToken) {
    $null = Add-RdsAccount -DeploymentUrl $Url -AccessToken $AccessToken -ErrorAction Stop
}
try {
<COMMAND>
    'NO-ERROR'
    exit 0
}
catch {
    'ERRORID=' + $_.FullyQualifiedErrorId
    'CATEGORY=' + $_.CategoryInfo.Category
    exit 3
}
'@
    $declarations = @($values.Keys | ForEach-Object { '[string] $' + $_ }) -join ', '
    $scriptText = $template.Replace('<PARAMETERS>', $declarations).Replace('<COMMAND>', $Command.ToString())
    # Empty values are left out rather than passed as '' (older pwsh versions drop empty
    # arguments, which would shift the ones after them); the child's parameters default to $null.
    $arguments = [ordered]@{}
    foreach ($name in $values.Keys) {
        if (-not [string]::IsNullOrEmpty($values[$name])) {
            $arguments[$name] = $values[$name]
        }
    }

    $result = Invoke-RdsChildPwsh -ScriptText $scriptText -Parameters $arguments
    $errorLine = @($result.Output | Where-Object { $_.StartsWith('ERRORID=') }) | Select-Object -First 1
    $categoryLine = @($result.Output | Where-Object { $_.StartsWith('CATEGORY=') }) | Select-Object -First 1
    [pscustomobject]@{
        ExitCode = $result.ExitCode
        Output   = $result.Output
        ErrorId  = if ($errorLine) { $errorLine.Substring('ERRORID='.Length) } else { $null }
        Category = if ($categoryLine) { $categoryLine.Substring('CATEGORY='.Length) } else { $null }
    }
}

function New-RdsSignedInPowerShell {
    <#
    .SYNOPSIS
        A [powershell] on a new runspace of this process, with the built module imported and
        signed in to the emulator. Add a script to it, then Invoke() or BeginInvoke(); dispose it
        when done (that closes its runspace too).
    .DESCRIPTION
        For what a script cannot capture in its own runspace: progress records (they cannot be
        redirected), warnings written to the host, and stopping a running pipeline the way
        Ctrl+C does (Stop()). Its Streams hold what the added script wrote; the sign-in's own
        records are cleared.
    #>
    [CmdletBinding()]
    [OutputType([powershell])]
    param(
        [Parameter(Mandatory)] [string] $ManifestPath,
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $AccessToken
    )

    $signIn = @'
param([string] $ManifestPath, [string] $Url, [string] $AccessToken)
Import-Module -Name $ManifestPath -ErrorAction Stop
$null = Add-RdsAccount -DeploymentUrl $Url -AccessToken $AccessToken -ErrorAction Stop
'@
    # Core cmdlets are all the scripts need; CreateDefault2 keeps the runspace cheap.
    $powershell = [powershell]::Create([initialsessionstate]::CreateDefault2())
    try {
        $null = $powershell.AddScript($signIn)
        $null = $powershell.AddParameter('ManifestPath', $ManifestPath)
        $null = $powershell.AddParameter('Url', $Url)
        $null = $powershell.AddParameter('AccessToken', $AccessToken)
        $null = $powershell.Invoke()
        if ($powershell.Streams.Error.Count -gt 0) {
            throw "Could not sign in in the new runspace: $($powershell.Streams.Error[0])"
        }
        $powershell.Commands.Clear()
        $powershell.Streams.ClearStreams()
    }
    catch {
        $powershell.Dispose()
        throw
    }
    $powershell
}

function Invoke-RdsSignedInScript {
    <#
    .SYNOPSIS
        Runs -Script (with -Parameters) in a PowerShell instance of its own, made by
        New-RdsSignedInPowerShell, and returns what it wrote: { Output; Errors; Progress; Warnings }.
        The instance is disposed.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $ManifestPath,
        [Parameter(Mandatory)] [string] $Url,
        [Parameter(Mandatory)] [string] $AccessToken,
        [Parameter(Mandatory)] [string] $Script,
        [System.Collections.IDictionary] $Parameters = @{}
    )

    $powershell = New-RdsSignedInPowerShell -ManifestPath $ManifestPath -Url $Url -AccessToken $AccessToken
    try {
        $null = $powershell.AddScript($Script)
        foreach ($entry in $Parameters.GetEnumerator()) {
            $null = $powershell.AddParameter([string]$entry.Key, $entry.Value)
        }
        $output = $powershell.Invoke()
        [pscustomobject]@{
            Output   = @($output)
            Errors   = @($powershell.Streams.Error)
            Progress = @($powershell.Streams.Progress)
            Warnings = @($powershell.Streams.Warning)
        }
    }
    finally {
        $powershell.Dispose()
    }
}

#endregion
