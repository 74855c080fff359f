// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using RdsSessions.Native;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Signs in to a Windows Virtual Desktop (classic) deployment.</para>
    /// <para type="description">Signs in with a user credential (or interactively with a device
    /// code), as a service principal with a secret or a certificate, with a managed identity, or
    /// with a token obtained elsewhere. Stores the context (deployment URL, tenant group
    /// "Default Tenant Group", credentials) for this PowerShell session; every other cmdlet
    /// uses it. Tokens are acquired and renewed by the native library and never shown.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "RdsAccount", DefaultParameterSetName = CredentialSet)]
    [OutputType(typeof(RdsContext))]
    public sealed class AddRdsAccountCommand : RetrySettingsCommandBase
    {
        private const string CredentialSet = "AddAccountWithCredential";
        private const string ServicePrincipalSet = "AddAccountWithServicePrincipal";
        private const string ThumbprintSet = "AddAccountWithThumbprint";
        private const string CertificateFileSet = "AddAccountWithCertificateFile";
        private const string IdentitySet = "AddAccountWithManagedIdentity";
        private const string AccessTokenSet = "AddAccountWithAccessToken";

        /// <summary>The Azure SDK convention for sovereign clouds (and the emulator).</summary>
        private const string AuthorityHostVariable = "AZURE_AUTHORITY_HOST";

        /// <summary>Hex digits of a SHA-1 thumbprint, the only kind the Windows store shows.</summary>
        private const int Sha1HexDigits = 40;

        #region Parameters

        /// <summary>The broker URL, for example https://rdbroker.wvd.microsoft.com.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string DeploymentUrl { get; set; } = string.Empty;

        /// <summary>A user's credential; or, with -ServicePrincipal, the application id and its secret. Without it, sign-in is interactive (device code).</summary>
        [Parameter(Position = 1, ParameterSetName = CredentialSet)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = ServicePrincipalSet)]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Signs in as the service principal whose application id and secret are the credential's user name and password.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ServicePrincipalSet)]
        public SwitchParameter ServicePrincipal { get; set; }

        /// <summary>The Entra ID (Azure AD) tenant: GUID or domain name.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ServicePrincipalSet)]
        [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet)]
        [Parameter(Mandatory = true, ParameterSetName = CertificateFileSet)]
        [Parameter(ParameterSetName = CredentialSet)]
        [Alias("TenantId")]
        [ValidateNotNullOrEmpty]
        public string? AadTenantId { get; set; }

        /// <summary>Thumbprint of a certificate (with private key) in the CurrentUser or LocalMachine "My" store.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet)]
        [ValidateNotNullOrEmpty]
        public string CertificateThumbprint { get; set; } = string.Empty;

        /// <summary>The application (client) id of the service principal.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet)]
        [Parameter(Mandatory = true, ParameterSetName = CertificateFileSet)]
        [ValidateNotNullOrEmpty]
        public string ApplicationId { get; set; } = string.Empty;

        /// <summary>A PFX/P12 file, or a PEM file with the certificate and an unencrypted private key (works on every OS).</summary>
        [Parameter(Mandatory = true, ParameterSetName = CertificateFileSet)]
        [ValidateNotNullOrEmpty]
        public string CertificatePath { get; set; } = string.Empty;

        /// <summary>Password of the PFX file.</summary>
        [Parameter(ParameterSetName = CertificateFileSet)]
        public SecureString? CertificatePassword { get; set; }

        /// <summary>Signs in with the managed identity of the Azure VM, App Service, Function or Automation account.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdentitySet)]
        public SwitchParameter Identity { get; set; }

        /// <summary>Client id of a user-assigned managed identity (default: the system-assigned one).</summary>
        [Parameter(ParameterSetName = IdentitySet)]
        [ValidateNotNullOrEmpty]
        public string? ClientId { get; set; }

        /// <summary>A bearer token for the broker obtained elsewhere. It is never shown or logged.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AccessTokenSet)]
        [ValidateNotNullOrEmpty]
        public string AccessToken { get; set; } = string.Empty;

        /// <summary>The sign-in authority, for sovereign clouds (default: $env:AZURE_AUTHORITY_HOST, else https://login.microsoftonline.com).</summary>
        [Parameter(ParameterSetName = CredentialSet)]
        [Parameter(ParameterSetName = ServicePrincipalSet)]
        [Parameter(ParameterSetName = ThumbprintSet)]
        [Parameter(ParameterSetName = CertificateFileSet)]
        [ValidateNotNullOrEmpty]
        public string? AuthorityHost { get; set; }

        /// <summary>
        /// The ARM mapping for this sign-in, as a hashtable: @{ Contoso = @{ SubscriptionId = '...'; ResourceGroup = 'rg' } }
        /// (or the mapping file's shape). Without it, the file $env:RDSSESSIONS_ARM_MAPPING names is read, else the per-user file.
        /// </summary>
        [Parameter]
        [ValidateNotNull]
        public IDictionary? ArmMapping { get; set; }

        /// <inheritdoc />
        [Parameter]
        public override SwitchParameter NoArmPacing { get; set; }

        /// <inheritdoc />
        [Parameter]
        [ValidateRetrySetting(RetrySetting.MaximumRetryCount)]
        public override int? MaximumRetryCount { get; set; }

        /// <inheritdoc />
        [Parameter]
        [ValidateRetrySetting(RetrySetting.RetryIntervalSec)]
        public override double? RetryIntervalSec { get; set; }

        /// <inheritdoc />
        [Parameter]
        [ValidateRetrySetting(RetrySetting.RetryTimeoutSec)]
        public override int? RetryTimeoutSec { get; set; }

        /// <inheritdoc />
        [Parameter]
        [ValidateRetrySetting(RetrySetting.TimeoutSec)]
        public override int? TimeoutSec { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            string? authority = AuthorityHost ?? Environment.GetEnvironmentVariable(AuthorityHostVariable);
            WriteDebug($"Parameter set {ParameterSetName}; authority host {authority ?? "(public cloud)"}; tenant group '{RdsModule.DefaultTenantGroup}'.");
            RdsConnection connection;
            try
            {
                // The retry settings apply to the sign-in's own requests too (-TimeoutSec).
                var sign = new SignInRequest(SignInMode.AccessToken, DeploymentUrl, RdsModule.DefaultTenantGroup, MergeRetrySettings(NativeCalls.DefaultRetrySettings()))
                {
                    AuthorityHost = authority,
                    ArmMapping = ArmMapping is null ? ArmMappingConfig.Find() : (ArmMappingConfig.FromHashtable(ArmMapping), "-ArmMapping"),
                    DefaultMappingPath = ArmMappingConfig.DefaultPath,
                };
                SignInRequest request = ParameterSetName switch
                {
                    AccessTokenSet => sign with { Mode = SignInMode.AccessToken, Secret = AccessToken, SecretParameter = nameof(AccessToken) },
                    ServicePrincipalSet when ServicePrincipal.IsPresent => AsServicePrincipal(sign),
                    // -ServicePrincipal:$false: the credential is a user's, as a script computing the flag means.
                    ServicePrincipalSet => AsUser(sign, Credential!),
                    ThumbprintSet => WithStoreCertificate(sign),
                    CertificateFileSet => WithCertificateFile(sign),
                    IdentitySet => WithManagedIdentity(sign),
                    _ when Credential is not null => AsUser(sign, Credential),
                    _ => WithDeviceCode(sign),
                };
                // A device code reaches the user as a warning in every host, including when
                // output is captured, which is how Connect-AzAccount shows its code too.
                connection = NativeCalls.SignIn(request, WriteWarning, WriteVerbose, CancelToken);
            }
            catch (RdsBrokerException e)
            {
                // No target object: the URL as given may carry user-info (a password).
                ThrowTerminatingError(e.ToErrorRecord(null));
                return;
            }
            catch (OperationCanceledException) when (CancelToken.IsCancellationRequested)
            {
                // Ctrl+C: the sign-in's requests were dropped in the native runtime.
                throw new PipelineStoppedException();
            }

            RdsContext context = RdsContext.From(connection);
            if (NoArmPacing)
            {
                context = context.WithPacing(false);
            }

            RdsContextStore.Set(context);
            if (HasRetryValues)
            {
                WriteVerbose($"Retry settings: {context.MaximumRetryCount} retries, first after {context.RetryIntervalSec} s, " +
                    $"none later than {context.RetryTimeoutSec} s; request timeout {context.TimeoutSec} s.");
            }

            WriteVerbose(context.ArmEndpoint is null
                ? $"Signed in to {context.DeploymentUrl} as {context.UserName ?? "(token holder)"}; tenant group '{context.TenantGroupName}'."
                : $"Signed in to Azure Resource Manager at {context.ArmEndpoint} (api-version {context.ApiVersion}) as {context.UserName ?? "(token holder)"}.");
            WriteObject(context);
        }

        #endregion

        private SignInRequest AsServicePrincipal(SignInRequest sign)
        {
            WriteVerbose($"Signing in as application {Credential!.UserName} in tenant {AadTenantId}.");
            return sign with
            {
                Mode = SignInMode.ClientSecret,
                TenantId = AadTenantId,
                ClientId = Credential.UserName,
                ClientIdParameter = nameof(Credential),
                Secret = Credential.GetNetworkCredential().Password,
            };
        }

        private SignInRequest AsUser(SignInRequest sign, PSCredential credential)
        {
            WriteVerbose($"Signing in as {credential.UserName}.");
            return sign with
            {
                Mode = SignInMode.Password,
                TenantId = AadTenantId,
                UserName = credential.UserName,
                Secret = credential.GetNetworkCredential().Password,
            };
        }

        private SignInRequest WithCertificateFile(SignInRequest sign)
        {
            string path = GetUnresolvedProviderPathFromPSPath(CertificatePath);
            WriteVerbose($"Signing in as application {ApplicationId} with the certificate file {path}.");
            return sign with
            {
                Mode = SignInMode.CertificateFile,
                TenantId = AadTenantId,
                ClientId = ApplicationId,
                CertificatePath = path,
                Secret = CertificatePassword is null ? null : new NetworkCredential(string.Empty, CertificatePassword).Password,
                SecretParameter = nameof(CertificatePassword),
            };
        }

        private SignInRequest WithStoreCertificate(SignInRequest sign)
        {
            // Separators (spaces, colons) and the invisible marks the Windows certificate dialog
            // copies along are dropped; what is left must be a SHA-1 thumbprint.
            string thumbprint = new string(CertificateThumbprint.Where(Uri.IsHexDigit).ToArray()).ToUpperInvariant();
            if (thumbprint.Length != Sha1HexDigits
                || CertificateThumbprint.Any(c => char.IsLetterOrDigit(c) && !Uri.IsHexDigit(c)))
            {
                throw RdsBrokerException.Local(
                    "InvalidCertificateThumbprint",
                    $"Invalid CertificateThumbprint: a thumbprint is {Sha1HexDigits} hexadecimal digits (the certificate's SHA-1 hash), " +
                    $"as Get-ChildItem Cert:\\CurrentUser\\My shows it; the value given has {thumbprint.Length} hexadecimal digits.");
            }

            using X509Certificate2 certificate = FindCertificate(thumbprint);
            using RSA key = certificate.GetRSAPrivateKey()
                ?? throw Refuse("CertificateInvalid", $"The certificate {thumbprint} has no RSA private key this process can use.");
            WriteVerbose($"Signing in as application {ApplicationId} with certificate {thumbprint} ({certificate.Subject}).");
            return sign with
            {
                Mode = SignInMode.CertificatePem,
                TenantId = AadTenantId,
                ClientId = ApplicationId,
                // The key leaves the store only as far as the native library, which holds it zeroed.
                Secret = certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem(),
                SecretParameter = nameof(CertificateThumbprint),
            };
        }

        /// <summary>CurrentUser\My, then LocalMachine\My (the latter exists on Windows only).</summary>
        private static X509Certificate2 FindCertificate(string thumbprint)
        {
            foreach (StoreLocation location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
            {
                try
                {
                    using var store = new X509Store(StoreName.My, location);
                    store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                    X509Certificate2Collection found = store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint, validOnly: false);
                    if (found.Count > 0)
                    {
                        return found[0];
                    }
                }
                catch (CryptographicException)
                {
                    // The store does not exist for this location on this OS.
                }
                catch (PlatformNotSupportedException)
                {
                }
            }

            throw Refuse("CertificateNotFound",
                $"No certificate with thumbprint {thumbprint} is in the CurrentUser or LocalMachine 'My' store. " +
                "(On Linux and macOS that is the .NET store of the current user.) Or use -CertificatePath with a PFX or PEM file.");
        }

        /// <summary>The endpoint variables are read here: on Unix .NET (and so $env: in PowerShell) keeps its own environment block that native code cannot see.</summary>
        private SignInRequest WithManagedIdentity(SignInRequest sign)
        {
            WriteVerbose(ClientId is null ? "Signing in with the system-assigned managed identity." : $"Signing in with the managed identity {ClientId}.");
            return sign with
            {
                Mode = SignInMode.ManagedIdentity,
                ClientId = ClientId,
                ClientIdParameter = nameof(ClientId),
                IdentityEndpoint = Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT"),
                Secret = Environment.GetEnvironmentVariable("IDENTITY_HEADER"),
                SecretParameter = "IDENTITY_HEADER",
                ImdsEndpoint = Environment.GetEnvironmentVariable("IMDS_ENDPOINT"),
            };
        }

        private SignInRequest WithDeviceCode(SignInRequest sign)
        {
            WriteVerbose("Signing in interactively with a device code.");
            return sign with { Mode = SignInMode.DeviceCode, TenantId = AadTenantId };
        }

        private static RdsBrokerException Refuse(string code, string message) => RdsBrokerException.Local(code, message);
    }
}
