# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Development tools shared by build.ps1, the Pester suites (through Pester/common.ps1) and the
# demo: where things are (repository, version, built module, emulator, pwsh, Pester) and the one
# PowerShell launcher of the broker emulator. Nothing here is part of the shipped module.
#
#   Import-Module ./tools/RdsSessions.Dev.psm1
#
# The C# launcher of the emulator (tests and benchmark) is module/tools/EmulatorLauncher.cs;
# both follow the same protocol: --port 0 --exit-on-stdin-eof, token in RDS_EMULATOR_TOKEN, one
# stdout line "RDS broker emulator listening on http://127.0.0.1:PORT", stop by closing stdin.

Set-StrictMode -Version Latest

#region Paths and versions

function Get-RdsRepositoryRoot {
    <#
    .SYNOPSIS
        The repository root (this module lives in <root>/tools).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    Split-Path -Parent $PSScriptRoot
}

function Get-RdsToolchain {
    <#
    .SYNOPSIS
        The pinned PowerShell toolchain, tools/toolchain.json: pwshVersion, pwshMinimumVersion,
        pesterVersion, pesterMinimumVersion, pesterMaximumVersion (as [version]s).
    #>
    [CmdletBinding()]
    param()

    $path = Join-Path $PSScriptRoot 'toolchain.json'
    $data = Get-Content -LiteralPath $path -Raw | ConvertFrom-Json
    $toolchain = [ordered]@{ Path = $path }
    foreach ($name in 'pwshVersion', 'pwshMinimumVersion', 'pesterVersion', 'pesterMinimumVersion', 'pesterMaximumVersion') {
        $value = $data.PSObject.Properties[$name]
        if ($null -eq $value) {
            throw "'$path' has no '$name'."
        }
        $toolchain[$name] = [version]$value.Value
    }
    [pscustomobject]$toolchain
}

function Get-RdsProjectVersion {
    <#
    .SYNOPSIS
        The one version of the project: [workspace.package] version in Cargo.toml.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    $cargoToml = Join-Path (Get-RdsRepositoryRoot) 'Cargo.toml'
    $text = Get-Content -LiteralPath $cargoToml -Raw
    $section = [regex]::Match($text, '(?ms)^\[workspace\.package\][^\n]*\n(?<body>.*?)(?=^\[|\z)')
    if (-not $section.Success) {
        throw "No [workspace.package] section in '$cargoToml'."
    }
    $version = [regex]::Match($section.Groups['body'].Value, '(?m)^[ \t]*version[ \t]*=[ \t]*"(?<version>[^"]+)"')
    if (-not $version.Success) {
        throw "No version in the [workspace.package] section of '$cargoToml'."
    }
    $version.Groups['version'].Value
}

function Get-RdsPlatform {
    <#
    .SYNOPSIS
        Names that depend on the platform: Rid (runtimes/<rid>/native, as the module loader looks
        for it), LibraryName (the native library) and ExecutableSuffix.
    #>
    [CmdletBinding()]
    param()

    $architecture = [System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture.ToString().ToLowerInvariant()
    if ($IsWindows) {
        $os = 'win'; $library = 'rds_sessions.dll'; $executableSuffix = '.exe'
    }
    elseif ($IsMacOS) {
        $os = 'osx'; $library = 'librds_sessions.dylib'; $executableSuffix = ''
    }
    elseif ($IsLinux) {
        $os = 'linux'; $library = 'librds_sessions.so'; $executableSuffix = ''
    }
    else {
        throw 'Unsupported operating system: RdsSessions builds on Windows, Linux and macOS.'
    }
    [pscustomobject]@{
        Rid              = "$os-$architecture"
        LibraryName      = $library
        ExecutableSuffix = $executableSuffix
    }
}

function Get-RdsModuleDirectory {
    <#
    .SYNOPSIS
        Where the build lays the module out: out/RdsSessions/<version>/ (it may not exist).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    Join-Path (Get-RdsRepositoryRoot) 'out' 'RdsSessions' (Get-RdsProjectVersion)
}

function Get-RdsModuleManifestPath {
    <#
    .SYNOPSIS
        Where the build lays out the manifest: out/RdsSessions/<version>/RdsSessions.psd1 (it may not exist).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    Join-Path (Get-RdsModuleDirectory) 'RdsSessions.psd1'
}

function Get-RdsModuleManifest {
    <#
    .SYNOPSIS
        The path of the BUILT module manifest; throws, telling to run ./build.ps1, when it is missing.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    $path = Get-RdsModuleManifestPath
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        throw "The built module manifest '$path' does not exist. Run ./build.ps1 (or bash scripts/build.sh) in the repository root first."
    }
    $path
}

function Get-RdsEmulatorPath {
    <#
    .SYNOPSIS
        target/release/rds-emulator[.exe] (it may not exist).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    Join-Path (Get-RdsRepositoryRoot) 'target' 'release' ('rds-emulator' + (Get-RdsPlatform).ExecutableSuffix)
}

#endregion

#region Toolchain

function Get-RdsPwshPath {
    <#
    .SYNOPSIS
        The pwsh executable to start child PowerShell processes with: the one running this code
        when it is pwsh, else $PSHOME's, else RDSSESSIONS_PWSH, else the first on PATH.
    .DESCRIPTION
        pwsh installed as a .NET tool (tools/install-toolchain.sh) has no pwsh executable in
        $PSHOME: its process is the tool's app host, which [Environment]::ProcessPath names.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    $name = if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }
    $processPath = [Environment]::ProcessPath
    if ($processPath -and [System.IO.Path]::GetFileName($processPath) -eq $name) {
        return $processPath
    }
    $candidate = Join-Path $PSHOME $name
    if (Test-Path -LiteralPath $candidate -PathType Leaf) {
        return $candidate
    }
    if ($env:RDSSESSIONS_PWSH -and (Test-Path -LiteralPath $env:RDSSESSIONS_PWSH -PathType Leaf)) {
        return $env:RDSSESSIONS_PWSH
    }
    $command = Get-Command -Name 'pwsh' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $command) {
        throw 'pwsh (PowerShell 7) was not found; it is needed to start child PowerShell processes. Run bash tools/install-toolchain.sh.'
    }
    $command.Source
}

function Get-RdsPesterManifest {
    <#
    .SYNOPSIS
        The Pester.psd1 to run the suites with: RDSSESSIONS_PESTER when set; else the newest
        Pester this pwsh finds in its module path within the range of tools/toolchain.json; else
        the one tools/install-toolchain.sh installs into the cache (it needs bash).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    if ($env:RDSSESSIONS_PESTER) {
        if (-not (Test-Path -LiteralPath $env:RDSSESSIONS_PESTER -PathType Leaf)) {
            throw "RDSSESSIONS_PESTER is '$($env:RDSSESSIONS_PESTER)', which is not a file."
        }
        return $env:RDSSESSIONS_PESTER
    }

    $toolchain = Get-RdsToolchain
    $own = Get-Module -ListAvailable -Name 'Pester' |
        Where-Object { $_.Version -ge $toolchain.pesterMinimumVersion -and $_.Version -le $toolchain.pesterMaximumVersion } |
        Sort-Object -Property Version -Descending |
        Select-Object -First 1
    if ($null -ne $own) {
        return $own.Path
    }

    $installer = Join-Path $PSScriptRoot 'install-toolchain.sh'
    $bash = Get-Command -Name 'bash' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $bash) {
        throw ("Pester $($toolchain.pesterMinimumVersion) or newer (5.x) is not installed, and bash, which runs the project's installer, " +
            "was not found. Install Pester with: Install-PSResource -Name Pester -Version $($toolchain.pesterVersion)")
    }
    Write-Host "Pester $($toolchain.pesterMinimumVersion)+ (5.x) is not installed: installing Pester $($toolchain.pesterVersion) into the project's cache."
    # This pwsh is new enough (build.ps1 requires 7.4), so the installer only adds Pester.
    $previous = $env:RDSSESSIONS_PWSH
    $env:RDSSESSIONS_PWSH = Get-RdsPwshPath
    try {
        $lines = @(& $bash.Source $installer --plain)
        $exitCode = $LASTEXITCODE
    }
    finally {
        $env:RDSSESSIONS_PWSH = $previous
    }
    if ($exitCode -ne 0) {
        throw "'bash $installer' failed with exit code $exitCode (see its messages above)."
    }
    $line = $lines | Where-Object { $_ -like 'RDSSESSIONS_PESTER=*' } | Select-Object -Last 1
    if (-not $line) {
        throw "'bash $installer' did not say where Pester is."
    }
    $line.Substring('RDSSESSIONS_PESTER='.Length)
}

#endregion

#region Emulator process

function Start-RdsEmulator {
    <#
    .SYNOPSIS
        Starts target/release/rds-emulator on a free 127.0.0.1 port, waits until it accepts
        connections, and returns { Url; Port; Process; ErrorOutput; Stop(); Output() }.
    .DESCRIPTION
        The emulator prints one stdout line when it listens:
        "RDS broker emulator listening on http://127.0.0.1:PORT". This waits for that line, then
        connects to 127.0.0.1:PORT until it succeeds, both in a bounded number of 100 ms steps
        (counted steps, not wall-clock time, since CI machines can pause). When it does not come
        up, the process is ended and the exception carries everything it wrote.
        stdin stays open: with --exit-on-stdin-eof the emulator stops when it is closed, which
        Stop() does, and which also happens if this process dies.
    .PARAMETER AccessToken
        The bearer token the emulator accepts. Passed in the environment, not on the command
        line (command lines are visible to other users of the machine).
    .PARAMETER DataPath
        A seed JSON file; default: the emulator's built-in sample data.
    .PARAMETER ReadyIterations
        How many 100 ms steps to wait for the "listening on" line, and again for a connection.
    #>
    [CmdletBinding()]
    param(
        [ValidateNotNullOrEmpty()]
        [string] $AccessToken = 'rds-emulator-token',

        [string] $DataPath,

        [ValidateRange(1, 100000)]
        [int] $ReadyIterations = 300
    )

    $executable = Get-RdsEmulatorPath
    if (-not (Test-Path -LiteralPath $executable -PathType Leaf)) {
        throw "The broker emulator '$executable' does not exist. Run ./build.ps1 (or bash scripts/build.sh) in the repository root first."
    }

    $startInfo = [System.Diagnostics.ProcessStartInfo]::new($executable)
    $startInfo.UseShellExecute = $false
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.StandardOutputEncoding = [System.Text.UTF8Encoding]::new($false)
    $startInfo.StandardErrorEncoding = [System.Text.UTF8Encoding]::new($false)
    foreach ($argument in '--port', '0', '--exit-on-stdin-eof') {
        $startInfo.ArgumentList.Add($argument)
    }
    if ($DataPath) {
        $startInfo.ArgumentList.Add('--data')
        $startInfo.ArgumentList.Add((Resolve-Path -LiteralPath $DataPath).ProviderPath)
    }
    $startInfo.Environment['RDS_EMULATOR_TOKEN'] = $AccessToken

    $process = [System.Diagnostics.Process]::Start($startInfo)

    # The emulator logs one stderr line per request. Drain it in the background so the pipe
    # never fills up and blocks the emulator; the text is kept for error messages.
    $errorOutput = $process.StandardError.ReadToEndAsync()
    $firstLine = $process.StandardOutput.ReadLineAsync()

    $line = $null
    for ($i = 0; $i -lt $ReadyIterations; $i++) {
        if ($firstLine.Wait(100)) {
            $line = $firstLine.Result
            break
        }
    }

    $url = $null
    $port = 0
    $why = $null
    if ($null -ne $line) {
        $match = [regex]::Match($line, 'listening on (?<url>http://127\.0\.0\.1:(?<port>\d+))/?\s*$')
        if ($match.Success) {
            $url = $match.Groups['url'].Value
            $port = [int]$match.Groups['port'].Value
        }
        else {
            $why = "its first line was not 'RDS broker emulator listening on http://127.0.0.1:<port>': '$line'"
        }
    }
    elseif ($firstLine.IsCompleted) {
        $why = 'it closed its standard output without printing its URL'
    }
    else {
        $why = "it did not print its URL within $($ReadyIterations * 100) ms"
    }

    # Readiness: the port accepts connections on 127.0.0.1.
    if ($null -ne $url) {
        $connected = $false
        for ($i = 0; $i -lt $ReadyIterations -and -not $connected -and -not $process.HasExited; $i++) {
            $client = [System.Net.Sockets.TcpClient]::new()
            try {
                $connected = $client.ConnectAsync([System.Net.IPAddress]::Loopback, $port).Wait(100)
            }
            catch {
                Start-Sleep -Milliseconds 100
            }
            finally {
                $client.Dispose()
            }
        }
        if (-not $connected) {
            $why = "127.0.0.1:$port did not accept a connection within $($ReadyIterations * 100) ms"
            $url = $null
        }
    }

    if ($null -eq $url) {
        if (-not $process.HasExited) {
            try { $process.Kill($true) } catch { Write-Verbose "Could not end the emulator: $_" }
        }
        $null = $process.WaitForExit(5000)
        if ($process.HasExited) {
            $why += " (exit code $($process.ExitCode))"
        }
        # The pending first-line read completes once the process is gone; only then may the
        # rest of stdout be read (a StreamReader allows one read at a time).
        $stdoutText = '(not available)'
        try {
            if ($firstLine.Wait(2000)) {
                $rest = $process.StandardOutput.ReadToEndAsync()
                if ($rest.Wait(2000)) {
                    $stdoutText = [string]$firstLine.Result + [Environment]::NewLine + $rest.Result
                }
            }
        }
        catch {
            $stdoutText = "(could not be read: $($_.Exception.Message))"
        }
        $stderrText = if ($errorOutput.Wait(2000)) { $errorOutput.Result } else { '(not available)' }
        $process.Dispose()
        $newLine = [Environment]::NewLine
        throw ("The broker emulator '$executable' did not start: $why.$newLine" +
            "--- its standard error ---$newLine$stderrText$newLine--- its standard output ---$newLine$stdoutText")
    }

    $emulator = [pscustomobject]@{
        PSTypeName  = 'RdsSessions.Dev.Emulator'
        Url         = $url
        Port        = $port
        Process     = $process
        ErrorOutput = $errorOutput
    }
    $emulator | Add-Member -MemberType ScriptMethod -Name Stop -Value {
        $emulatorProcess = $this.Process
        if ($null -eq $emulatorProcess) {
            return
        }
        $this.Process = $null
        try {
            if (-not $emulatorProcess.HasExited) {
                # --exit-on-stdin-eof: closing stdin is the clean way to stop it on every platform.
                try { $emulatorProcess.StandardInput.Close() } catch { Write-Verbose "Could not close the emulator's stdin: $_" }
                if (-not $emulatorProcess.WaitForExit(5000)) {
                    $emulatorProcess.Kill($true)
                    $null = $emulatorProcess.WaitForExit(5000)
                }
            }
        }
        finally {
            $emulatorProcess.Dispose()
        }
    }
    $emulator | Add-Member -MemberType ScriptMethod -Name Output -Value {
        # What the emulator wrote to stderr (one line per request); complete once it has stopped.
        if ($this.ErrorOutput.Wait(2000)) { $this.ErrorOutput.Result } else { '(the emulator is still running)' }
    }
    $emulator
}

function Stop-RdsEmulator {
    <#
    .SYNOPSIS
        Stops an emulator that Start-RdsEmulator started; does nothing for $null or a stopped one.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipeline)]
        [AllowNull()]
        [object] $Emulator
    )

    process {
        if ($null -ne $Emulator) {
            $Emulator.Stop()
        }
    }
}

#endregion

Export-ModuleMember -Function @(
    'Get-RdsRepositoryRoot'
    'Get-RdsToolchain'
    'Get-RdsProjectVersion'
    'Get-RdsPlatform'
    'Get-RdsModuleDirectory'
    'Get-RdsModuleManifestPath'
    'Get-RdsModuleManifest'
    'Get-RdsEmulatorPath'
    'Get-RdsPwshPath'
    'Get-RdsPesterManifest'
    'Start-RdsEmulator'
    'Stop-RdsEmulator'
)
