#
# Module manifest for RdsSessions. The build (LayoutModule in RdsSessions.csproj) replaces the
# placeholder of ModuleVersion with the one version number of the project
# ([workspace.package].version in Cargo.toml) and the placeholder of ReleaseNotes with that
# version's section of CHANGELOG.md (quotes doubled).
#
@{
    RootModule           = 'RdsSessions.dll'
    ModuleVersion        = '{{ModuleVersion}}'
    GUID                 = '6f0f3c2e-4d8a-4a53-9d1e-2b7c5e1a9f42'
    Author               = 'RdsSessions contributors'
    CompanyName          = 'RdsSessions contributors'
    Copyright            = '(c) RdsSessions contributors. MIT License.'
    Description          = 'Cross-platform re-implementation of the Windows Virtual Desktop (classic) session cmdlets, such as Invoke-RdsUserSessionLogoff, with a Rust core.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('RdsSessions.Format.ps1xml')
    HelpInfoURI          = 'https://github.com/rdssessions/rdssessions/tree/main/docs/en-US'
    CmdletsToExport      = @(
        'Add-RdsAccount'
        'Get-RdsContext'
        'Set-RdsContext'
        'Get-RdsUserSession'
        'Invoke-RdsUserSessionLogoff'
        'Disconnect-RdsUserSession'
        'Send-RdsUserSessionMessage'
        'Get-RdsArmMapping'
        'Set-RdsArmMapping'
        'Get-RdsTenant'
        'Get-RdsHostPool'
        'Get-RdsSessionHost'
        'Set-RdsSessionHost'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('WVD', 'AVD', 'RDS', 'WindowsVirtualDesktop', 'RemoteDesktop', 'Sessions', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = 'https://github.com/rdssessions/rdssessions'
            LicenseUri   = 'https://github.com/rdssessions/rdssessions/blob/main/LICENSE'
            ReleaseNotes = '{{ReleaseNotes}}'
        }
    }
}
