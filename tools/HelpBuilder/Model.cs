// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Linq;

namespace RdsSessions.HelpBuilder
{
    /// <summary>A markdown file that does not follow the platyPS schema: names the file, line and heading.</summary>
    public sealed class HelpFormatException : Exception
    {
        public HelpFormatException(string file, int line, string heading, string problem)
            : base(Format(file, line, heading, problem))
        {
            File = file;
            Line = line;
            Heading = heading;
            Problem = problem;
        }

        public string File { get; }

        /// <summary>1-based; 0 when the problem is the file as a whole.</summary>
        public int Line { get; }

        /// <summary>The heading path, such as "## PARAMETERS > ### -TenantName" (empty for the whole file).</summary>
        public string Heading { get; }

        public string Problem { get; }

        private static string Format(string file, int line, string heading, string problem)
        {
            string where = line > 0 ? $"{file}:{line}" : file;
            return string.IsNullOrEmpty(heading) ? $"{where}: {problem}" : $"{where}: {heading}: {problem}";
        }
    }

    /// <summary>One cmdlet's help, as read from its platyPS markdown file.</summary>
    public sealed class CommandHelp
    {
        public required string Name { get; init; }

        public List<string> Synopsis { get; } = new();

        public List<string> Description { get; } = new();

        public List<SyntaxSet> Syntax { get; } = new();

        public List<ParameterHelp> Parameters { get; } = new();

        public List<TypeHelp> Inputs { get; } = new();

        public List<TypeHelp> Outputs { get; } = new();

        public List<string> Notes { get; } = new();

        public List<ExampleHelp> Examples { get; } = new();

        public List<LinkHelp> Links { get; } = new();

        public string Verb => Name.Contains('-', StringComparison.Ordinal) ? Name[..Name.IndexOf('-', StringComparison.Ordinal)] : Name;

        public string Noun => Name.Contains('-', StringComparison.Ordinal) ? Name[(Name.IndexOf('-', StringComparison.Ordinal) + 1)..] : string.Empty;
    }

    /// <summary>One "### SetName" of ## SYNTAX: the parameters its syntax line shows, in that order.</summary>
    public sealed class SyntaxSet
    {
        public required string Name { get; init; }

        /// <summary>Marked "### Name (Default)".</summary>
        public bool IsDefault { get; init; }

        /// <summary>The line of its heading (1-based), for errors.</summary>
        public int Line { get; init; }

        public List<string> ParameterNames { get; } = new();
    }

    /// <summary>One "### -Name" of ## PARAMETERS.</summary>
    public sealed class ParameterHelp
    {
        public required string Name { get; init; }

        public List<string> Description { get; } = new();

        /// <summary>One entry per yaml block: platyPS writes one per group of parameter sets that agree.</summary>
        public List<ParameterMetadata> Metadata { get; } = new();

        /// <summary>The metadata that applies in parameter set <paramref name="setName"/>, or null.</summary>
        public ParameterMetadata? For(string setName)
        {
            foreach (ParameterMetadata metadata in Metadata)
            {
                if (metadata.AllSets || metadata.Sets.Contains(setName, StringComparer.Ordinal))
                {
                    return metadata;
                }
            }

            return null;
        }
    }

    /// <summary>The yaml block of a parameter, normalised to what MAML carries.</summary>
    public sealed class ParameterMetadata
    {
        public required string Type { get; init; }

        /// <summary>True for "Parameter Sets: (All)".</summary>
        public bool AllSets { get; init; }

        public List<string> Sets { get; } = new();

        public List<string> Aliases { get; } = new();

        public List<string> AcceptedValues { get; } = new();

        public bool Required { get; init; }

        /// <summary>"0", "1", ... or "named" (MAML's spelling).</summary>
        public required string Position { get; init; }

        public required string DefaultValue { get; init; }

        /// <summary>"False", "True (ByValue)", "True (ByPropertyName)" or "True (ByValue, ByPropertyName)".</summary>
        public required string PipelineInput { get; init; }

        public bool Globbing { get; init; }

        public int Line { get; init; }

        public bool IsSwitch => Type is "SwitchParameter" or "System.Management.Automation.SwitchParameter";
    }

    /// <summary>An input or output type with its description.</summary>
    public sealed class TypeHelp
    {
        public required string Name { get; init; }

        public List<string> Description { get; } = new();
    }

    /// <summary>One "### Example N: ..." of ## EXAMPLES.</summary>
    public sealed class ExampleHelp
    {
        public required string Title { get; init; }

        public required string Code { get; init; }

        public List<string> Remarks { get; } = new();
    }

    /// <summary>A related link: text and, for absolute URLs, the URI (links to other markdown files have none).</summary>
    public sealed record LinkHelp(string Text, string Uri);
}
