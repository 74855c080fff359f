# Copyright (c) RdsSessions contributors. Licensed under the MIT License.
#
# Pester 5 tests of hostile input and hostile servers, through the real cmdlets where a user meets
# them (issue 10): a string of 16 MB, an authority that never answers, device and FIFO certificate
# paths, a wrong native library on a second import, an endless answer, escape sequences in a
# broker's message, a redirect, passwords and oversized values in URLs. Each failed (a crash, a
# hang, a raw escape sequence, a password on screen) before its fix. The core's own behaviour
# (idempotency after 429/503, answer size bounds, fault matrices) is tested in Rust
# (rust/core/tests/hostile.rs, fault_matrix.rs).

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

    $skipReason = Get-RdsTestSkipReason -SuiteName 'hostile input'
    $onLinux = $IsLinux
}

Describe 'Hostile input and hostile servers' -Tag 'Integration', 'Hostile' -Skip:([bool]$skipReason) {
    BeforeAll {
        . (Join-Path -Path $PSScriptRoot -ChildPath 'common.ps1')

        $suite = Initialize-RdsTestSuite -SignIn
        $emulator = $suite.Emulator
        $url = $emulator.Url
        $childSignIn = @{ ManifestPath = $suite.ManifestPath; Url = $url; AccessToken = $suite.AccessToken }

        # A loopback server that accepts connections and then answers with fixed bytes, streams
        # an endless body, or never answers at all.
        if (-not ('RdsSessions.PesterTests.HostileServer' -as [type])) {
            Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RdsSessions.PesterTests
{
    public sealed class HostileServer : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly List<TcpClient> _held = new List<TcpClient>();
        private int _connections;

        // answer: bytes to send then close; endless: after the head, send zeros until the client goes;
        // neither: hold the connection and never answer.
        public HostileServer(byte[] answer, bool endless)
        {
            _listener.Start();
            Url = "http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port;
            Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient client;
                    try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                    catch (Exception) { return; }
                    lock (_held) { _held.Add(client); }
                    Interlocked.Increment(ref _connections);
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            var stream = client.GetStream();
                            var buffer = new byte[65536];
                            await Task.Delay(50);
                            while (stream.DataAvailable) { await stream.ReadAsync(buffer, 0, buffer.Length); }
                            if (endless)
                            {
                                var head = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[\"");
                                await stream.WriteAsync(head, 0, head.Length);
                                var zeros = new byte[65536];
                                Array.Fill(zeros, (byte)'x');
                                while (!_stop.IsCancellationRequested) { await stream.WriteAsync(zeros, 0, zeros.Length); }
                            }
                            else if (answer != null)
                            {
                                await stream.WriteAsync(answer, 0, answer.Length);
                                client.Close();
                            }
                        }
                        catch (Exception) { }
                    });
                }
            });
        }

        public string Url { get; }

        public int Connections => Volatile.Read(ref _connections);

        public static byte[] Answer(int status, string body, string extraHeader)
        {
            string head = "HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                + Encoding.UTF8.GetByteCount(body) + "\r\n" + (extraHeader ?? string.Empty) + "\r\n";
            return Encoding.UTF8.GetBytes(head + body);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_held) { foreach (var c in _held) { c.Dispose(); } }
        }
    }
}
'@
        }

        $appCredential = [pscredential]::new('00000000-0000-4000-8000-0000000000aa', (ConvertTo-SecureString 'not-a-real-secret' -AsPlainText -Force))
    }

    AfterAll {
        Complete-RdsTestSuite -Emulator $emulator
    }

    BeforeEach {
        $null = Add-RdsAccount -DeploymentUrl $url -AccessToken $suite.AccessToken
    }

    Context '1. a string of 16 MB in a string parameter (the whole pwsh process died)' {
        It 'is refused with InvalidInput naming the parameter and the limit, and pwsh goes on' {
            $result = Invoke-RdsChildPwshCommand @childSignIn -Command {
                $err = $null
                Send-RdsUserSessionMessage Contoso Pool-Desktop sh1.contoso.com 3 -MessageTitle t -MessageBody ('x' * 16MB) -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue
                'FQID=' + $err[0].FullyQualifiedErrorId
                'MESSAGE=' + $err[0].Exception.Message
                'SURVIVED'
            }

            $result.ExitCode | Should -Be 0 -Because ($result.Output -join [Environment]::NewLine)
            $result.Output | Should -Contain 'SURVIVED'
            $result.Output | Should -Contain 'FQID=InvalidInput,RdsSessions.Commands.SendRdsUserSessionMessageCommand'
            ($result.Output | Where-Object { $_ -like 'MESSAGE=*' }) | Should -Match 'MessageBody'
            @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.route -eq 'sendMessageUser' }).Count | Should -Be 0
        }
    }

    Context '2. sign-in against an authority that never answers, and certificate paths that are not files (hangs that ignored Ctrl+C)' {
        It 'ends with AuthorityUnreachable after -TimeoutSec' {
            $silent = [RdsSessions.PesterTests.HostileServer]::new($null, $false)
            try {
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $caught = $null
                try {
                    Add-RdsAccount -DeploymentUrl $url -Credential $appCredential -ServicePrincipal -AadTenantId contoso.onmicrosoft.com -AuthorityHost $silent.Url -TimeoutSec 2
                }
                catch {
                    $caught = $_
                }
                $watch.Stop()
            }
            finally {
                $silent.Dispose()
            }

            $caught.FullyQualifiedErrorId | Should -BeLike 'AuthorityUnreachable,*'
            $caught.CategoryInfo.Category | Should -Be 'ConnectionError'
            $caught.Exception.Message | Should -Match 'did not answer within 2 s'
            $caught.Exception.Message | Should -Not -Match 'not-a-real-secret'
            # Bounded by -TimeoutSec (2 s), not minutes; a generous bound, not a timing test.
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
        }

        It 'stops at once on Ctrl+C (PowerShell.Stop()) while waiting, and the module stays usable' {
            $silent = [RdsSessions.PesterTests.HostileServer]::new($null, $false)
            $powershell = New-RdsSignedInPowerShell @childSignIn
            try {
                $null = $powershell.AddScript('param($Url, $Credential, $Authority) Add-RdsAccount -DeploymentUrl $Url -Credential $Credential -ServicePrincipal -AadTenantId contoso.onmicrosoft.com -AuthorityHost $Authority -TimeoutSec 600')
                $null = $powershell.AddParameter('Url', $url).AddParameter('Credential', $appCredential).AddParameter('Authority', $silent.Url)
                $run = $powershell.BeginInvoke()
                for ($i = 0; $i -lt 100 -and $silent.Connections -eq 0; $i++) { Start-Sleep -Milliseconds 50 }
                $silent.Connections | Should -Be 1
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $powershell.Stop()
                $watch.Stop()
                $run.IsCompleted | Should -BeTrue
                $watch.Elapsed.TotalSeconds | Should -BeLessThan 5

                $powershell.Commands.Clear()
                $null = $powershell.AddScript('param($Url, $Token) Add-RdsAccount -DeploymentUrl $Url -AccessToken $Token | Out-Null; @(Get-RdsUserSession Contoso Pool-Desktop).Count')
                $null = $powershell.AddParameter('Url', $url).AddParameter('Token', $suite.AccessToken)
                $count = $powershell.Invoke()
                $count[0] | Should -BeGreaterThan 0
            }
            finally {
                $powershell.Dispose()
                $silent.Dispose()
            }
        }

        It 'refuses <Path> as a certificate file at once (CertificateInvalid: not a regular file)' -Skip:(-not $onLinux) -ForEach @(
            @{ Path = '/dev/zero'; Fifo = $false }
            @{ Path = 'a FIFO'; Fifo = $true }
        ) {
            $certificatePath = $Path
            if ($Fifo) {
                $certificatePath = Join-Path ([System.IO.Path]::GetTempPath()) ('rds-cert-{0}.fifo' -f [guid]::NewGuid().ToString('N'))
                & mkfifo $certificatePath
            }
            try {
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $caught = $null
                try {
                    Add-RdsAccount -DeploymentUrl $url -CertificatePath $certificatePath -ApplicationId '00000000-0000-4000-8000-0000000000aa' -AadTenantId contoso.onmicrosoft.com -AuthorityHost $url
                }
                catch {
                    $caught = $_
                }
                $watch.Stop()
            }
            finally {
                if ($Fifo) { Remove-Item -LiteralPath $certificatePath -Force -ErrorAction SilentlyContinue }
            }

            $caught.FullyQualifiedErrorId | Should -BeLike 'CertificateInvalid,*'
            $caught.Exception.Message | Should -Match 'not a regular file'
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
        }
    }

    Context '4. a native library of another build (the check ran only on the first import)' {
        It 'fails Import-Module with a clear error on every import, not only the first' -Skip:(-not $onLinux) {
            $other = @('/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1', '/lib64/libz.so.1') |
                Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
            $other | Should -Not -BeNullOrEmpty -Because 'the test needs some other shared library to point at'

            $result = Invoke-RdsChildPwsh -Parameters @{ ManifestPath = $suite.ManifestPath; Library = $other } -ScriptText @'
param($ManifestPath, $Library)
$env:RDSSESSIONS_NATIVE_PATH = $Library
foreach ($attempt in 1, 2) {
    try {
        Import-Module -Name $ManifestPath -ErrorAction Stop
        "IMPORT $attempt SUCCEEDED"
    }
    catch {
        "IMPORT $attempt FAILED: $($_.Exception.Message)"
    }
}
try { Get-RdsContext -ErrorAction Stop; 'CMDLET RAN' } catch { 'CMDLET REFUSED: ' + $_.FullyQualifiedErrorId }
'@

            $text = $result.Output -join "`n"
            $text | Should -Match 'IMPORT 1 FAILED'
            $text | Should -Match 'IMPORT 2 FAILED'
            $text | Should -Not -Match 'SUCCEEDED'
            $text | Should -Not -Match 'EntryPointNotFoundException'
            $text | Should -Not -Match 'CMDLET RAN'
        }
    }

    Context '5. an answer that never ends (memory grew past 1 GB)' {
        It 'fails the listing with BrokerResponseTooLarge instead of reading it all' {
            $endless = [RdsSessions.PesterTests.HostileServer]::new($null, $true)
            try {
                $null = Add-RdsAccount -DeploymentUrl $endless.Url -AccessToken 'token' -MaximumRetryCount 0 -TimeoutSec 120
                $output = @(Get-RdsUserSession Contoso Pool-Desktop -ErrorVariable err -ErrorAction SilentlyContinue)
            }
            finally {
                $endless.Dispose()
            }

            $output.Count | Should -Be 0
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'BrokerResponseTooLarge,RdsSessions.Commands.GetRdsUserSessionCommand'
            $err[0].Exception.Message.Length | Should -BeLessThan 2000
        }
    }

    Context '6. escape sequences in a broker''s message (they cleared the screen and rang the bell)' {
        It 'never reach the error record: control characters are stripped, the text stays' {
            $body = '{"error":{"code":"Conflict\u001b[2J","message":"host down\u001b[2J\u001b[31m red\u0007\u0008\u009b"}}'
            $broker = [RdsSessions.PesterTests.HostileServer]::new([RdsSessions.PesterTests.HostileServer]::Answer(409, $body, $null), $false)
            try {
                $null = Add-RdsAccount -DeploymentUrl $broker.Url -AccessToken 'token' -MaximumRetryCount 0
                Invoke-RdsUserSessionLogoff Contoso Pool1 sh1 17 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue
            }
            finally {
                $broker.Dispose()
            }

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'BrokerConflict,*'
            $shown = $err[0].Exception.Message + $err[0].ErrorDetails.Message + ($err[0] | Out-String)
            $shown.ToCharArray() | Where-Object { [char]::IsControl($_) -and $_ -notin "`r", "`n" } | Should -BeNullOrEmpty
            $err[0].Exception.Message | Should -Match 'host down \[2J \[31m red'
        }
    }

    Context '7. echoes of URLs and values' {
        It 'Get-RdsContext -DeploymentUrl never shows a password typed in the URL' {
            Get-RdsContext -DeploymentUrl 'http://admin:Hunter2-secret@127.0.0.1:1' -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ContextNotFound,*'
            # (What pwsh shows of the command line itself is the user's own typing.)
            $err[0].Exception.Message + $err[0].TargetObject + $err[0].ErrorDetails | Should -Not -Match 'Hunter2'
            $err[0].Exception.Message | Should -Match 'not shown'
        }

        It 'refuses a 100,000-character -DeploymentUrl or -AuthorityHost with InvalidAccountParameters and a short echo' -ForEach @(
            @{ Parameter = 'DeploymentUrl' }
            @{ Parameter = 'AuthorityHost' }
        ) {
            $long = 'https://' + ('a' * 100000) + '.example'
            $arguments = @{ DeploymentUrl = $url; AccessToken = 'token' }
            if ($Parameter -eq 'AuthorityHost') {
                $arguments = @{ DeploymentUrl = $url; Credential = $appCredential; ServicePrincipal = $true; AadTenantId = 'contoso.onmicrosoft.com' }
            }
            $arguments[$Parameter] = $long
            $caught = $null
            try { Add-RdsAccount @arguments } catch { $caught = $_ }

            $caught.FullyQualifiedErrorId | Should -BeLike 'InvalidAccountParameters,*'
            ($caught | Out-String).Length | Should -BeLessThan 3000
        }

        It 'refuses a name with a lone surrogate (it was sent as U+FFFD) before anything is sent' {
            $lone = 'Contoso' + [char]0xD800
            Invoke-RdsUserSessionLogoff $lone Pool-Desktop sh1.contoso.com 3 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue

            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeExactly 'InvalidInput,RdsSessions.Commands.InvokeRdsUserSessionLogoffCommand'
            @(Get-RdsEmulatorRequests -Url $url | Where-Object { $_.route -eq 'logoffUser' }).Count | Should -Be 0
        }

        It 'says a refused redirect is one (it showed as BrokerBadRequest), and follows none' {
            $broker = [RdsSessions.PesterTests.HostileServer]::new([RdsSessions.PesterTests.HostileServer]::Answer(302, '', "Location: https://evil.example/steal`r`n"), $false)
            try {
                $null = Add-RdsAccount -DeploymentUrl $broker.Url -AccessToken 'token'
                Invoke-RdsUserSessionLogoff Contoso Pool1 sh1 17 -NoUserPrompt -ErrorVariable err -ErrorAction SilentlyContinue
                $connections = $broker.Connections
            }
            finally {
                $broker.Dispose()
            }

            $err[0].FullyQualifiedErrorId | Should -BeLike 'BrokerRedirectRefused,*'
            $err[0].Exception.Message | Should -Match 'redirect \(HTTP 302\)'
            $err[0].Exception.Message | Should -Not -Match 'steal'
            $connections | Should -Be 1
        }
    }
}
