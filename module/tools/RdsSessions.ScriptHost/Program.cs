// Runs `<script.ps1> [-Name value ...]` in a CreateDefault2 runspace and prints every output
// object, error, warning and verbose record. Exit code 1 when the script wrote an error.
using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: RdsSessions.ScriptHost <script.ps1> [-Name value]...");
    return 2;
}

var iss = InitialSessionState.CreateDefault2();
using var runspace = RunspaceFactory.CreateRunspace(iss);
runspace.Open();
using var ps = PowerShell.Create(runspace);
ps.AddCommand(System.IO.Path.GetFullPath(args[0]));
for (int i = 1; i < args.Length; i++)
{
    if (args[i].StartsWith('-') && i + 1 < args.Length)
    {
        ps.AddParameter(args[i].TrimStart('-'), args[++i]);
    }
    else
    {
        ps.AddArgument(args[i]);
    }
}

ps.Streams.Error.DataAdded += (s, e) => Console.Error.WriteLine("ERROR: " + ((PSDataCollection<ErrorRecord>)s!)[e.Index]);
ps.Streams.Warning.DataAdded += (s, e) => Console.WriteLine("WARNING: " + ((PSDataCollection<WarningRecord>)s!)[e.Index]);
ps.Streams.Verbose.DataAdded += (s, e) => Console.WriteLine("VERBOSE: " + ((PSDataCollection<VerboseRecord>)s!)[e.Index]);
var output = new PSDataCollection<PSObject>();
output.DataAdded += (s, e) => Console.WriteLine(((PSDataCollection<PSObject>)s!)[e.Index]?.ToString());
try
{
    ps.Invoke<PSObject, PSObject>(null, output, new PSInvocationSettings());
}
catch (RuntimeException e)
{
    Console.Error.WriteLine("ERROR: " + e.ErrorRecord);
    return 1;
}

// Errors the script silenced (-ErrorAction SilentlyContinue) are not failures.
return ps.Streams.Error.Count > 0 ? 1 : 0;
