#Requires -Version 7.4
# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# The GitHub Actions workflow (.github/workflows/ci.yml) cannot run here, so its shape is checked:
# a build job per platform for all six RIDs, where each platform whose runner can run it builds
# and runs the tests (Pester among them) and every one uploads its native library; a package job
# that gathers them into out/runtimes/<rid>/native and runs ./build.ps1 -Task Package without
# -AllowMissingRuntimes; and a publish step, on version tags only, that is the only user of a
# secret and never prints it. pwsh has no YAML parser, so tools/HelpBuilder (YamlDotNet) converts
# the file to JSON first.

BeforeAll {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
    $repositoryRoot = Get-RdsRepositoryRoot
    $workflowPath = Join-Path $repositoryRoot '.github' 'workflows' 'ci.yml'

    $toolProject = Join-Path $repositoryRoot 'tools' 'HelpBuilder'
    $tool = Join-Path $toolProject 'bin' 'Release' 'net10.0' 'RdsSessions.HelpBuilder.dll'
    if (-not (Test-Path -LiteralPath $tool -PathType Leaf)) {
        # The build made it, unless platyPS compiled the help there instead.
        $buildOutput = & dotnet build $toolProject -c Release --nologo -v quiet 2>&1
        if ($LASTEXITCODE -ne 0) { throw "dotnet build $toolProject failed: $($buildOutput -join "`n")" }
    }
    $json = & dotnet $tool yaml-to-json $workflowPath 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$workflowPath is not valid YAML: $($json -join "`n")" }
    $workflow = ($json -join "`n") | ConvertFrom-Json -AsHashtable

    $jobs = $workflow['jobs']
    $build = $jobs['build']
    $matrix = @($build['strategy']['matrix']['include'])
    $libraries = @{ win = 'rds_sessions.dll'; linux = 'librds_sessions.so'; osx = 'librds_sessions.dylib' }
    $runnerPrefixes = @{ win = 'windows-'; linux = 'ubuntu-'; osx = 'macos-' }

    function Find-Step {
        # The steps of a job whose 'run' matches -Run or whose 'uses' starts with -Uses.
        param([Parameter(Mandatory)] [System.Collections.IDictionary] $Job, [string] $Run, [string] $Uses)
        @($Job['steps'] | Where-Object {
                ($Run -and $_['run'] -and $_['run'] -match $Run) -or ($Uses -and $_['uses'] -and $_['uses'].StartsWith($Uses))
            })
    }

    function Find-SecretReference {
        # Every string in the workflow that reads a secret, with its path ('jobs.publish.steps[1].env.X').
        param([object] $Node, [string] $Path = '')
        if ($Node -is [System.Collections.IDictionary]) {
            foreach ($key in $Node.Keys) { Find-SecretReference -Node $Node[$key] -Path ($Path ? "$Path.$key" : $key) }
        }
        elseif ($Node -is [System.Collections.IList]) {
            for ($i = 0; $i -lt $Node.Count; $i++) { Find-SecretReference -Node $Node[$i] -Path "$Path[$i]" }
        }
        elseif ($Node -is [string] -and $Node -match '\bsecrets\.') {
            [pscustomobject]@{ Path = $Path; Value = $Node }
        }
    }
}

Describe '.github/workflows/ci.yml' -Tag 'CI', 'Workflow' {
    It 'runs on pushes to main, on version tags and on pull requests' {
        $workflow['on']['push']['branches'] | Should -Contain 'main'
        $workflow['on']['push']['tags'] | Should -Contain 'v*'
        $workflow['on'].Contains('pull_request') | Should -BeTrue
    }

    It 'has the jobs build, package and publish, in that order of needs' {
        @($jobs.Keys) | Should -Be @('build', 'package', 'publish')
        $jobs['package']['needs'] | Should -Be 'build'
        $jobs['publish']['needs'] | Should -Be 'package'
    }

    It 'builds all six platforms, each with its own library name' {
        @($matrix | ForEach-Object { $_['rid'] } | Sort-Object) |
            Should -Be @('linux-arm64', 'linux-x64', 'osx-arm64', 'osx-x64', 'win-arm64', 'win-x64')
        foreach ($entry in $matrix) {
            $os = $entry['rid'].Split('-')[0]
            $entry['library'] | Should -BeExactly $libraries[$os] -Because "$($entry['rid']) builds $($libraries[$os])"
            $entry['os'] | Should -BeLike "$($runnerPrefixes[$os])*" -Because "$($entry['rid']) needs a $os runner"
        }
        $build['runs-on'] | Should -BeExactly '${{ matrix.os }}'
    }

    It 'runs on windows-latest, ubuntu-latest and macos-latest, and on arm64 runners where GitHub has them' {
        $runners = @($matrix | ForEach-Object { $_['os'] })
        foreach ($runner in 'windows-latest', 'ubuntu-latest', 'macos-latest', 'ubuntu-24.04-arm') {
            $runners | Should -Contain $runner
        }
        ($matrix | Where-Object { $_['rid'] -eq 'linux-arm64' })['os'] | Should -BeExactly 'ubuntu-24.04-arm'
        ($matrix | Where-Object { $_['rid'] -eq 'osx-arm64' })['os'] | Should -BeIn @('macos-latest', 'macos-14', 'macos-15')
    }

    It 'cross-compiles only win-arm64 (target aarch64-pc-windows-msvc); every other platform builds on its own runner' {
        $cross = @($matrix | Where-Object { $_['cross'] -eq 'true' })
        @($cross | ForEach-Object { $_['rid'] }) | Should -Be @('win-arm64')
        $cross[0]['target'] | Should -BeExactly 'aarch64-pc-windows-msvc'
        @($matrix | Where-Object { $_['cross'] -ne 'true' }).Count | Should -Be 5
        @($matrix | Where-Object { $_['cross'] -notin 'true', 'false' }).Count | Should -Be 0 -Because 'cross is true or false on every entry'
        $crossBuild = @(Find-Step -Job $build -Run 'cargo build .*--target \$\{\{ matrix\.target \}\}')
        $crossBuild.Count | Should -Be 1
        $crossBuild[0]['if'] | Should -Match '^\$\{\{\s*matrix\.cross\s*\}\}$'
    }

    It 'sets up checkout, the Rust toolchain (with the cross target) and the .NET 10 SDK in the build job' {
        @(Find-Step -Job $build -Uses 'actions/checkout@').Count | Should -Be 1
        $rust = @(Find-Step -Job $build -Uses 'dtolnay/rust-toolchain@')
        $rust.Count | Should -Be 1
        $rust[0]['with']['targets'] | Should -BeExactly '${{ matrix.target }}'
        $dotnet = @(Find-Step -Job $build -Uses 'actions/setup-dotnet@')
        $dotnet.Count | Should -Be 1
        $dotnet[0]['with']['dotnet-version'] | Should -Match '^10\.'
    }

    It 'builds and runs the tests, Pester among them, on every platform that is not cross-compiled' {
        $buildStep = @(Find-Step -Job $build -Run '\./build\.ps1 -Task Build\b')
        $buildStep.Count | Should -Be 1
        $testStep = @(Find-Step -Job $build -Run '\./build\.ps1 -Task Test\b')
        $testStep.Count | Should -Be 1
        foreach ($step in $buildStep + $testStep) {
            $step['shell'] | Should -BeExactly 'pwsh'
            $step['if'] | Should -Match '^\$\{\{\s*!matrix\.cross\s*\}\}$' -Because 'every native entry (cross: false) runs it'
        }
        # The Test task is what runs the Pester suites (tools/Invoke-RdsPester.ps1).
        $buildScript = Get-Content -LiteralPath (Join-Path $repositoryRoot 'build.ps1') -Raw
        $buildScript | Should -Match "'Test' \{ Invoke-TestTask \}"
        $buildScript | Should -Match "Invoke-TestRunner -Name 'Pester \(pwsh\)'"
        $buildScript | Should -Match "'Invoke-RdsPester\.ps1'"
    }

    It 'uploads each platform''s native library, stored as runtimes/RID/native/LIBRARY' {
        $collect = @(Find-Step -Job $build -Run "Join-Path 'out' 'runtimes' '\$\{\{ matrix\.rid \}\}' 'native'")
        $collect.Count | Should -Be 1
        $collect[0].Contains('if') | Should -BeFalse -Because 'every platform uploads its library'
        $upload = @(Find-Step -Job $build -Uses 'actions/upload-artifact@' | Where-Object { $_['with']['name'] -like 'native-*' })
        $upload.Count | Should -Be 1
        $upload[0]['with']['name'] | Should -BeExactly 'native-${{ matrix.rid }}'
        $upload[0]['with']['path'] | Should -BeExactly 'out/runtimes/'
        $upload[0].Contains('if') | Should -BeFalse
    }

    It 'packages all the native libraries with ./build.ps1 -Task Package, missing ones failing it' {
        $package = $jobs['package']
        $download = @(Find-Step -Job $package -Uses 'actions/download-artifact@')
        $download.Count | Should -Be 1
        $download[0]['with']['pattern'] | Should -BeExactly 'native-*'
        $download[0]['with']['path'] | Should -BeExactly 'out/runtimes'
        $download[0]['with']['merge-multiple'] | Should -Be 'true'
        $packageStep = @(Find-Step -Job $package -Run '\./build\.ps1 -Task Package\b')
        $packageStep.Count | Should -Be 1
        $packageStep[0]['run'] | Should -Not -Match 'AllowMissingRuntimes'
        $upload = @(Find-Step -Job $package -Uses 'actions/upload-artifact@')
        $upload[0]['with']['path'] | Should -BeExactly 'out/package/*.nupkg'
    }

    It 'publishes on version tags only, with Publish-PSResource' {
        $publish = $jobs['publish']
        $publish['if'] | Should -Match "startsWith\(github\.ref, 'refs/tags/v'\)"
        $step = @(Find-Step -Job $publish -Run 'Publish-PSResource')
        $step.Count | Should -Be 1
        $step[0]['run'] | Should -Match 'Publish-PSResource -NupkgPath \S+ -Repository PSGallery -ApiKey \$env:PSGALLERY_API_KEY'
    }

    It 'uses a secret only in the publish step, through its environment, and never prints it' {
        $references = @(Find-SecretReference -Node $workflow)
        $references.Count | Should -Be 1 -Because "only the publish step may read a secret; found: $($references.Path -join ', ')"
        $publishSteps = @($jobs['publish']['steps'])
        $index = [array]::IndexOf($publishSteps, @(Find-Step -Job $jobs['publish'] -Run 'Publish-PSResource')[0])
        $references[0].Path | Should -BeExactly "jobs.publish.steps[$index].env.PSGALLERY_API_KEY"
        $references[0].Value | Should -Match '^\$\{\{\s*secrets\.PSGALLERY_API_KEY\s*\}\}$'

        $run = $publishSteps[$index]['run']
        $run | Should -Not -Match 'secrets\.' -Because 'the secret is not pasted into the script'
        # The variable is only ever passed to -ApiKey: not echoed, logged, written to a file or traced.
        @([regex]::Matches($run, 'PSGALLERY_API_KEY')).Count | Should -Be 1
        $run | Should -Not -Match '(?im)^\s*Set-PSDebug|\$VerbosePreference|-Verbose|-Debug'
    }

    It 'gives the workflow read-only repository permissions' {
        $workflow['permissions']['contents'] | Should -BeExactly 'read'
    }
}
