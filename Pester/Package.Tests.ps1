#Requires -Version 7.4
# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# ./build.ps1 -Task Package: the module as the PowerShell Gallery gets it. The suite packs the
# current build itself (-NoBuild, into TestDrive; a few seconds), then opens the .nupkg (a zip)
# and checks what it carries; it also packs with stand-ins for the other platforms' native
# libraries, to check the runtimes/<rid>/native/ layout of a release package and that a missing
# or misplaced library fails the task.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
    $skipReason = Get-RdsTestSkipReason -SuiteName 'package'
    $platform = Get-RdsPlatform
    $entries = @(
        @{ Entry = 'RdsSessions.psd1' }
        @{ Entry = 'RdsSessions.dll' }
        @{ Entry = 'RdsSessions.Format.ps1xml' }
        @{ Entry = 'en-US/RdsSessions.dll-Help.xml' }
        @{ Entry = 'en-US/about_RdsSessions.help.txt' }
        @{ Entry = 'LICENSE' }
        @{ Entry = "runtimes/$($platform.Rid)/native/$($platform.LibraryName)" }
    )
}

BeforeAll {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
    Add-Type -AssemblyName System.IO.Compression.FileSystem

    $repositoryRoot = Get-RdsRepositoryRoot
    $version = Get-RdsProjectVersion
    $platform = Get-RdsPlatform
    $runtimes = [ordered]@{
        'win-x64'     = 'rds_sessions.dll'
        'win-arm64'   = 'rds_sessions.dll'
        'linux-x64'   = 'librds_sessions.so'
        'linux-arm64' = 'librds_sessions.so'
        'osx-x64'     = 'librds_sessions.dylib'
        'osx-arm64'   = 'librds_sessions.dylib'
    }

    function Invoke-PackageTask {
        # ./build.ps1 -Task Package -NoBuild in a child pwsh, as a user runs it: { ExitCode; Text }.
        param([string[]] $Arguments)
        $output = & (Get-RdsPwshPath) -NoLogo -NoProfile -NonInteractive -File (Join-Path $repositoryRoot 'build.ps1') `
            -Task Package -NoBuild @Arguments 2>&1 | ForEach-Object { "$_" }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Text = ($output -join "`n") }
    }

    function Get-PackageEntries {
        # The file names in a .nupkg, with '/' separators.
        param([Parameter(Mandatory)] [string] $Path)
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Path)
        try {
            @($zip.Entries | ForEach-Object { $_.FullName.Replace('\', '/') })
        }
        finally {
            $zip.Dispose()
        }
    }

    function New-NativeStandIn {
        # A file with just the header of a native library built for -Rid (ELF, Mach-O or PE), which
        # is all the package step reads of the libraries of other platforms.
        param([Parameter(Mandatory)] [string] $Rid, [Parameter(Mandatory)] [string] $Path)
        $bytes = [byte[]]::new(256)
        switch -Wildcard ($Rid) {
            'linux-*' {
                [byte[]](0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0) | ForEach-Object -Begin { $i = 0 } -Process { $bytes[$i++] = $_ }
                $machine = if ($Rid -eq 'linux-x64') { 0x3E } else { 0xB7 }
                $bytes[18] = $machine
            }
            'osx-*' {
                [System.BitConverter]::GetBytes(0xFEEDFACFu).CopyTo($bytes, 0)
                $cpu = if ($Rid -eq 'osx-x64') { [uint32]0x01000007 } else { [uint32]0x0100000C }
                [System.BitConverter]::GetBytes($cpu).CopyTo($bytes, 4)
            }
            'win-*' {
                $bytes[0] = 0x4D; $bytes[1] = 0x5A
                [System.BitConverter]::GetBytes([uint32]0x80).CopyTo($bytes, 0x3C)
                [byte[]](0x50, 0x45, 0, 0) | ForEach-Object -Begin { $i = 0x80 } -Process { $bytes[$i++] = $_ }
                $machine = if ($Rid -eq 'win-x64') { [uint16]0x8664 } else { [uint16]0xAA64 }
                [System.BitConverter]::GetBytes($machine).CopyTo($bytes, 0x84)
            }
        }
        $null = New-Item -ItemType Directory -Path (Split-Path -Parent $Path) -Force
        [System.IO.File]::WriteAllBytes($Path, $bytes)
    }

    function Get-ChangelogSection {
        # The body of "## [<version>] ..." in CHANGELOG.md, up to the next "## [".
        param([Parameter(Mandatory)] [string] $Version)
        $text = (Get-Content -LiteralPath (Join-Path $repositoryRoot 'CHANGELOG.md') -Raw).Replace("`r`n", "`n")
        $match = [regex]::Match($text, '(?ms)^## \[' + [regex]::Escape($Version) + '\][^\n]*\n(.*?)(?=^## \[|\z)')
        if (-not $match.Success) { return $null }
        $match.Groups[1].Value.Trim()
    }
}

Describe 'The package of this machine''s build (./build.ps1 -Task Package -AllowMissingRuntimes)' -Tag 'CI', 'Package' -Skip:([bool]$skipReason) {
    BeforeAll {
        $packageDirectory = Join-Path $TestDrive 'package'
        $result = Invoke-PackageTask -Arguments @(
            '-AllowMissingRuntimes', '-RuntimesPath', (Join-Path $TestDrive 'no-runtimes'), '-PackagePath', $packageDirectory)
        $nupkg = Join-Path $packageDirectory "RdsSessions.$version.nupkg"
        if ($result.ExitCode -ne 0 -or -not (Test-Path -LiteralPath $nupkg)) {
            throw "./build.ps1 -Task Package failed (exit code $($result.ExitCode)):`n$($result.Text)"
        }
        $entries = Get-PackageEntries -Path $nupkg
        $extracted = Join-Path $TestDrive 'extracted' 'RdsSessions'
        [System.IO.Compression.ZipFile]::ExtractToDirectory($nupkg, $extracted)
        $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $extracted 'RdsSessions.psd1')
        [xml]$nuspec = Get-Content -LiteralPath (Join-Path $extracted 'RdsSessions.nuspec') -Raw
    }

    It 'is named RdsSessions.VERSION.nupkg, with the one version number' {
        Split-Path -Leaf $nupkg | Should -BeExactly "RdsSessions.$version.nupkg"
    }

    It 'carries <Entry>' -ForEach $entries {
        $entries | Should -Contain $Entry
    }

    It 'carries only this platform''s native library, and says which were left out' {
        @($entries | Where-Object { $_ -like 'runtimes/*' }) | Should -Be @("runtimes/$($platform.Rid)/native/$($platform.LibraryName)")
        $result.Text | Should -Match 'No native library for .*-AllowMissingRuntimes'
    }

    It 'carries the module files from an allow-list (no C# XML docs, no build leftovers)' {
        $moduleFiles = @($entries | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|RdsSessions\.nuspec$)' } | Sort-Object)
        $expected = @(
            'LICENSE', 'RdsSessions.dll', 'RdsSessions.Format.ps1xml', 'RdsSessions.pdb', 'RdsSessions.psd1',
            'en-US/RdsSessions.dll-Help.xml', 'en-US/about_RdsSessions.help.txt',
            "runtimes/$($platform.Rid)/native/$($platform.LibraryName)"
        ) | Sort-Object
        $moduleFiles | Should -Be $expected
    }

    It 'has the one version number of Cargo.toml in the nuspec, the manifest and the assembly' {
        $nuspec.package.metadata.version | Should -BeExactly $version
        [string]$manifest.ModuleVersion | Should -BeExactly $version
        [System.Diagnostics.FileVersionInfo]::GetVersionInfo((Join-Path $extracted 'RdsSessions.dll')).ProductVersion | Should -BeExactly $version
    }

    It 'has the CHANGELOG entry of its version as release notes, in the manifest and the nuspec' {
        $section = Get-ChangelogSection -Version $version
        $section | Should -Not -BeNullOrEmpty -Because "CHANGELOG.md needs a '## [$version]' section"
        $manifest.PrivateData.PSData.ReleaseNotes.Replace("`r`n", "`n").Trim() | Should -BeExactly $section
        $nuspec.package.metadata.releaseNotes.Replace("`r`n", "`n").Trim() | Should -BeExactly $section
    }

    It 'has the MIT license of the repository, and its URL and the help URI in the manifest' {
        $license = Get-Content -LiteralPath (Join-Path $extracted 'LICENSE') -Raw
        $license | Should -BeExactly (Get-Content -LiteralPath (Join-Path $repositoryRoot 'LICENSE') -Raw)
        $license | Should -Match '^MIT License'
        $license | Should -Match 'Copyright \(c\) 2026 RdsSessions contributors'
        $manifest.PrivateData.PSData.LicenseUri | Should -Match '/LICENSE$'
        $manifest.HelpInfoURI | Should -Match '^https://'
    }

    It 'imports from the package folder, loads its native library from runtimes/RID/native and shows help' {
        $script = {
            param($ManifestPath)
            $module = Import-Module -Name $ManifestPath -PassThru -ErrorAction Stop
            'COMMANDS=' + (Get-Command -Module RdsSessions).Count
            'NATIVE=' + [RdsSessions.NativeLoader]::LoadedPath
            'DESCRIPTION=' + ((Get-Help Invoke-RdsUserSessionLogoff).description.Text -join ' ').Length
            'ABOUT=' + ((Get-Help about_RdsSessions | Out-String) -match 'SHORT DESCRIPTION')
            'BASE=' + $module.ModuleBase
        }
        $child = Invoke-RdsChildPwsh -ScriptText $script.ToString() -Parameters @{ ManifestPath = (Join-Path $extracted 'RdsSessions.psd1') }
        $child.ExitCode | Should -Be 0 -Because ($child.Output -join "`n")
        $child.Output | Should -Contain "COMMANDS=$($manifest.CmdletsToExport.Count)"
        $child.Output | Should -Contain ('NATIVE=' + (Join-Path $extracted 'runtimes' $platform.Rid 'native' $platform.LibraryName))
        $child.Output | Should -Contain 'ABOUT=True'
        ($child.Output | Where-Object { $_ -like 'DESCRIPTION=*' }) | Should -Not -Be 'DESCRIPTION=0'
    }
}

Describe 'A release package (./build.ps1 -Task Package without -AllowMissingRuntimes)' -Tag 'CI', 'Package' -Skip:([bool]$skipReason) {
    BeforeAll {
        # Stand-ins for the libraries the other platforms' CI jobs build; this machine's comes from the build.
        $allRuntimes = Join-Path $TestDrive 'all-runtimes'
        foreach ($rid in $runtimes.Keys) {
            if ($rid -ne $platform.Rid) {
                New-NativeStandIn -Rid $rid -Path (Join-Path $allRuntimes $rid 'native' $runtimes[$rid])
            }
        }
    }

    It 'fails when a platform''s native library is missing, naming it' {
        $empty = Join-Path $TestDrive 'empty-runtimes'
        $result = Invoke-PackageTask -Arguments @('-RuntimesPath', $empty, '-PackagePath', (Join-Path $TestDrive 'missing'))
        $result.ExitCode | Should -Not -Be 0
        foreach ($rid in $runtimes.Keys | Where-Object { $_ -ne $platform.Rid }) {
            $result.Text | Should -Match ([regex]::Escape($rid)) -Because 'the message names every missing platform'
        }
        $result.Text | Should -Match '-AllowMissingRuntimes'
        Join-Path $TestDrive 'missing' "RdsSessions.$version.nupkg" | Should -Not -Exist
    }

    It 'fails when a library is in the folder of another platform' {
        $mixed = Join-Path $TestDrive 'mixed-runtimes'
        Copy-Item -LiteralPath $allRuntimes -Destination $mixed -Recurse
        # An x64 library where the arm64 one belongs (or the other way round on arm64 machines).
        $victim = ($runtimes.Keys | Where-Object { $_ -ne $platform.Rid -and $_ -like 'linux-*' } | Select-Object -First 1)
        $wrong = if ($victim -eq 'linux-arm64') { 'linux-x64' } else { 'linux-arm64' }
        New-NativeStandIn -Rid $wrong -Path (Join-Path $mixed $victim 'native' $runtimes[$victim])
        $result = Invoke-PackageTask -Arguments @('-RuntimesPath', $mixed, '-PackagePath', (Join-Path $TestDrive 'mixed'))
        $result.ExitCode | Should -Not -Be 0
        $result.Text | Should -Match "is a $wrong library, not a $victim library"
    }

    It 'packs all six platforms under runtimes/RID/native/' {
        $packageDirectory = Join-Path $TestDrive 'release'
        $result = Invoke-PackageTask -Arguments @('-RuntimesPath', $allRuntimes, '-PackagePath', $packageDirectory)
        $result.ExitCode | Should -Be 0 -Because $result.Text
        $entries = Get-PackageEntries -Path (Join-Path $packageDirectory "RdsSessions.$version.nupkg")
        $expected = @($runtimes.Keys | ForEach-Object { "runtimes/$_/native/$($runtimes[$_])" } | Sort-Object)
        @($entries | Where-Object { $_ -like 'runtimes/*' } | Sort-Object) | Should -Be $expected
    }
}
