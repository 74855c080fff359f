// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;

namespace RdsSessions.Commands
{
    /// <summary>
    /// <para type="synopsis">Shows the RDS context of this PowerShell session.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "RdsContext")]
    [OutputType(typeof(RdsContext))]
    public sealed class GetRdsContextCommand : RdsCmdletBase
    {
        #region Parameters

        /// <summary>Only return the context when it is for this deployment URL.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DeploymentUrl { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            RdsContext context = RequireContext();
            if (DeploymentUrl is not null
                && !string.Equals(DeploymentUrl.TrimEnd('/'), context.DeploymentUrl, StringComparison.OrdinalIgnoreCase))
            {
                // Through the one redaction function: a URL typed with user:password@ is never shown.
                string asked = NativeCalls.ShownUrl(DeploymentUrl);
                WriteError(BrokerErrors.Record(
                    new ItemNotFoundException($"There is no RDS context for {asked}; the current one is for {context.DeploymentUrl}."),
                    "ContextNotFound",
                    asked));
                return;
            }

            WriteObject(context);
        }

        #endregion
    }
}
