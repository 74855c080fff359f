<#
.SYNOPSIS
    Builds, tests and demonstrates the RdsSessions PowerShell module.

.DESCRIPTION
    The one entry point of the project, on Windows, Linux and macOS, from any current directory.
    It drives cargo (the Rust library, the broker emulator and the binding generator) and dotnet
    (the C# cmdlets, which also lay the module out), then checks that
    out/RdsSessions/<version>/ holds every file the module needs. The version is read from
    [workspace.package] in Cargo.toml, the one version number of the project.

    Tasks run in the order given; Build runs at most once per invocation.

      Clean     Removes out/ and the dotnet bin/ and obj/ folders. With -Full it also runs
                cargo clean (target/ is kept otherwise, because rebuilding it is slow).
      Bindings  Regenerates bindings/Interop.cs from the Rust library (cargo run -p rds-bindgen).
      Build     Builds the native library and the emulator (cargo build --release --locked),
                fails if bindings/Interop.cs is stale, builds and lays out the module
                (dotnet build), then asserts the layout.
      Test      Build, then cargo test, dotnet test and, when Pester 5 is installed, the Pester
                suites in a child pwsh (results in out/pester-results.xml).
      Demo      Build, then starts the broker emulator and runs demo/demo.ps1 against it in a
                child pwsh.

    On machines that cannot reach crates.io, the build first runs ../shared/cargo-offline.sh
    (or the script that $env:RDS_OFFLINE_MIRROR names) to point cargo at the local crate
    mirror. Where neither exists, cargo uses the crate registry as usual.

.PARAMETER Task
    One or more of Build, Test, Demo, Bindings and Clean. Default: Build.

.PARAMETER Configuration
    The .NET build configuration: Release (default) or Debug. Rust is always built with
    --release, because the module layout and the tests take the native library and the
    emulator from target/release.

.PARAMETER Full
    With the Clean task, also run cargo clean (removes target/).

.EXAMPLE
    ./build.ps1

    Builds the module into out/RdsSessions/<version>/.

.EXAMPLE
    ./build.ps1 -Task Test

    Builds, then runs the Rust, xunit and Pester tests.

.EXAMPLE
    ./build.ps1 Clean, Build -Configuration Debug

    Rebuilds the module from scratch with a Debug build of the C# assembly.

.EXAMPLE
    ./build.ps1 -Task Bindings

    Regenerates bindings/Interop.cs after a change to the Rust FFI surface.

.EXAMPLE
    ./build.ps1 -Task Demo

    Builds, starts the emulator and runs demo/demo.ps1 against it.

.NOTES
    Requires PowerShell 7.4+, cargo (Rust 1.93+) and the .NET SDK (net8.0 for the module; the
    xunit tests target net10.0). Pester 5 is optional: without it the Test task warns and skips
    the Pester suites.
#>
#Requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bindings', 'Clean')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    [switch] $Full
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$script:RepoRoot = $PSScriptRoot
$script:BuildDone = $false

#region Helpers

function Write-Step {
    param([Parameter(Mandatory)] [string] $Message)
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Invoke-NativeCommand {
    <#
    .SYNOPSIS
        Runs a native tool from the repository root and throws, naming the command, when it fails.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [string] $FailureMessage
    )

    $commandLine = (@($FilePath) + $ArgumentList) -join ' '
    $command = Get-Command -Name $FilePath -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1
    if ($null -eq $command) {
        throw "'$FilePath' was not found. It is needed to run: $commandLine"
    }

    Write-Host "> $commandLine" -ForegroundColor DarkGray
    Push-Location -LiteralPath $script:RepoRoot
    try {
        & $command.Source @ArgumentList | Out-Host
        $exitCode = $LASTEXITCODE
    }
    finally {
        Pop-Location
    }

    if ($exitCode -ne 0) {
        $message = "'$commandLine' failed with exit code $exitCode."
        if ($FailureMessage) {
            $message += " $FailureMessage"
        }
        throw $message
    }
}

function Get-ProjectVersion {
    <#
    .SYNOPSIS
        The one version of the project: [workspace.package] version in Cargo.toml.
    #>
    $cargoToml = Join-Path $script:RepoRoot 'Cargo.toml'
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

function Get-NativeLayout {
    <#
    .SYNOPSIS
        Where the module loader looks for the native library on this platform:
        runtimes/<os>-<process architecture>/native/<file>.
    #>
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

function Get-ModuleDirectory {
    Join-Path $script:RepoRoot 'out' 'RdsSessions' (Get-ProjectVersion)
}

function ConvertTo-QuotedContent {
    # Escapes text for use inside a single-quoted PowerShell string.
    param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Text)
    $Text.Replace("'", "''")
}

function Invoke-OfflineMirrorSetup {
    <#
    .SYNOPSIS
        Points cargo at the local crate mirror on machines that have one (see ../shared/README.md).
    #>
    $defaultScript = Join-Path (Split-Path -Parent $script:RepoRoot) 'shared' 'cargo-offline.sh'
    $mirrorScript = $defaultScript
    if ($env:RDS_OFFLINE_MIRROR) {
        if (Test-Path -LiteralPath $env:RDS_OFFLINE_MIRROR -PathType Leaf) {
            $mirrorScript = $env:RDS_OFFLINE_MIRROR
        }
        elseif (-not (Test-Path -LiteralPath $defaultScript -PathType Leaf)) {
            throw "RDS_OFFLINE_MIRROR is set, but neither '$($env:RDS_OFFLINE_MIRROR)' nor '$defaultScript' is a file."
        }
    }
    elseif (-not (Test-Path -LiteralPath $defaultScript -PathType Leaf)) {
        # The usual case for users: cargo talks to the crate registry.
        return
    }

    if ($null -eq (Get-Command -Name 'bash' -CommandType Application -ErrorAction SilentlyContinue)) {
        Write-Warning "bash was not found, so '$mirrorScript' was not run; cargo will use its configured sources."
        return
    }
    Write-Step 'Offline crate mirror'
    Invoke-NativeCommand -FilePath 'bash' -ArgumentList @($mirrorScript)
}

function Assert-ModuleLayout {
    <#
    .SYNOPSIS
        Fails unless out/RdsSessions/<version>/ holds every file of the allow-list and the
        manifest carries the project version.
    #>
    $version = Get-ProjectVersion
    $layout = Get-NativeLayout
    $moduleDirectory = Get-ModuleDirectory
    $expected = @(
        'RdsSessions.psd1'
        'RdsSessions.dll'
        'RdsSessions.Format.ps1xml'
        (Join-Path 'runtimes' $layout.Rid 'native' $layout.LibraryName)
    )
    $missing = @($expected | Where-Object { -not (Test-Path -LiteralPath (Join-Path $moduleDirectory $_) -PathType Leaf) })
    if ($missing.Count -gt 0) {
        throw "The module layout at '$moduleDirectory' is incomplete. Missing: $($missing -join ', ')."
    }

    $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $moduleDirectory 'RdsSessions.psd1')
    if ([string]$manifest.ModuleVersion -ne $version) {
        throw "The laid-out manifest says ModuleVersion '$($manifest.ModuleVersion)', but Cargo.toml says '$version'."
    }

    $emulator = Join-Path $script:RepoRoot 'target' 'release' ('rds-emulator' + $layout.ExecutableSuffix)
    if (-not (Test-Path -LiteralPath $emulator -PathType Leaf)) {
        throw "The broker emulator '$emulator' was not built."
    }

    Write-Host "RdsSessions $version is laid out at $moduleDirectory ($($layout.Rid))." -ForegroundColor Green
}

#endregion

#region Tasks

function Invoke-CleanTask {
    Write-Step 'Clean'
    $paths = @(
        (Join-Path $script:RepoRoot 'out')
        (Join-Path $script:RepoRoot 'module' 'src' 'RdsSessions' 'bin')
        (Join-Path $script:RepoRoot 'module' 'src' 'RdsSessions' 'obj')
        (Join-Path $script:RepoRoot 'module' 'tests' 'RdsSessions.Tests' 'bin')
        (Join-Path $script:RepoRoot 'module' 'tests' 'RdsSessions.Tests' 'obj')
    )
    foreach ($path in $paths) {
        if (Test-Path -LiteralPath $path) {
            Remove-Item -LiteralPath $path -Recurse -Force
            Write-Host "Removed $path"
        }
    }

    if ($Full) {
        Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @('clean')
    }
    else {
        Write-Host 'Kept target/ (add -Full to run cargo clean as well).'
    }
    $script:BuildDone = $false
}

function Invoke-BindingsTask {
    Write-Step 'Bindings: regenerate bindings/Interop.cs'
    Invoke-OfflineMirrorSetup
    Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @('run', '--release', '--locked', '-p', 'rds-bindgen')
}

function Invoke-BuildTask {
    if ($script:BuildDone) {
        return
    }

    Invoke-OfflineMirrorSetup

    Write-Step 'Build: native library and broker emulator'
    Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @(
        'build', '--release', '--locked', '-p', 'rds_sessions', '-p', 'rds-emulator'
    )

    Write-Step 'Build: check that bindings/Interop.cs is current'
    Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @(
        'run', '--release', '--locked', '-p', 'rds-bindgen', '--', '--check'
    ) -FailureMessage 'bindings/Interop.cs does not match the Rust library: run ./build.ps1 -Task Bindings and commit the result.'

    Write-Step "Build: module ($Configuration)"
    Invoke-NativeCommand -FilePath 'dotnet' -ArgumentList @(
        'build', (Join-Path $script:RepoRoot 'module' 'src' 'RdsSessions'), '-c', $Configuration, '--nologo'
    )

    Write-Step 'Build: check the module layout'
    Assert-ModuleLayout
    $script:BuildDone = $true
}

function Invoke-PesterTests {
    $pester = Get-Module -ListAvailable -Name 'Pester' |
        Where-Object { $_.Version -ge [version]'5.0.0' } |
        Sort-Object -Property Version -Descending |
        Select-Object -First 1
    if ($null -eq $pester) {
        Write-Warning ('Pester 5 is not installed, so the Pester tests were skipped. ' +
            'Install it with: Install-PSResource -Name Pester (or Install-Module -Name Pester -MinimumVersion 5.0 -Scope CurrentUser).')
        return
    }

    $outDirectory = Join-Path $script:RepoRoot 'out'
    $null = New-Item -ItemType Directory -Path $outDirectory -Force
    $resultPath = Join-Path $outDirectory 'pester-results.xml'

    # Runs in a child pwsh: the module's assemblies cannot be unloaded from this process, and
    # -NonInteractive turns a forgotten -NoUserPrompt into an error instead of a hung prompt.
    $command = @'
Import-Module -Name '<PesterManifest>' -ErrorAction Stop
$configuration = [PesterConfiguration]::Default
$configuration.Run.Path = '<TestPath>'
$configuration.Run.Exit = $true
$configuration.Output.Verbosity = 'Detailed'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = '<ResultPath>'
Invoke-Pester -Configuration $configuration
'@
    $command = $command.Replace('<PesterManifest>', (ConvertTo-QuotedContent $pester.Path))
    $command = $command.Replace('<TestPath>', (ConvertTo-QuotedContent (Join-Path $script:RepoRoot 'Pester')))
    $command = $command.Replace('<ResultPath>', (ConvertTo-QuotedContent $resultPath))
    $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($command))

    Write-Host "Pester $($pester.Version) from $($pester.ModuleBase)"
    # Get-RdsPwshPath: the pwsh running this build, if possible (shared with the test suites).
    . (Join-Path $script:RepoRoot 'Pester' 'common.ps1')
    Invoke-NativeCommand -FilePath (Get-RdsPwshPath) -ArgumentList @(
        '-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded
    ) -FailureMessage "Pester reported failures; see the output above and $resultPath."
}

function Invoke-TestTask {
    Invoke-BuildTask

    Write-Step 'Test: cargo test'
    Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @('test', '--workspace', '--locked')

    Write-Step "Test: dotnet test ($Configuration)"
    Invoke-NativeCommand -FilePath 'dotnet' -ArgumentList @(
        'test', (Join-Path $script:RepoRoot 'module' 'tests' 'RdsSessions.Tests'), '-c', $Configuration, '--nologo'
    )

    Write-Step 'Test: Pester'
    Invoke-PesterTests
}

function Invoke-DemoTask {
    Invoke-BuildTask

    Write-Step 'Demo'
    # Start-RdsEmulator, Stop-RdsEmulator, Get-RdsModuleManifest and Get-RdsPwshPath.
    . (Join-Path $script:RepoRoot 'Pester' 'common.ps1')

    $emulator = Start-RdsEmulator
    try {
        Write-Host "Broker emulator listening on $($emulator.Url)"
        Invoke-NativeCommand -FilePath (Get-RdsPwshPath) -ArgumentList @(
            '-NoLogo', '-NoProfile', '-NonInteractive',
            '-File', (Join-Path $script:RepoRoot 'demo' 'demo.ps1'),
            '-EmulatorUrl', $emulator.Url,
            '-ManifestPath', (Get-RdsModuleManifest)
        )
    }
    finally {
        Stop-RdsEmulator -Emulator $emulator
    }
}

#endregion

foreach ($name in $Task) {
    switch ($name) {
        'Clean' { Invoke-CleanTask }
        'Bindings' { Invoke-BindingsTask }
        'Build' { Invoke-BuildTask }
        'Test' { Invoke-TestTask }
        'Demo' { Invoke-DemoTask }
    }
}

Write-Host "Done: $($Task -join ', ')." -ForegroundColor Green
