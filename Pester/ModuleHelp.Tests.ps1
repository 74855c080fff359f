#Requires -Version 7.4
# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# The help of the BUILT module, as Get-Help shows it to users: out/RdsSessions/<version>/en-US/
# holds RdsSessions.dll-Help.xml (MAML, compiled by the build from docs/en-US/<Cmdlet>.md) and
# about_RdsSessions.help.txt. For every exported cmdlet, Get-Help -Full must show a synopsis, a
# description, examples with code and remarks, and a description of every parameter; and what the
# help says about each parameter (mandatory, position, pipeline input, type), in the parameter
# list and in the syntax of each parameter set, must be what the cmdlet really declares.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')
    $skipReason = Get-RdsTestSkipReason -SuiteName 'module help'

    # The cmdlets and their parameters, from the built module itself (not from the help).
    $commands = @()
    if (-not $skipReason) {
        $module = Import-Module -Name (Get-RdsModuleManifest) -Force -PassThru -ErrorAction Stop
        try {
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters
            $commands = @(
                Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object -Property Name | ForEach-Object {
                    @{
                        Name       = $_.Name
                        Parameters = @($_.Parameters.Keys | Where-Object { $common -notcontains $_ } | Sort-Object)
                    }
                }
            )
        }
        finally {
            Remove-Module -Name $module.Name -Force -ErrorAction SilentlyContinue
        }
    }
}

BeforeAll {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    function Get-HelpText {
        # The text of a help field: a string, or MAML paragraphs (objects with a Text property).
        param([AllowNull()] [object] $Value)
        @($Value | ForEach-Object { if ($_ -is [string]) { $_ } elseif ($null -ne $_) { $_.Text } }) -join "`n"
    }

    function Get-PipelineKinds {
        # 'ByValue', 'ByPropertyName', 'ByValue, ByPropertyName' or 'None' from Get-Help's
        # pipelineInput text ('False', 'True (ByPropertyName)', ...); anything else is returned as is.
        param([string] $Text)
        if ($Text -match '^\s*false\s*$') { return 'None' }
        if ($Text -notmatch '^\s*true\s*\((?<kinds>[^)]*)\)\s*$') { return "unreadable '$Text'" }
        $kinds = $Matches['kinds']
        $names = @(
            if ($kinds -match '(?i)\bByValue\b') { 'ByValue' }
            if ($kinds -match '(?i)\bByPropertyName\b') { 'ByPropertyName' }
        )
        if ($names.Count -eq 0) { return "unreadable '$Text'" }
        $names -join ', '
    }

    function Format-HelpParameter {
        # What the help says about a parameter, as one comparable line.
        param([Parameter(Mandatory)] [object] $Parameter)
        $position = ([string]$Parameter.position).Trim().ToLowerInvariant()
        'Required={0}; Position={1}; PipelineInput={2}' -f ([string]$Parameter.required -eq 'true'), $position, (Get-PipelineKinds ([string]$Parameter.pipelineInput))
    }

    function Format-CommandParameter {
        # What the cmdlet declares about a parameter in one parameter set, in the same form.
        param([Parameter(Mandatory)] [System.Management.Automation.CommandParameterInfo] $Parameter)
        $position = if ($Parameter.Position -ge 0) { [string]$Parameter.Position } else { 'named' }
        $kinds = @(
            if ($Parameter.ValueFromPipeline) { 'ByValue' }
            if ($Parameter.ValueFromPipelineByPropertyName) { 'ByPropertyName' }
        )
        $pipeline = if ($kinds.Count -eq 0) { 'None' } else { $kinds -join ', ' }
        'Required={0}; Position={1}; PipelineInput={2}' -f [bool]$Parameter.IsMandatory, $position, $pipeline
    }

    function Test-HelpTypeName {
        # True when the help's type name names the parameter's type: its Name, FullName or
        # ToString() (System.Nullable`1[System.Int32], as platyPS writes it), or for Nullable<T>
        # T's name.
        param([string] $HelpName, [Parameter(Mandatory)] [type] $Type)
        $types = @($Type)
        $underlying = [System.Nullable]::GetUnderlyingType($Type)
        if ($null -ne $underlying) { $types += $underlying }
        foreach ($candidate in $types) {
            if ($HelpName -in $candidate.Name, $candidate.FullName, $candidate.ToString()) { return $true }
        }
        $false
    }

    $common = [System.Management.Automation.PSCmdlet]::CommonParameters
    $manifestPath = Get-RdsModuleManifestPath
    if (Test-Path -LiteralPath $manifestPath -PathType Leaf) {
        # (Otherwise every suite of this file is skipped; see BeforeDiscovery.)
        $module = Import-Module -Name $manifestPath -Force -Global -PassThru -ErrorAction Stop
        $helpFile = Join-Path $module.ModuleBase 'en-US' 'RdsSessions.dll-Help.xml'
    }
}

AfterAll {
    Remove-Module -Name 'RdsSessions' -Force -ErrorAction SilentlyContinue
}

Describe 'The help files of the built module' -Tag 'CI', 'Help' -Skip:([bool]$skipReason) {
    It 'has en-US/RdsSessions.dll-Help.xml, MAML with one command entry per exported cmdlet' {
        $helpFile | Should -Exist
        [xml]$maml = Get-Content -LiteralPath $helpFile -Raw
        $namespaces = [System.Xml.XmlNamespaceManager]::new($maml.NameTable)
        $namespaces.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
        $documented = @($maml.SelectNodes('//command:command/command:details/command:name', $namespaces) | ForEach-Object { $_.InnerText.Trim() } | Sort-Object)
        $exported = @(Get-Command -Module RdsSessions -CommandType Cmdlet | ForEach-Object Name | Sort-Object)
        $documented | Should -Be $exported
    }

    It 'exports exactly the cmdlets the manifest lists' {
        $listed = @((Import-PowerShellDataFile -LiteralPath $manifestPath).CmdletsToExport | Sort-Object)
        @(Get-Command -Module RdsSessions -CommandType Cmdlet | ForEach-Object Name | Sort-Object) | Should -Be $listed
    }

    It 'has the about_RdsSessions topic, which Get-Help finds' {
        Join-Path $module.ModuleBase 'en-US' 'about_RdsSessions.help.txt' | Should -Exist
        $topic = (Get-Help -Name 'about_RdsSessions' -ErrorAction Stop | Out-String)
        $topic | Should -Match 'about_RdsSessions'
        $topic | Should -Match '(?m)^SHORT DESCRIPTION\s*$'
        $topic | Should -Match '(?m)^LONG DESCRIPTION\s*$'
        # Its text is the built file's, not some other topic of the same name.
        $file = Get-Content -LiteralPath (Join-Path $module.ModuleBase 'en-US' 'about_RdsSessions.help.txt') -Raw
        ($topic -replace '\r\n', "`n").Trim() | Should -BeExactly ($file -replace '\r\n', "`n").Trim()
    }
}

Describe 'Get-Help -Full <Name>' -Tag 'CI', 'Help' -ForEach $commands -Skip:([bool]$skipReason) {
    BeforeAll {
        $help = Get-Help -Name $Name -Full -ErrorAction Stop
        $command = Get-Command -Name $Name -Module RdsSessions -CommandType Cmdlet -ErrorAction Stop
        $helpParameters = @{}
        foreach ($parameter in @($help.parameters.parameter)) {
            if ($null -ne $parameter) { $helpParameters[[string]$parameter.name] = $parameter }
        }
        $syntaxItems = @($help.syntax.syntaxItem | Where-Object { $null -ne $_ })
    }

    It 'shows a synopsis' {
        (Get-HelpText $help.Synopsis).Trim() | Should -Not -BeNullOrEmpty
        # Without a help file Get-Help makes the synopsis up from the syntax line.
        (Get-HelpText $help.Synopsis).Trim() | Should -Not -Match ('^' + [regex]::Escape($Name) + '\s+\[')
    }

    It 'shows a description' {
        (Get-HelpText $help.description).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'shows at least one example, each with code and remarks' {
        $examples = @($help.examples.example | Where-Object { $null -ne $_ })
        $examples.Count | Should -BeGreaterThan 0
        foreach ($example in $examples) {
            ([string]$example.code).Trim() | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' needs code"
            (Get-HelpText $example.remarks).Trim() | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' needs remarks"
        }
    }

    It 'documents exactly the parameters the cmdlet has (common parameters aside)' {
        $declared = @($command.Parameters.Keys | Where-Object { $common -notcontains $_ } | Sort-Object)
        @($helpParameters.Keys | Sort-Object) | Should -Be $declared
    }

    It 'shows one syntax per parameter set, with the parameters of that set' {
        $syntaxItems.Count | Should -Be $command.ParameterSets.Count
        foreach ($set in $command.ParameterSets) {
            $names = @($set.Parameters | Where-Object { $common -notcontains $_.Name } | ForEach-Object Name | Sort-Object)
            $matching = @($syntaxItems | Where-Object {
                    $shown = @($_.parameter | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_.name } | Sort-Object)
                    ($shown -join ',') -eq ($names -join ',')
                })
            $matching.Count | Should -BeGreaterThan 0 -Because "parameter set '$($set.Name)' has $($names -join ', ')"
        }
    }

    It 'shows in each syntax what the parameter set declares (mandatory, position, pipeline input)' {
        foreach ($set in $command.ParameterSets) {
            $parameters = @($set.Parameters | Where-Object { $common -notcontains $_.Name })
            $names = @($parameters | ForEach-Object Name | Sort-Object) -join ','
            $expected = @($parameters | Sort-Object Name | ForEach-Object { "-$($_.Name): $(Format-CommandParameter $_)" }) -join "`n"
            $candidates = @($syntaxItems | Where-Object {
                    (@($_.parameter | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_.name } | Sort-Object) -join ',') -eq $names
                } | ForEach-Object {
                    @($_.parameter | Where-Object { $null -ne $_ } | Sort-Object name | ForEach-Object { "-$($_.name): $(Format-HelpParameter $_)" }) -join "`n"
                })
            $candidates | Should -Contain $expected -Because "the syntax of parameter set '$($set.Name)' must show what it declares"
        }
    }

    Context 'parameter -<_>' -ForEach $Parameters {
        BeforeAll {
            $parameterName = $_
            $helpParameter = $helpParameters[$parameterName]
            $declaredIn = @($command.ParameterSets | ForEach-Object {
                    $_.Parameters | Where-Object Name -eq $parameterName
                })
        }

        It 'has a description' {
            $helpParameter | Should -Not -BeNullOrEmpty -Because "-$parameterName must be documented"
            (Get-HelpText $helpParameter.description).Trim() | Should -Not -BeNullOrEmpty
        }

        It 'shows what the cmdlet declares in one of its parameter sets (mandatory, position, pipeline input)' {
            $helpParameter | Should -Not -BeNullOrEmpty -Because "-$parameterName must be documented"
            $declared = @($declaredIn | ForEach-Object { Format-CommandParameter $_ } | Select-Object -Unique)
            $declared | Should -Contain (Format-HelpParameter $helpParameter)
        }

        It 'shows its type' {
            $helpParameter | Should -Not -BeNullOrEmpty -Because "-$parameterName must be documented"
            $type = $command.Parameters[$parameterName].ParameterType
            Test-HelpTypeName -HelpName ([string]$helpParameter.type.name) -Type $type |
                Should -BeTrue -Because "the help says <$($helpParameter.type.name)>, the cmdlet declares [$($type.FullName)]"
        }
    }
}

# The help compiler itself (tools/HelpBuilder, which the build runs when platyPS is not
# installed): it refuses a malformed file, naming the file, the line and the heading, and writes
# nothing. The cases start from one small valid file, so they do not depend on the real docs.
Describe 'tools/HelpBuilder' -Tag 'CI', 'Help' {
    BeforeAll {
        $repositoryRoot = Get-RdsRepositoryRoot
        $toolProject = Join-Path $repositoryRoot 'tools' 'HelpBuilder'
        $tool = Join-Path $toolProject 'bin' 'Release' 'net10.0' 'RdsSessions.HelpBuilder.dll'
        if (-not (Test-Path -LiteralPath $tool -PathType Leaf)) {
            # The build made it, unless platyPS compiled the help there instead.
            $buildOutput = & dotnet build $toolProject -c Release --nologo -v quiet 2>&1
            if ($LASTEXITCODE -ne 0) { throw "dotnet build $toolProject failed: $($buildOutput -join "`n")" }
        }

        $validCommand = @'
---
external help file: RdsSessions.dll-Help.xml
Module Name: RdsSessions
online version: https://example.invalid/Get-Sample
schema: 2.0.0
---

# Get-Sample

## SYNOPSIS
Gets samples.

## SYNTAX

### ByName (Default)
```
Get-Sample [-Name] <String> [-Force] [<CommonParameters>]
```

### ById
```
Get-Sample -Id <Int32> [<CommonParameters>]
```

## DESCRIPTION
Gets the samples **by name** or by `-Id`.

- a list item

## EXAMPLES

### Example 1: By name
```powershell
PS C:\> Get-Sample -Name 'a'
```

Gets the sample a.

## PARAMETERS

### -Name
The name.

```yaml
Type: String
Parameter Sets: ByName
Aliases:

Required: True
Position: 0
Default value: None
Accept pipeline input: True (ByPropertyName)
Accept wildcard characters: False
```

### -Force
Forces it.

```yaml
Type: SwitchParameter
Parameter Sets: ByName
Aliases:

Required: False
Position: Named
Default value: False
Accept pipeline input: False
Accept wildcard characters: False
```

### -Id
The id.

```yaml
Type: Int32
Parameter Sets: ById
Aliases:

Required: True
Position: Named
Default value: None
Accept pipeline input: True (ByValue, ByPropertyName)
Accept wildcard characters: False
```

### CommonParameters
This cmdlet supports the common parameters.

## INPUTS

### System.String

## OUTPUTS

### System.Object
A sample.

## NOTES
A note.

## RELATED LINKS

[Get-Other](Get-Other.md)
'@
        $validAbout = @'
# about_Sample

## about_Sample

# SHORT DESCRIPTION
Samples.

# LONG DESCRIPTION
All about samples.

## A subtopic
Text of the subtopic.
'@

        function Invoke-HelpBuilder {
            # Writes the two files (Get-Sample.md as given) into a fresh folder under TestDrive and
            # runs the tool on it: { ExitCode; Text; Output (the output folder) }.
            param([string] $Command = $validCommand, [string] $About = $validAbout)
            $folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
            $source = Join-Path $folder 'docs'
            $output = Join-Path $folder 'out'
            $null = New-Item -ItemType Directory -Path $source
            Set-Content -LiteralPath (Join-Path $source 'Get-Sample.md') -Value $Command -Encoding utf8NoBOM
            Set-Content -LiteralPath (Join-Path $source 'about_Sample.help.md') -Value $About -Encoding utf8NoBOM
            $text = & dotnet $tool build --source $source --output $output --help-file 'RdsSessions.dll-Help.xml' --module 'RdsSessions' 2>&1 |
                ForEach-Object { "$_" }
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Text = ($text -join "`n"); Output = $output }
        }
    }

    It 'compiles a valid file into MAML that keeps each parameter set''s metadata, and an about topic' {
        $result = Invoke-HelpBuilder
        $result.ExitCode | Should -Be 0 -Because $result.Text
        [xml]$maml = Get-Content -LiteralPath (Join-Path $result.Output 'RdsSessions.dll-Help.xml') -Raw
        $namespaces = [System.Xml.XmlNamespaceManager]::new($maml.NameTable)
        $namespaces.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
        $namespaces.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
        $namespaces.AddNamespace('dev', 'http://schemas.microsoft.com/maml/dev/2004/10')
        $command = $maml.SelectSingleNode('//command:command', $namespaces)
        $command.SelectSingleNode('command:details/maml:description/maml:para', $namespaces).InnerText | Should -BeExactly 'Gets samples.'
        @($command.SelectNodes('maml:description/maml:para', $namespaces) | ForEach-Object InnerText) |
            Should -Be @('Gets the samples by name or by -Id.', '- a list item')
        $items = @($command.SelectNodes('command:syntax/command:syntaxItem', $namespaces))
        $items.Count | Should -Be 2
        @($items[0].SelectNodes('command:parameter/maml:name', $namespaces) | ForEach-Object InnerText) | Should -Be @('Name', 'Force')
        $id = $items[1].SelectSingleNode('command:parameter', $namespaces)
        $id.GetAttribute('pipelineInput') | Should -BeExactly 'True (ByValue, ByPropertyName)'
        $id.GetAttribute('required') | Should -BeExactly 'true'
        $id.GetAttribute('position') | Should -BeExactly 'named'
        $name = $command.SelectSingleNode("command:parameters/command:parameter[maml:name='Name']", $namespaces)
        $name.GetAttribute('position') | Should -BeExactly '0'
        $name.SelectSingleNode('dev:type/maml:name', $namespaces).InnerText | Should -BeExactly 'String'
        $example = $command.SelectSingleNode('command:examples/command:example', $namespaces)
        $example.SelectSingleNode('dev:code', $namespaces).InnerText | Should -BeExactly "PS C:\> Get-Sample -Name 'a'"
        $example.SelectSingleNode('dev:remarks/maml:para', $namespaces).InnerText | Should -BeExactly 'Gets the sample a.'
        $command.SelectSingleNode('maml:alertSet/maml:alert/maml:para', $namespaces).InnerText | Should -BeExactly 'A note.'
        @($command.SelectNodes('command:relatedLinks/maml:navigationLink/maml:linkText', $namespaces) | ForEach-Object InnerText) |
            Should -Be @('Online Version:', 'Get-Other')
        @($command.SelectNodes('command:returnValues/command:returnValue/dev:type/maml:name', $namespaces) | ForEach-Object InnerText) |
            Should -Be @('System.Object')

        $about = Get-Content -LiteralPath (Join-Path $result.Output 'about_Sample.help.txt') -Raw
        $about | Should -Match '(?m)^TOPIC\r?\n    about_Sample\r?\n'
        $about | Should -Match '(?m)^SHORT DESCRIPTION\r?\n    Samples\.'
        $about | Should -Match '(?m)^    A subtopic\r?\n    ----------'
    }

    It 'refuses <Case>, naming the file, line and heading, and writes nothing' -ForEach @(
        @{ Case = 'an unknown section'; Find = '## DESCRIPTION'; Replace = '## DESCRIPTON'; Message = 'Get-Sample\.md:\d+: ## DESCRIPTON: unknown section' }
        @{ Case = 'a missing section'; Find = "## OUTPUTS`n`n### System.Object`nA sample.`n`n"; Replace = ''; Message = 'Get-Sample\.md:\d+: # Get-Sample: the section ## OUTPUTS is missing' }
        @{ Case = 'a title that is not the file name'; Find = '# Get-Sample'; Replace = '# Get-Example'; Message = "Get-Sample\.md:\d+: # Get-Example: the title must be the command name, 'Get-Sample'" }
        @{ Case = 'a parameter without metadata'; Find = "The id.`n`n``````yaml"; Replace = "The id.`n`n``````text"; Message = 'Get-Sample\.md:\d+: ## PARAMETERS > ### -Id: the parameter has no ```yaml metadata block' }
        @{ Case = 'a position that is no number'; Find = 'Position: 0'; Replace = 'Position: first'; Message = "Get-Sample\.md:\d+: ## PARAMETERS > ### -Name: 'Position: first' must be Named or a number" }
        @{ Case = 'an unreadable pipeline input'; Find = 'Accept pipeline input: True (ByPropertyName)'; Replace = 'Accept pipeline input: Yes'; Message = "### -Name: 'Accept pipeline input: Yes' must be False" }
        @{ Case = 'a syntax parameter that is not documented'; Find = '-Id <Int32> [<CommonParameters>]'; Replace = '-Id <Int32> [-Bogus] [<CommonParameters>]'; Message = 'Get-Sample\.md:\d+: ## SYNTAX > ### ById: -Bogus is in the syntax line but has no ### -Bogus' }
        @{ Case = 'a parameter set the syntax does not show it in'; Find = 'Parameter Sets: ById'; Replace = 'Parameter Sets: ById, ByName'; Message = "### -Id: the parameter belongs to set 'ByName'" }
        @{ Case = 'an example without code'; Find = "``````powershell`nPS C:\> Get-Sample -Name 'a'`n``````"; Replace = ''; Message = 'Get-Sample\.md:\d+: ## EXAMPLES > ### Example 1: By name: the example has no ```powershell code block' }
        @{ Case = 'an about topic without SHORT DESCRIPTION'; About = $true; Find = '# SHORT DESCRIPTION'; Replace = '# SHORT'; Message = 'about_Sample\.help\.md:\d+: # about_Sample: the section # SHORT DESCRIPTION is missing' }
    ) {
        $arguments = if ($About) { @{ About = $validAbout.Replace("`r`n", "`n").Replace($Find, $Replace) } } else { @{ Command = $validCommand.Replace("`r`n", "`n").Replace($Find, $Replace) } }
        # The case must really change the file.
        ($arguments.Values | Select-Object -First 1) | Should -Not -BeExactly $(if ($About) { $validAbout.Replace("`r`n", "`n") } else { $validCommand.Replace("`r`n", "`n") })

        $result = Invoke-HelpBuilder @arguments
        $result.ExitCode | Should -Be 1 -Because $result.Text
        $result.Text | Should -Match $Message
        $result.Output | Should -Not -Exist
    }
}
