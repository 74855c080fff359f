# A WVD (classic) admin's nightly job, as written for Microsoft's RDInfra module: log off
# every Disconnected session of a host pool. (-AccessToken is how the demo signs in to the
# emulator; real scripts pass -Credential or a service principal, which work the same way.)
param(
    [string] $DeploymentUrl = 'https://rdbroker.wvd.microsoft.com',
    [string] $TenantName = 'Contoso',
    [string] $HostPoolName = 'Pool-Desktop',
    [string] $AccessToken
)

Add-RdsAccount -DeploymentUrl $DeploymentUrl -AccessToken $AccessToken | Out-Null

foreach ($session in Get-RdsUserSession -TenantName $TenantName -HostPoolName $HostPoolName) {
    if ($session.SessionState -eq 'Disconnected') {
        Invoke-RdsUserSessionLogoff -TenantName $session.TenantName -HostPoolName $session.HostPoolName `
            -SessionHostName $session.SessionHostName -SessionId $session.SessionId -NoUserPrompt
        "Logged off $($session.AdUserName) on $($session.SessionHostName)"
    }
}
