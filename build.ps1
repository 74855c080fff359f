<#
.SYNOPSIS
    Builds, tests and demonstrates the RdsSessions PowerShell module.

.DESCRIPTION
    The one implementation of the project's build, test and demo steps, on Windows, Linux and
    macOS, from any current directory. scripts/build.sh, scripts/test.sh and scripts/demo.sh
    install pwsh and Pester when needed (tools/install-toolchain.sh) and then run this script, so
    the bash commands and the PowerShell commands cannot drift apart.

    Tasks run in the order given; Build runs at most once per invocation.

      Clean     Removes out/ and the dotnet bin/ and obj/ folders. With -Full it also runs
                cargo clean (target/ is kept otherwise, because rebuilding it is slow).
      Bindings  Regenerates bindings/Interop.cs from the Rust library.
      Build     One cargo invocation builds every workspace library and binary (release): the
                native library, the emulator and the binding generator, with one feature set,
                so a second build compiles nothing. Then it fails if bindings/Interop.cs is
                stale, compiles the help (docs/en-US -> out/help/en-US: MAML and about topics,
                skipped when nothing changed), builds and lays out the module (dotnet build,
                which copies the help into en-US/) and asserts the layout.
      Package   Build (or, with -NoBuild, check the layout), then the module as it is published:
                the layout plus LICENSE and the native library of every platform under
                runtimes/<rid>/native/ (win, linux and osx; x64 and arm64), published with
                Publish-PSResource into a temporary local repository, which gives
                out/package/RdsSessions.<version>.nupkg. The native libraries of other
                platforms come from -RuntimesPath; a missing one fails the task unless
                -AllowMissingRuntimes is given (local runs, which only build their own).
      Test      Build, then every test of the project, each runner counted, ending with one
                line "N passed, N failed":
                  cargo fmt --check and cargo clippy -D warnings (one check each),
                  cargo test (core against the emulator, the C ABI through dlopen, bindings),
                  valgrind leak check of the C ABI tests (Linux, when installed; one check),
                  dotnet test (xunit: the built module in the hosted engine),
                  Pester (Pester/: the built module in real pwsh; results in out/test-results).
      Demo      Build, then starts the broker emulator with its sample data and runs
                demo/demo.ps1 against it in a child pwsh.

    On machines that cannot reach crates.io, the build first runs ../shared/cargo-offline.sh
    (or the script that $env:RDS_OFFLINE_MIRROR names) to point cargo at the local crate
    mirror. Where neither exists, cargo uses the crate registry as usual.

.PARAMETER Task
    One or more of Build, Test, Demo, Package, Bindings and Clean. Default: Build.

.PARAMETER Configuration
    The .NET build configuration: Release (default) or Debug. Rust is always built with
    --release, because the module layout and the tests take the native library and the
    emulator from target/release.

.PARAMETER Full
    With the Clean task, also run cargo clean (removes target/).

.PARAMETER Arm
    Demo: the ARM variant (bash scripts/demo.sh --arm): the same classic-style script
    (demo/nightly-logoff.ps1) runs unchanged against the emulator's Azure Resource Manager
    flavour with only a mapping file added.

.PARAMETER NoBuild
    Test, Demo and Package use what the last build left (after checking the layout) instead of building.

.PARAMETER RuntimesPath
    Package: where the native libraries of the platforms this machine does not build are, laid out
    as <rid>/native/<library> (CI downloads each platform's build artifact there). Default:
    out/runtimes. This machine's own library comes from the build.

.PARAMETER PackagePath
    Package: the folder the .nupkg is written to. Default: out/package.

.PARAMETER AllowMissingRuntimes
    Package: leave out the platforms whose native library is missing (with a warning) instead
    of failing. For local packages; a release package has all six.

.EXAMPLE
    ./build.ps1

    Builds the module into out/RdsSessions/<version>/.

.EXAMPLE
    ./build.ps1 -Task Test

    Builds, then runs every test (the same as bash scripts/test.sh).

.EXAMPLE
    ./build.ps1 Clean, Build -Configuration Debug

    Rebuilds the module from scratch with a Debug build of the C# assembly.

.EXAMPLE
    ./build.ps1 -Task Bindings

    Regenerates bindings/Interop.cs after a change to the Rust FFI surface.

.EXAMPLE
    ./build.ps1 -Task Demo

    Builds, starts the emulator and runs demo/demo.ps1 against it.

.EXAMPLE
    ./build.ps1 -Task Package -AllowMissingRuntimes

    Builds and packs out/package/RdsSessions.<version>.nupkg with this machine's native library only.

.NOTES
    Requires PowerShell 7.4+, cargo (Rust 1.93+) and the .NET SDK (net8.0 for the module; the
    xunit tests and tools/HelpBuilder target net10.0). Where platyPS is installed, the help is
    compiled with its New-ExternalHelp instead of tools/HelpBuilder. The Test task needs Pester 5:
    it uses yours when it is recent enough (tools/toolchain.json), otherwise it installs the
    pinned one into the project's cache with tools/install-toolchain.sh. rustfmt, clippy and
    valgrind are used when installed. Package uses Microsoft.PowerShell.PSResourceGet, which
    ships with PowerShell 7.4+.
#>
#Requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Package', 'Bindings', 'Clean')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    [switch] $Full,

    [switch] $NoBuild,

    [string] $RuntimesPath,

    [string] $PackagePath,

    [switch] $AllowMissingRuntimes,

    [switch] $Arm
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# Exit codes of native tools are checked by hand (Invoke-NativeCommand), with messages that say
# what failed; a non-zero exit must not throw on its own in the middle of a test run.
$PSNativeCommandUseErrorActionPreference = $false
$ProgressPreference = 'SilentlyContinue'
if ([Console]::IsOutputRedirected) {
    # A log (CI, a pipe): plain text, not ANSI colour sequences, which pwsh writes to pipes too.
    $PSStyle.OutputRendering = 'PlainText'
}

$script:RepoRoot = $PSScriptRoot
$script:BuildDone = $false
$script:TestSummary = $null
# The MAML file PowerShell looks for beside the module's assembly (<culture>/<Assembly>-Help.xml).
$script:HelpFileName = 'RdsSessions.dll-Help.xml'
# Every platform a release package carries: RID (the loader's runtimes/<rid>/native/) -> library.
$script:PackageRuntimes = [ordered]@{
    'win-x64'     = 'rds_sessions.dll'
    'win-arm64'   = 'rds_sessions.dll'
    'linux-x64'   = 'librds_sessions.so'
    'linux-arm64' = 'librds_sessions.so'
    'osx-x64'     = 'librds_sessions.dylib'
    'osx-arm64'   = 'librds_sessions.dylib'
}

Import-Module -Name (Join-Path $PSScriptRoot 'tools' 'RdsSessions.Dev.psm1') -Force

#region Helpers

function Write-Step {
    param([Parameter(Mandatory)] [string] $Message)
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Invoke-NativeCommand {
    <#
    .SYNOPSIS
        Runs a native tool from the repository root and throws, naming the command, when it fails.
    .PARAMETER LogPath
        Also writes the tool's standard output to this file (its standard error goes to the
        console only), for the test runners whose results are read from it.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [string] $FailureMessage,
        [string] $LogPath
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
        if ($LogPath) {
            & $command.Source @ArgumentList | Tee-Object -FilePath $LogPath | Out-Host
        }
        else {
            & $command.Source @ArgumentList | Out-Host
        }
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

function Test-CommandAvailable {
    param([Parameter(Mandatory)] [string] $Name)
    $null -ne (Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue)
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

    if (-not (Test-CommandAvailable 'bash')) {
        Write-Warning "bash was not found, so '$mirrorScript' was not run; cargo will use its configured sources."
        return
    }
    Write-Step 'Offline crate mirror'
    Invoke-NativeCommand -FilePath 'bash' -ArgumentList @($mirrorScript)
}

function Get-RustBinaryPath {
    param([Parameter(Mandatory)] [string] $Name)
    Join-Path $script:RepoRoot 'target' 'release' ($Name + (Get-RdsPlatform).ExecutableSuffix)
}

function Invoke-CargoBuild {
    <#
    .SYNOPSIS
        The only cargo build of the Build and Bindings tasks. Every workspace library and binary
        in one invocation: cargo unifies features over the packages it is asked to build, so
        building subsets (-p rds_sessions here, -p rds-bindgen there) gave rds_sessions two
        feature sets that overwrote each other's cdylib, and every build recompiled it.
    #>
    Invoke-OfflineMirrorSetup
    Write-Step 'Build: native library, broker emulator and binding generator (cargo, release)'
    Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @('build', '--release', '--locked', '--workspace', '--lib', '--bins')
}

function Assert-ModuleLayout {
    <#
    .SYNOPSIS
        Fails unless out/RdsSessions/<version>/ holds every file of the allow-list, the manifest
        carries the project version and the emulator is built.
    #>
    $version = Get-RdsProjectVersion
    $platform = Get-RdsPlatform
    $moduleDirectory = Get-RdsModuleDirectory
    $expected = @(
        'RdsSessions.psd1'
        'RdsSessions.dll'
        'RdsSessions.Format.ps1xml'
        (Join-Path 'runtimes' $platform.Rid 'native' $platform.LibraryName)
        (Join-Path 'en-US' $script:HelpFileName)
        (Join-Path 'en-US' 'about_RdsSessions.help.txt')
    )
    $missing = @($expected | Where-Object { -not (Test-Path -LiteralPath (Join-Path $moduleDirectory $_) -PathType Leaf) })
    if ($missing.Count -gt 0) {
        throw "The module layout at '$moduleDirectory' is incomplete (run ./build.ps1). Missing: $($missing -join ', ')."
    }

    $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $moduleDirectory 'RdsSessions.psd1')
    if ([string]$manifest.ModuleVersion -ne $version) {
        throw "The laid-out manifest says ModuleVersion '$($manifest.ModuleVersion)', but Cargo.toml says '$version'."
    }

    $emulator = Get-RdsEmulatorPath
    if (-not (Test-Path -LiteralPath $emulator -PathType Leaf)) {
        throw "The broker emulator '$emulator' was not built (run ./build.ps1)."
    }

    Write-Host "RdsSessions $version is laid out at $moduleDirectory ($($platform.Rid))." -ForegroundColor Green
}

function Invoke-HelpBuild {
    <#
    .SYNOPSIS
        Compiles docs/en-US (platyPS markdown) into out/help/en-US: RdsSessions.dll-Help.xml and
        about_*.help.txt, which the module's layout step copies into en-US/. Skipped when every
        output is newer than every input (the markdown, its folder, the tool's sources).
    .DESCRIPTION
        With platyPS installed its New-ExternalHelp does the work; otherwise tools/HelpBuilder
        (Markdig and YamlDotNet; platyPS is not needed to build). Both fail on a malformed file,
        naming it.
    #>
    $source = Join-Path $script:RepoRoot 'docs' 'en-US'
    $output = Join-Path $script:RepoRoot 'out' 'help' 'en-US'
    if (-not (Test-Path -LiteralPath $source -PathType Container)) {
        throw "The help source '$source' does not exist: every cmdlet's help is written there (platyPS markdown)."
    }

    $markdown = @(Get-ChildItem -LiteralPath $source -Filter '*.md' -File)
    $toolDirectory = Join-Path $script:RepoRoot 'tools' 'HelpBuilder'
    $inputs = @($markdown) + @(Get-Item -LiteralPath $source) +
        @(Get-ChildItem -LiteralPath $toolDirectory -File | Where-Object { $_.Extension -in '.cs', '.csproj' })
    $outputs = @(Join-Path $output $script:HelpFileName) + @(
        $markdown | Where-Object { $_.Name -like 'about_*' } | ForEach-Object {
            Join-Path $output (($_.BaseName -replace '\.help$', '') + '.help.txt')
        })
    $outputItems = @($outputs | ForEach-Object { Get-Item -LiteralPath $_ -ErrorAction SilentlyContinue })
    if ($outputItems.Count -eq $outputs.Count) {
        $newestInput = ($inputs | Measure-Object -Property LastWriteTimeUtc -Maximum).Maximum
        $oldestOutput = ($outputItems | Measure-Object -Property LastWriteTimeUtc -Minimum).Minimum
        if ($oldestOutput -gt $newestInput) {
            Write-Step 'Build: help is up to date (docs/en-US -> out/help/en-US)'
            return
        }
    }

    $platyPS = Get-Module -ListAvailable -Name 'platyPS' | Sort-Object -Property Version -Descending | Select-Object -First 1
    if ($null -ne $platyPS) {
        # Kept small on purpose: the project's own tool is what CI and this repository's machines use.
        Write-Step "Build: help with platyPS $($platyPS.Version) (New-ExternalHelp)"
        Import-Module -Name $platyPS.Path -ErrorAction Stop
        Remove-Item -LiteralPath $output -Recurse -Force -ErrorAction SilentlyContinue
        $null = New-ExternalHelp -Path $source -OutputPath $output -Force -ErrorAction Stop
        # platyPS names about topics after the markdown file; about_X.help.md must give about_X.help.txt.
        Get-ChildItem -LiteralPath $output -Filter '*.help.help.txt' | ForEach-Object {
            Move-Item -LiteralPath $_.FullName -Destination (Join-Path $output ($_.Name -replace '\.help\.help\.txt$', '.help.txt')) -Force
        }
        return
    }

    Write-Step 'Build: help (tools/HelpBuilder: docs/en-US -> out/help/en-US)'
    Invoke-NativeCommand -FilePath 'dotnet' -ArgumentList @('build', $toolDirectory, '-c', 'Release', '--nologo', '-v', 'quiet')
    Invoke-NativeCommand -FilePath 'dotnet' -ArgumentList @(
        (Get-HelpBuilderPath), 'build', '--source', $source, '--output', $output,
        '--help-file', $script:HelpFileName, '--module', 'RdsSessions'
    ) -FailureMessage 'Fix the help markdown named above (platyPS schema: see tools/HelpBuilder/CommandHelpReader.cs).'
}

function Get-HelpBuilderPath {
    Join-Path $script:RepoRoot 'tools' 'HelpBuilder' 'bin' 'Release' 'net10.0' 'RdsSessions.HelpBuilder.dll'
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
        (Join-Path $script:RepoRoot 'module' 'tools' 'RdsSessions.ScriptHost' 'bin')
        (Join-Path $script:RepoRoot 'module' 'tools' 'RdsSessions.ScriptHost' 'obj')
        (Join-Path $script:RepoRoot 'module' 'bench' 'RdsSessions.Benchmark' 'bin')
        (Join-Path $script:RepoRoot 'module' 'bench' 'RdsSessions.Benchmark' 'obj')
        (Join-Path $script:RepoRoot 'tools' 'HelpBuilder' 'bin')
        (Join-Path $script:RepoRoot 'tools' 'HelpBuilder' 'obj')
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
    # The same cargo build as the Build task (nothing to compile when it is current), then the
    # generator binary it produced.
    Invoke-CargoBuild
    Invoke-NativeCommand -FilePath (Get-RustBinaryPath 'rds-bindgen')
}

function Invoke-BuildTask {
    if ($script:BuildDone) {
        return
    }

    Invoke-CargoBuild

    Write-Step 'Build: check that bindings/Interop.cs is current'
    Invoke-NativeCommand -FilePath (Get-RustBinaryPath 'rds-bindgen') -ArgumentList @('--check') `
        -FailureMessage 'bindings/Interop.cs does not match the Rust library: run ./build.ps1 -Task Bindings and commit the result.'

    Invoke-HelpBuild

    Write-Step "Build: module ($Configuration)"
    Invoke-NativeCommand -FilePath 'dotnet' -ArgumentList @(
        'build', (Join-Path $script:RepoRoot 'module' 'src' 'RdsSessions'), '-c', $Configuration, '--nologo', '-v', 'quiet'
    )

    Write-Step 'Build: check the module layout'
    Assert-ModuleLayout
    $script:BuildDone = $true
}

function Invoke-BuildOrCheck {
    # Test and Demo: build, or with -NoBuild only check that a build is there.
    if ($NoBuild) {
        Assert-ModuleLayout
    }
    else {
        Invoke-BuildTask
    }
}

function Invoke-TestRunner {
    <#
    .SYNOPSIS
        Runs one test runner, times it and records its counts. -Action returns
        @{ Passed; Failed; Skipped } (missing keys are 0); when it throws, the runner counts one
        failure more than it reported, so a crash can never look like a pass.
    #>
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [scriptblock] $Action,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[object]] $Results
    )

    Write-Step "Test: $Name"
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $counts = @{ Passed = 0; Failed = 0; Skipped = 0 }
    $note = ''
    try {
        $reported = & $Action
        if ($reported -is [System.Collections.IDictionary]) {
            foreach ($key in 'Passed', 'Failed', 'Skipped') {
                if ($reported.Contains($key)) { $counts[$key] = [int]$reported[$key] }
            }
            if ($reported.Contains('Note')) { $note = [string]$reported['Note'] }
        }
    }
    catch {
        Write-Host "$Name failed: $($_.Exception.Message)" -ForegroundColor Red
        $counts.Failed++
        $note = $_.Exception.Message
    }
    $watch.Stop()
    $Results.Add([pscustomobject]@{
            Runner  = $Name
            Passed  = $counts.Passed
            Failed  = $counts.Failed
            Skipped = $counts.Skipped
            Seconds = $watch.Elapsed.TotalSeconds
            Note    = $note
        })
}

function Invoke-CheckRunner {
    # A tool that passes or fails as a whole (fmt, clippy, valgrind): one check.
    param([Parameter(Mandatory)] [scriptblock] $Action)
    & $Action
    @{ Passed = 1 }
}

function Get-CargoTestCounts {
    # Sums cargo's "test result: ok. 12 passed; 0 failed; 1 ignored; ..." lines (libtest has no
    # stable machine-readable output on the stable toolchain).
    param([Parameter(Mandatory)] [string] $LogPath)
    $counts = @{ Passed = 0; Failed = 0; Skipped = 0 }
    foreach ($match in (Select-String -LiteralPath $LogPath -Pattern 'test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored')) {
        $counts.Passed += [int]$match.Matches[0].Groups[1].Value
        $counts.Failed += [int]$match.Matches[0].Groups[2].Value
        $counts.Skipped += [int]$match.Matches[0].Groups[3].Value
    }
    $counts
}

function Get-TrxCounts {
    # The counters of a Visual Studio test results file (dotnet test --logger trx).
    param([Parameter(Mandatory)] [string] $Path)
    $counters = ([xml](Get-Content -LiteralPath $Path -Raw)).TestRun.ResultSummary.Counters
    @{
        Passed  = [int]$counters.passed
        Failed  = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        Skipped = [int]$counters.notExecuted
    }
}

function Invoke-PesterRunner {
    <#
    .SYNOPSIS
        Runs Pester/ in a child pwsh (tools/Invoke-RdsPester.ps1) and returns its counts, read from
        the summary that script writes from Invoke-Pester's result object.
    .DESCRIPTION
        A child process, because the module's assemblies cannot be unloaded from this one, and
        -NonInteractive turns a forgotten -NoUserPrompt into an error instead of a hung prompt.
        -File (not -EncodedCommand) and -OutputFormat Text keep its output plain text in logs.
    #>
    param([Parameter(Mandatory)] [string] $ResultDirectory)

    $pester = Get-RdsPesterManifest
    $summaryPath = Join-Path $ResultDirectory 'pester-summary.json'
    Remove-Item -LiteralPath $summaryPath -Force -ErrorAction SilentlyContinue
    # The suites fail instead of skipping when the build is missing (see Pester/common.ps1).
    $previous = $env:RDSSESSIONS_REQUIRE_BUILD
    $env:RDSSESSIONS_REQUIRE_BUILD = '1'
    try {
        $failure = $null
        try {
            Invoke-NativeCommand -FilePath (Get-RdsPwshPath) -ArgumentList @(
                '-NoLogo', '-NoProfile', '-NonInteractive', '-OutputFormat', 'Text',
                '-File', (Join-Path $script:RepoRoot 'tools' 'Invoke-RdsPester.ps1'),
                '-PesterManifest', $pester,
                '-ResultDirectory', $ResultDirectory
            )
        }
        catch {
            # Failed tests make the exit code 1; the counts below tell how many.
            $failure = $_
        }
    }
    finally {
        $env:RDSSESSIONS_REQUIRE_BUILD = $previous
    }
    if (-not (Test-Path -LiteralPath $summaryPath -PathType Leaf)) {
        if ($failure) { throw $failure }
        throw "Pester wrote no summary ('$summaryPath')."
    }
    $summary = Get-Content -LiteralPath $summaryPath -Raw | ConvertFrom-Json
    $counts = @{ Passed = [int]$summary.Passed; Failed = [int]$summary.Failed; Skipped = [int]$summary.Skipped }
    if ($failure -and $counts.Failed -eq 0) {
        throw $failure
    }
    $counts
}

function Invoke-TestTask {
    $results = [System.Collections.Generic.List[object]]::new()
    $resultDirectory = Join-Path $script:RepoRoot 'out' 'test-results'
    if (Test-Path -LiteralPath $resultDirectory) {
        Remove-Item -LiteralPath $resultDirectory -Recurse -Force
    }
    $null = New-Item -ItemType Directory -Path $resultDirectory -Force

    # The actions run in scopes of Invoke-TestRunner's, so they share state through this table.
    $state = @{ Built = $false }
    Invoke-TestRunner -Name 'build' -Results $results -Action {
        Invoke-BuildOrCheck
        $state.Built = $true
    }

    if (Test-CommandAvailable 'rustfmt') {
        Invoke-TestRunner -Name 'cargo fmt --check' -Results $results -Action {
            Invoke-CheckRunner { Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @('fmt', '--all', '--check') }
        }
    }
    else {
        Write-Warning 'rustfmt is not installed; cargo fmt --check skipped (rustup component add rustfmt).'
    }

    if (Test-CommandAvailable 'cargo-clippy') {
        Invoke-TestRunner -Name 'cargo clippy' -Results $results -Action {
            Invoke-CheckRunner {
                Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @(
                    'clippy', '--workspace', '--all-targets', '--locked', '--', '-D', 'warnings')
            }
        }
    }
    else {
        Write-Warning 'clippy is not installed; cargo clippy skipped (rustup component add clippy).'
    }

    Invoke-TestRunner -Name 'cargo test' -Results $results -Action {
        $log = Join-Path $resultDirectory 'cargo-test.log'
        $failure = $null
        try {
            # Debug profile, its own artifacts: the release build above is left untouched.
            # The C ABI tests dlopen target/debug/librds_sessions.so, which `cargo test` builds
            # but leaves in deps/. `cargo build --all-targets` selects the same targets, and so
            # the same features, as `cargo test --workspace`: it compiles nothing more and puts
            # that very library in target/debug/ (a `cargo build -p rds_sessions` would compile
            # it again with other features, and the two builds would keep replacing each other).
            Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @('build', '--workspace', '--all-targets', '--locked')
            Invoke-NativeCommand -FilePath 'cargo' -ArgumentList @('test', '--workspace', '--locked', '--no-fail-fast') -LogPath $log
        }
        catch {
            $failure = $_
        }
        $counts = if (Test-Path -LiteralPath $log) { Get-CargoTestCounts -LogPath $log } else { @{ Passed = 0; Failed = 0; Skipped = 0 } }
        if ($failure -and $counts.Failed -eq 0) { throw $failure }
        $counts
    }

    if ($IsLinux -and (Test-CommandAvailable 'valgrind')) {
        Invoke-TestRunner -Name 'valgrind (C ABI tests)' -Results $results -Action {
            Invoke-CheckRunner { Invoke-NativeCommand -FilePath 'bash' -ArgumentList @((Join-Path $script:RepoRoot 'scripts' 'valgrind.sh')) }
        }
    }
    elseif ($IsLinux) {
        Write-Warning 'valgrind is not installed; leak check skipped (Debian: apt-get install valgrind).'
    }

    Invoke-TestRunner -Name 'dotnet test (xunit)' -Results $results -Action {
        if (-not $state.Built) { throw 'not run: the build failed' }
        $trx = Join-Path $resultDirectory 'xunit.trx'
        $failure = $null
        try {
            Invoke-NativeCommand -FilePath 'dotnet' -ArgumentList @(
                'test', (Join-Path $script:RepoRoot 'module' 'tests' 'RdsSessions.Tests'), '-c', $Configuration, '--nologo',
                '--logger', 'trx;LogFileName=xunit.trx', '--results-directory', $resultDirectory)
        }
        catch {
            $failure = $_
        }
        if (-not (Test-Path -LiteralPath $trx)) {
            if ($failure) { throw $failure }
            throw "dotnet test wrote no results file ('$trx')."
        }
        $counts = Get-TrxCounts -Path $trx
        if ($failure -and $counts.Failed -eq 0) { throw $failure }
        $counts
    }

    Invoke-TestRunner -Name 'Pester (pwsh)' -Results $results -Action {
        if (-not $state.Built) { throw 'not run: the build failed' }
        Invoke-PesterRunner -ResultDirectory $resultDirectory
    }

    $script:TestSummary = $results
}

function Write-TestSummary {
    # Per-runner counts and times, then the one line CI reads. The per-runner lines are laid out
    # so that none of them looks like that final line.
    param([Parameter(Mandatory)] [System.Collections.Generic.List[object]] $Results)

    Write-Step 'Test summary'
    foreach ($result in $Results) {
        $line = '  {0,-24} passed {1,5}   failed {2,4}   skipped {3,4}   {4,7:N1} s' -f $result.Runner, $result.Passed, $result.Failed, $result.Skipped, $result.Seconds
        if ($result.Failed -gt 0 -and $result.Note) {
            $line += "   ($($result.Note))"
        }
        Write-Host $line
    }
    $passed = ($Results | Measure-Object -Property Passed -Sum).Sum
    $failed = ($Results | Measure-Object -Property Failed -Sum).Sum
    $seconds = ($Results | Measure-Object -Property Seconds -Sum).Sum
    Write-Host ('  {0,-24} {1,7:N1} s' -f 'total time', $seconds)
    Write-Host "$passed passed, $failed failed"
    $failed
}

function Invoke-DemoTask {
    Invoke-BuildOrCheck

    Write-Step 'Demo'
    $emulator = Start-RdsEmulator -DataPath (Join-Path $script:RepoRoot 'rust' 'emulator' 'data' 'sample.json')
    try {
        Write-Host "Broker emulator listening on $($emulator.Url) (sample data)"
        $pwsh = Get-RdsPwshPath
        # Not through Invoke-NativeCommand: the demo writes straight to this console, colours
        # and table widths as pwsh shows them to a user.
        $demoArguments = @('-EmulatorUrl', $emulator.Url, '-ManifestPath', (Get-RdsModuleManifest))
        if ($Arm) {
            # The same classic-style script against the emulator's ARM flavour, with a mapping.
            $demoArguments += '-Arm'
        }
        & $pwsh -NoLogo -NoProfile -NonInteractive -File (Join-Path $script:RepoRoot 'demo' 'demo.ps1') @demoArguments
        if ($LASTEXITCODE -ne 0) {
            throw "demo/demo.ps1 failed with exit code $LASTEXITCODE. The emulator's log:$([Environment]::NewLine)$($emulator.Stop(); $emulator.Output())"
        }
    }
    finally {
        Stop-RdsEmulator -Emulator $emulator
    }
}

function Get-NativeLibraryRid {
    <#
    .SYNOPSIS
        The RID a native library was built for, read from its header (ELF, Mach-O or PE):
        'linux-x64', 'osx-arm64', 'win-arm64', ...; 'osx-universal' for a fat Mach-O; $null when
        it is none of those, so a library put into the wrong runtimes/<rid>/ folder is caught.
    #>
    param([Parameter(Mandatory)] [string] $Path)

    $stream = [System.IO.File]::OpenRead($Path)
    try {
        $header = [byte[]]::new([Math]::Min($stream.Length, 65536))
        $read = $stream.Read($header, 0, $header.Length)
    }
    finally {
        $stream.Dispose()
    }
    if ($read -lt 64) {
        return $null
    }
    $uint16 = { param($offset) [System.BitConverter]::ToUInt16($header, $offset) }
    $uint32 = { param($offset) [System.BitConverter]::ToUInt32($header, $offset) }

    if ($header[0] -eq 0x7F -and $header[1] -eq 0x45 -and $header[2] -eq 0x4C -and $header[3] -eq 0x46) {
        # ELF: e_machine at 18 (little-endian files only, as both targets are).
        switch (& $uint16 18) {
            0x3E { return 'linux-x64' }
            0xB7 { return 'linux-arm64' }
        }
        return $null
    }
    $magic = & $uint32 0
    if ($magic -eq 0xFEEDFACFu) {
        # 64-bit Mach-O: cputype at 4.
        switch (& $uint32 4) {
            0x01000007 { return 'osx-x64' }
            0x0100000C { return 'osx-arm64' }
        }
        return $null
    }
    if ($magic -eq 0xBEBAFECAu) {
        return 'osx-universal'
    }
    if ($header[0] -eq 0x4D -and $header[1] -eq 0x5A) {
        # PE: "PE\0\0" at e_lfanew, then the machine.
        $peOffset = [int](& $uint32 0x3C)
        if ($peOffset -gt 0 -and $peOffset + 6 -le $read -and (& $uint32 $peOffset) -eq 0x00004550) {
            switch (& $uint16 ($peOffset + 4)) {
                0x8664 { return 'win-x64' }
                0xAA64 { return 'win-arm64' }
            }
        }
        return $null
    }
    $null
}

function Invoke-PackageTask {
    Invoke-BuildOrCheck

    $version = Get-RdsProjectVersion
    $platform = Get-RdsPlatform
    $moduleDirectory = Get-RdsModuleDirectory
    $runtimesSource = if ($RuntimesPath) {
        $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($RuntimesPath)
    }
    else {
        Join-Path $script:RepoRoot 'out' 'runtimes'
    }
    $packageDirectory = if ($PackagePath) {
        $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($PackagePath)
    }
    else {
        Join-Path $script:RepoRoot 'out' 'package'
    }

    Write-Step "Package: RdsSessions $version"
    $stagingRoot = Join-Path $packageDirectory 'staging'
    $staging = Join-Path $stagingRoot 'RdsSessions'
    if (Test-Path -LiteralPath $stagingRoot) {
        Remove-Item -LiteralPath $stagingRoot -Recurse -Force
    }
    $null = New-Item -ItemType Directory -Path $staging -Force

    # The module as laid out (allow-list; not the C# XML doc file), its help and the license.
    foreach ($file in 'RdsSessions.psd1', 'RdsSessions.dll', 'RdsSessions.pdb', 'RdsSessions.Format.ps1xml') {
        Copy-Item -LiteralPath (Join-Path $moduleDirectory $file) -Destination $staging
    }
    $null = New-Item -ItemType Directory -Path (Join-Path $staging 'en-US')
    Get-ChildItem -LiteralPath (Join-Path $moduleDirectory 'en-US') -File |
        Where-Object { $_.Name -eq $script:HelpFileName -or $_.Name -like 'about_*.help.txt' } |
        Copy-Item -Destination (Join-Path $staging 'en-US')
    Copy-Item -LiteralPath (Join-Path $script:RepoRoot 'LICENSE') -Destination $staging

    # runtimes/<rid>/native/: this machine's library from the build, the others from -RuntimesPath.
    $packed = [System.Collections.Generic.List[string]]::new()
    $missing = [System.Collections.Generic.List[string]]::new()
    foreach ($rid in $script:PackageRuntimes.Keys) {
        $library = $script:PackageRuntimes[$rid]
        $candidates = @()
        if ($rid -eq $platform.Rid) {
            $candidates += Join-Path $moduleDirectory 'runtimes' $rid 'native' $library
        }
        $candidates += Join-Path $runtimesSource $rid 'native' $library
        $found = $candidates | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
        if (-not $found) {
            $missing.Add($rid)
            continue
        }
        $builtFor = Get-NativeLibraryRid -Path $found
        if ($builtFor -ne $rid -and -not ($builtFor -eq 'osx-universal' -and $rid -like 'osx-*')) {
            $what = if ($builtFor) { "a $builtFor library" } else { 'not a Windows, Linux or macOS library of x64 or arm64' }
            throw "'$found' is $what, not a $rid library: the runtimes folders are mixed up."
        }
        $destination = Join-Path $staging 'runtimes' $rid 'native'
        $null = New-Item -ItemType Directory -Path $destination -Force
        Copy-Item -LiteralPath $found -Destination $destination
        Write-Host "  runtimes/$rid/native/$library <- $found"
        $packed.Add($rid)
    }
    if ($missing.Count -gt 0) {
        $message = "No native library for $($missing -join ', ') (looked for $runtimesSource/<rid>/native/<library>)."
        if (-not $AllowMissingRuntimes) {
            throw ("$message A release package carries all $($script:PackageRuntimes.Count) platforms: put their libraries " +
                "there (CI downloads each platform's build artifact), or pass -AllowMissingRuntimes for a local package.")
        }
        Write-Warning "$message Packed without them (-AllowMissingRuntimes)."
    }

    $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $staging 'RdsSessions.psd1')
    if ([string]$manifest.ModuleVersion -ne $version) {
        throw "The manifest says ModuleVersion '$($manifest.ModuleVersion)', but Cargo.toml says '$version'."
    }

    # Publish-PSResource makes the .nupkg exactly as the gallery gets it; a temporary local
    # repository (a folder) receives it, and is unregistered again whatever happens.
    $repositoryName = 'RdsSessionsPackage-' + [guid]::NewGuid().ToString('N').Substring(0, 12)
    $repositoryDirectory = Join-Path ([System.IO.Path]::GetTempPath()) $repositoryName
    $null = New-Item -ItemType Directory -Path $repositoryDirectory
    $nupkgName = "RdsSessions.$version.nupkg"
    try {
        Register-PSResourceRepository -Name $repositoryName -Uri $repositoryDirectory -Trusted -ErrorAction Stop
        Publish-PSResource -Path $staging -Repository $repositoryName -ErrorAction Stop
        $built = Join-Path $repositoryDirectory $nupkgName
        if (-not (Test-Path -LiteralPath $built -PathType Leaf)) {
            $found = @(Get-ChildItem -LiteralPath $repositoryDirectory -Name) -join ', '
            throw "Publish-PSResource did not write '$nupkgName' into '$repositoryDirectory' (it holds: $found)."
        }
        $null = New-Item -ItemType Directory -Path $packageDirectory -Force
        Get-ChildItem -LiteralPath $packageDirectory -Filter 'RdsSessions.*.nupkg' -File | Remove-Item -Force
        Copy-Item -LiteralPath $built -Destination $packageDirectory
    }
    finally {
        Unregister-PSResourceRepository -Name $repositoryName -ErrorAction SilentlyContinue
        Remove-Item -LiteralPath $repositoryDirectory -Recurse -Force -ErrorAction SilentlyContinue
    }

    Write-Host "RdsSessions $version packed: $(Join-Path $packageDirectory $nupkgName) (native: $($packed -join ', '))." -ForegroundColor Green
}

#endregion

foreach ($name in $Task) {
    switch ($name) {
        'Clean' { Invoke-CleanTask }
        'Bindings' { Invoke-BindingsTask }
        'Build' { Invoke-BuildTask }
        'Test' { Invoke-TestTask }
        'Demo' { Invoke-DemoTask }
        'Package' { Invoke-PackageTask }
    }
}

Write-Host "Done: $($Task -join ', ')." -ForegroundColor Green
if ($null -ne $script:TestSummary) {
    # Last, so "N passed, N failed" is the final line of the output.
    $failedCount = Write-TestSummary -Results $script:TestSummary
    if ($failedCount -gt 0) {
        exit 1
    }
}
