// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Management.Automation;

namespace RdsSessions
{
    /// <summary>Module-wide constants and helpers shared by the cmdlets.</summary>
    public static class RdsModule
    {
        /// <summary>The tenant group Add-RdsAccount selects (as the original does).</summary>
        public const string DefaultTenantGroup = "Default Tenant Group";

        /// <summary>The session's context, or a terminating error telling the user what to run.</summary>
        internal static RdsContext RequireContext(PSCmdlet cmdlet)
        {
            RdsContext? context = RdsContextStore.Current;
            if (context is null)
            {
                var error = new ErrorRecord(
                    new InvalidOperationException(
                        "There is no RDS context in this PowerShell session. Run Add-RdsAccount -DeploymentUrl <url> first."),
                    BrokerErrors.NoContext,
                    ErrorCategory.InvalidOperation,
                    null);
                error.ErrorDetails = new ErrorDetails(error.Exception.Message)
                {
                    RecommendedAction = "Run Add-RdsAccount -DeploymentUrl https://rdbroker.wvd.microsoft.com (with your credentials).",
                };
                cmdlet.ThrowTerminatingError(error);
            }

            return context!;
        }
    }
}
