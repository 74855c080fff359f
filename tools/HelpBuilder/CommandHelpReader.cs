// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RdsSessions.HelpBuilder
{
    /// <summary>
    /// Reads one cmdlet's help in the platyPS markdown schema (2.0.0):
    /// <code>
    /// ---                               front matter (optional): external help file, Module Name, online version, schema
    /// # Verb-Noun
    /// ## SYNOPSIS                       required, not empty
    /// ## SYNTAX                         required: ### SetName [(Default)] + one code block each
    /// ## DESCRIPTION                    required
    /// ## EXAMPLES                       required: ### title, text, ```powershell code``` (at least one), text
    /// ## PARAMETERS                     required: ### -Name, description, ```yaml metadata``` (one or more); ### CommonParameters
    /// ## INPUTS / ## OUTPUTS            required: ### TypeName + description
    /// ## NOTES                          optional
    /// ## RELATED LINKS                  optional: [text](url) per paragraph or list item
    /// </code>
    /// Anything else is an error that names the file, the line and the heading. Content checks
    /// (is a description empty?) are left to the help tests, which look at what Get-Help shows.
    /// </summary>
    public sealed class CommandHelpReader
    {
        private const string AllParameterSets = "__AllParameterSets";

        private static readonly string[] s_requiredSections = { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS" };
        private static readonly string[] s_knownSections = { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS" };

        private static readonly string[] s_requiredKeys =
            { "Type", "Parameter Sets", "Required", "Position", "Default value", "Accept pipeline input", "Accept wildcard characters" };

        private static readonly string[] s_optionalKeys = { "Aliases", "Accepted values", "Applicable" };

        private static readonly HashSet<string> s_codeLanguages = new(StringComparer.OrdinalIgnoreCase)
        {
            string.Empty, "powershell", "pwsh", "ps", "ps1", "posh",
        };

        private static readonly Regex s_parameterToken = new(@"(?:^|[\s\[])-(?<name>[A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant);
        private static readonly Regex s_pipelineInput = new(
            @"^(?:(?<false>false)|true\s*\(\s*(?<kinds>(?:byvalue|bypropertyname)(?:\s*,\s*(?:byvalue|bypropertyname))?)\s*\))$",
            RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

        private readonly string _file;
        private readonly string _helpFileName;
        private readonly string? _moduleName;

        private CommandHelpReader(string file, string helpFileName, string? moduleName)
        {
            _file = file;
            _helpFileName = helpFileName;
            _moduleName = moduleName;
        }

        /// <summary>Reads <paramref name="path"/>; errors name it as <paramref name="displayPath"/>.</summary>
        public static CommandHelp Read(string path, string displayPath, string helpFileName, string? moduleName)
        {
            return new CommandHelpReader(displayPath, helpFileName, moduleName).Read(File.ReadAllText(path));
        }

        private HelpFormatException Error(Block? block, string heading, string problem) =>
            new(_file, block is null ? 0 : block.Line + 1, heading, problem);

        private CommandHelp Read(string markdown)
        {
            MarkdownDocument document = Markdown.Parse(markdown, MarkdownText.Pipeline);
            string expectedName = Path.GetFileNameWithoutExtension(_file);

            var blocks = document.ToList();
            int index = 0;
            string? onlineVersion = null;
            if (blocks.Count > 0 && blocks[0] is YamlFrontMatterBlock frontMatter)
            {
                onlineVersion = ReadFrontMatter(frontMatter);
                index = 1;
            }

            while (index < blocks.Count && MarkdownText.IsIgnorable(blocks[index]))
            {
                index++;
            }

            if (index >= blocks.Count || blocks[index] is not HeadingBlock { Level: 1 } title)
            {
                throw Error(index < blocks.Count ? blocks[index] : null, string.Empty, $"the file must start with the title '# {expectedName}'");
            }

            string name = MarkdownText.Inline(title.Inline);
            if (!string.Equals(name, expectedName, StringComparison.Ordinal))
            {
                throw Error(title, "# " + name, $"the title must be the command name, '{expectedName}' (the file name)");
            }

            var help = new CommandHelp { Name = name };

            // Split the rest into ## sections.
            var sections = new List<(HeadingBlock Heading, string Name, List<Block> Blocks)>();
            for (index++; index < blocks.Count; index++)
            {
                Block block = blocks[index];
                if (block is HeadingBlock { Level: 2 } h2)
                {
                    string sectionName = MarkdownText.Inline(h2.Inline);
                    if (!s_knownSections.Contains(sectionName, StringComparer.Ordinal))
                    {
                        throw Error(h2, "## " + sectionName,
                            $"unknown section; the platyPS sections are {string.Join(", ", s_knownSections.Select(s => "## " + s))}");
                    }

                    if (sections.Any(s => s.Name == sectionName))
                    {
                        throw Error(h2, "## " + sectionName, "the section appears twice");
                    }

                    sections.Add((h2, sectionName, new List<Block>()));
                }
                else if (block is HeadingBlock { Level: 1 } extraTitle)
                {
                    throw Error(extraTitle, "# " + MarkdownText.Inline(extraTitle.Inline), "a second title; a help file documents one command");
                }
                else if (sections.Count == 0)
                {
                    if (!MarkdownText.IsIgnorable(block))
                    {
                        throw Error(block, "# " + name, "text between the title and ## SYNOPSIS");
                    }
                }
                else
                {
                    sections[^1].Blocks.Add(block);
                }
            }

            foreach (string required in s_requiredSections)
            {
                if (!sections.Any(s => s.Name == required))
                {
                    throw Error(title, "# " + name, $"the section ## {required} is missing");
                }
            }

            foreach (var (heading, sectionName, sectionBlocks) in sections)
            {
                string where = "## " + sectionName;
                switch (sectionName)
                {
                    case "SYNOPSIS":
                        help.Synopsis.AddRange(TextOnly(sectionBlocks, where));
                        break;
                    case "DESCRIPTION":
                        help.Description.AddRange(MarkdownText.Paragraphs(sectionBlocks));
                        break;
                    case "NOTES":
                        help.Notes.AddRange(MarkdownText.Paragraphs(sectionBlocks));
                        break;
                    case "SYNTAX":
                        ReadSyntax(help, heading, sectionBlocks);
                        break;
                    case "EXAMPLES":
                        ReadExamples(help, sectionBlocks);
                        break;
                    case "PARAMETERS":
                        ReadParameters(help, sectionBlocks);
                        break;
                    case "INPUTS":
                        help.Inputs.AddRange(ReadTypes(heading, sectionName, sectionBlocks));
                        break;
                    case "OUTPUTS":
                        help.Outputs.AddRange(ReadTypes(heading, sectionName, sectionBlocks));
                        break;
                    case "RELATED LINKS":
                        ReadLinks(help, sectionBlocks);
                        break;
                }
            }

            if (onlineVersion is not null)
            {
                help.Links.Insert(0, new LinkHelp("Online Version:", onlineVersion));
            }

            CheckSyntaxAgainstParameters(help);
            return help;
        }

        /// <summary>Checks the front matter's keys that matter to MAML and returns "online version" (null when empty).</summary>
        private string? ReadFrontMatter(YamlFrontMatterBlock frontMatter)
        {
            string text = MarkdownText.Code(frontMatter);
            // The block's lines include the --- fences.
            text = string.Join("\n", text.Split('\n').Where(line => line.Trim() != "---"));
            Dictionary<string, string> values = ParseYamlMapping(text, frontMatter, "front matter");

            if (values.TryGetValue("schema", out string? schema) && schema.Length > 0 && schema != "2.0.0")
            {
                throw Error(frontMatter, "front matter", $"schema '{schema}' is not supported (platyPS schema 2.0.0 is)");
            }

            if (values.TryGetValue("external help file", out string? helpFile) && helpFile.Length > 0 &&
                !string.Equals(helpFile, _helpFileName, StringComparison.OrdinalIgnoreCase))
            {
                throw Error(frontMatter, "front matter", $"'external help file: {helpFile}' must be '{_helpFileName}', the help file this builds");
            }

            if (_moduleName is not null && values.TryGetValue("Module Name", out string? module) && module.Length > 0 &&
                !string.Equals(module, _moduleName, StringComparison.OrdinalIgnoreCase))
            {
                throw Error(frontMatter, "front matter", $"'Module Name: {module}' must be '{_moduleName}'");
            }

            return values.TryGetValue("online version", out string? online) && online.Length > 0 ? online : null;
        }

        /// <summary>Parses a YAML mapping of scalars (a front matter or a parameter's metadata block).</summary>
        private Dictionary<string, string> ParseYamlMapping(string text, Block block, string where)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(text));
            }
            catch (YamlException e)
            {
                throw new HelpFormatException(_file, block.Line + 1 + (int)e.Start.Line, where, $"invalid YAML: {e.Message}");
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            if (stream.Documents.Count == 0)
            {
                return values;
            }

            if (stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                throw Error(block, where, "the YAML block must be a mapping of 'Key: value' lines");
            }

            foreach (var (key, value) in mapping.Children)
            {
                string keyText = key is YamlScalarNode keyScalar ? keyScalar.Value ?? string.Empty : key.ToString();
                if (value is not YamlScalarNode scalar)
                {
                    throw Error(block, where, $"'{keyText}' must have a single value");
                }

                values[keyText] = (scalar.Value ?? string.Empty).Trim();
            }

            return values;
        }

        /// <summary>Paragraphs of a section that must not contain ### headings (SYNOPSIS).</summary>
        private List<string> TextOnly(List<Block> blocks, string where)
        {
            Block? heading = blocks.FirstOrDefault(b => b is HeadingBlock);
            if (heading is not null)
            {
                throw Error(heading, where, "no headings are allowed in this section");
            }

            return MarkdownText.Paragraphs(blocks);
        }

        /// <summary>Splits a section's blocks at its ### headings; deeper headings are errors.</summary>
        private List<(HeadingBlock Heading, string Title, List<Block> Blocks)> SplitH3(List<Block> blocks, string where, out List<Block> preamble)
        {
            preamble = new List<Block>();
            var parts = new List<(HeadingBlock, string, List<Block>)>();
            foreach (Block block in blocks)
            {
                if (block is HeadingBlock heading)
                {
                    string text = MarkdownText.Inline(heading.Inline);
                    if (heading.Level != 3)
                    {
                        throw Error(heading, where, $"'{new string('#', heading.Level)} {text}': this section uses ### headings only");
                    }

                    parts.Add((heading, text, new List<Block>()));
                }
                else if (parts.Count == 0)
                {
                    if (!MarkdownText.IsIgnorable(block))
                    {
                        preamble.Add(block);
                    }
                }
                else
                {
                    parts[^1].Item3.Add(block);
                }
            }

            return parts;
        }

        private void ReadSyntax(CommandHelp help, HeadingBlock sectionHeading, List<Block> blocks)
        {
            const string where = "## SYNTAX";
            var parts = SplitH3(blocks, where, out List<Block> preamble);
            if (parts.Count == 0)
            {
                // One parameter set, written without its name.
                parts.Add((sectionHeading, AllParameterSets, preamble));
            }
            else if (preamble.Count > 0)
            {
                throw Error(preamble[0], where, "text before the first ### parameter set heading");
            }

            foreach (var (heading, title, partBlocks) in parts)
            {
                bool isDefault = Regex.IsMatch(title, @"\(Default\)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
                string setName = Regex.Replace(title, @"\s*\(Default\)\s*$", string.Empty, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant).Trim();
                string partWhere = setName == AllParameterSets && ReferenceEquals(heading, sectionHeading) ? where : $"{where} > ### {title}";
                var codeBlocks = partBlocks.OfType<CodeBlock>().ToList();
                if (codeBlocks.Count != 1 || partBlocks.Any(b => b is not CodeBlock && !MarkdownText.IsIgnorable(b)))
                {
                    throw Error(heading, partWhere, "each parameter set needs exactly one code block with its syntax line, and nothing else");
                }

                if (help.Syntax.Any(s => s.Name == setName))
                {
                    throw Error(heading, partWhere, $"parameter set '{setName}' appears twice");
                }

                string line = Regex.Replace(MarkdownText.Code(codeBlocks[0]), @"\s+", " ").Trim();
                if (!line.StartsWith(help.Name + " ", StringComparison.Ordinal) && line != help.Name)
                {
                    throw Error(codeBlocks[0], partWhere, $"the syntax line must start with the command name '{help.Name}'");
                }

                var set = new SyntaxSet { Name = setName, IsDefault = isDefault || parts.Count == 1, Line = heading.Line + 1 };
                foreach (Match match in s_parameterToken.Matches(line[help.Name.Length..]))
                {
                    string parameterName = match.Groups["name"].Value;
                    if (set.ParameterNames.Contains(parameterName, StringComparer.OrdinalIgnoreCase))
                    {
                        throw Error(codeBlocks[0], partWhere, $"-{parameterName} appears twice in the syntax line");
                    }

                    set.ParameterNames.Add(parameterName);
                }

                help.Syntax.Add(set);
            }
        }

        private void ReadExamples(CommandHelp help, List<Block> blocks)
        {
            const string where = "## EXAMPLES";
            var parts = SplitH3(blocks, where, out List<Block> preamble);
            if (preamble.Count > 0)
            {
                throw Error(preamble[0], where, "text before the first ### example heading");
            }

            foreach (var (heading, title, partBlocks) in parts)
            {
                string partWhere = $"{where} > ### {title}";
                var code = new List<string>();
                var remarks = new List<Block>();
                foreach (Block block in partBlocks)
                {
                    if (block is FencedCodeBlock fenced && s_codeLanguages.Contains((fenced.Info ?? string.Empty).Trim()))
                    {
                        code.Add(MarkdownText.Code(fenced));
                    }
                    else
                    {
                        // Prose around the code, and output blocks (```output, ```text).
                        remarks.Add(block);
                    }
                }

                if (code.Count == 0)
                {
                    throw Error(heading, partWhere, "the example has no ```powershell code block");
                }

                var example = new ExampleHelp { Title = title, Code = string.Join("\n\n", code) };
                example.Remarks.AddRange(MarkdownText.Paragraphs(remarks));
                help.Examples.Add(example);
            }
        }

        private void ReadParameters(CommandHelp help, List<Block> blocks)
        {
            const string where = "## PARAMETERS";
            var parts = SplitH3(blocks, where, out List<Block> preamble);
            if (preamble.Count > 0)
            {
                throw Error(preamble[0], where, "text before the first ### -Parameter heading");
            }

            foreach (var (heading, title, partBlocks) in parts)
            {
                string partWhere = $"{where} > ### {title}";
                if (title == "CommonParameters")
                {
                    continue;
                }

                if (!title.StartsWith('-') || title.Length < 2 || title.Skip(1).Any(c => !char.IsLetterOrDigit(c) && c != '_'))
                {
                    throw Error(heading, partWhere, "parameter headings are '### -Name' (or '### CommonParameters')");
                }

                string name = title[1..];
                if (help.Parameters.Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
                {
                    throw Error(heading, partWhere, "the parameter is documented twice");
                }

                var parameter = new ParameterHelp { Name = name };
                var description = new List<Block>();
                foreach (Block block in partBlocks)
                {
                    if (block is FencedCodeBlock fenced && string.Equals((fenced.Info ?? string.Empty).Trim(), "yaml", StringComparison.OrdinalIgnoreCase))
                    {
                        parameter.Metadata.Add(ReadParameterMetadata(fenced, partWhere));
                    }
                    else if (parameter.Metadata.Count > 0 && !MarkdownText.IsIgnorable(block))
                    {
                        throw Error(block, partWhere, "text after the ```yaml metadata block; the description goes before it");
                    }
                    else
                    {
                        description.Add(block);
                    }
                }

                if (parameter.Metadata.Count == 0)
                {
                    throw Error(heading, partWhere, "the parameter has no ```yaml metadata block (Type, Parameter Sets, Required, Position, ...)");
                }

                if (parameter.Metadata.Count > 1 && parameter.Metadata.Any(m => m.AllSets))
                {
                    throw Error(heading, partWhere, "'Parameter Sets: (All)' must be the only metadata block of a parameter");
                }

                parameter.Description.AddRange(MarkdownText.Paragraphs(description));
                help.Parameters.Add(parameter);
            }
        }

        private ParameterMetadata ReadParameterMetadata(FencedCodeBlock block, string where)
        {
            Dictionary<string, string> values = ParseYamlMapping(MarkdownText.Code(block), block, where);
            foreach (string key in values.Keys)
            {
                if (!s_requiredKeys.Contains(key, StringComparer.Ordinal) && !s_optionalKeys.Contains(key, StringComparer.Ordinal))
                {
                    throw Error(block, where, $"unknown metadata key '{key}'; the keys are {string.Join(", ", s_requiredKeys.Concat(s_optionalKeys))}");
                }
            }

            foreach (string key in s_requiredKeys)
            {
                // "Default value:" may be empty (platyPS writes it so when there is none).
                if (!values.TryGetValue(key, out string? value) || (value.Length == 0 && key != "Default value"))
                {
                    throw Error(block, where, $"the metadata has no '{key}'");
                }
            }

            bool Boolean(string key)
            {
                string value = values[key];
                if (bool.TryParse(value, out bool result))
                {
                    return result;
                }

                throw Error(block, where, $"'{key}: {value}' must be True or False");
            }

            string position = values["Position"];
            if (string.Equals(position, "Named", StringComparison.OrdinalIgnoreCase))
            {
                position = "named";
            }
            else if (!int.TryParse(position, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
            {
                throw Error(block, where, $"'Position: {position}' must be Named or a number");
            }
            else
            {
                position = number.ToString(CultureInfo.InvariantCulture);
            }

            Match pipeline = s_pipelineInput.Match(values["Accept pipeline input"]);
            if (!pipeline.Success)
            {
                throw Error(block, where,
                    $"'Accept pipeline input: {values["Accept pipeline input"]}' must be False, True (ByValue), True (ByPropertyName) or True (ByValue, ByPropertyName)");
            }

            string pipelineInput = "False";
            if (!pipeline.Groups["false"].Success)
            {
                string kinds = pipeline.Groups["kinds"].Value.ToLowerInvariant();
                bool byValue = kinds.Contains("byvalue", StringComparison.Ordinal);
                bool byName = kinds.Contains("bypropertyname", StringComparison.Ordinal);
                pipelineInput = byValue && byName ? "True (ByValue, ByPropertyName)" : byValue ? "True (ByValue)" : "True (ByPropertyName)";
            }

            string sets = values["Parameter Sets"];
            bool allSets = string.Equals(sets, "(All)", StringComparison.OrdinalIgnoreCase);
            var metadata = new ParameterMetadata
            {
                Type = values["Type"],
                AllSets = allSets,
                Required = Boolean("Required"),
                Position = position,
                DefaultValue = values["Default value"].Length == 0 ? "None" : values["Default value"],
                PipelineInput = pipelineInput,
                Globbing = Boolean("Accept wildcard characters"),
                Line = block.Line + 1,
            };
            if (!allSets)
            {
                metadata.Sets.AddRange(SplitList(sets));
            }

            if (values.TryGetValue("Aliases", out string? aliases))
            {
                metadata.Aliases.AddRange(SplitList(aliases));
            }

            if (values.TryGetValue("Accepted values", out string? accepted))
            {
                metadata.AcceptedValues.AddRange(SplitList(accepted));
            }

            return metadata;
        }

        private static IEnumerable<string> SplitList(string value) =>
            value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        private List<TypeHelp> ReadTypes(HeadingBlock sectionHeading, string sectionName, List<Block> blocks)
        {
            string where = "## " + sectionName;
            var parts = SplitH3(blocks, where, out List<Block> preamble);
            if (preamble.Count > 0)
            {
                throw Error(preamble[0], where, "write each type as a ### heading (### None when there is none), its description below it");
            }

            if (parts.Count == 0)
            {
                throw Error(sectionHeading, where, "no ### type heading (write ### None when there is none)");
            }

            return parts.Select(part =>
            {
                var type = new TypeHelp { Name = part.Title };
                type.Description.AddRange(MarkdownText.Paragraphs(part.Blocks));
                return type;
            }).ToList();
        }

        private void ReadLinks(CommandHelp help, List<Block> blocks)
        {
            const string where = "## RELATED LINKS";
            foreach (Block block in blocks.Where(b => !MarkdownText.IsIgnorable(b)))
            {
                IEnumerable<ParagraphBlock> paragraphs = block switch
                {
                    ParagraphBlock paragraph => new[] { paragraph },
                    ListBlock list => list.Descendants<ParagraphBlock>(),
                    _ => throw Error(block, where, "related links are paragraphs or list items, [text](url) or plain text"),
                };
                foreach (ParagraphBlock paragraph in paragraphs)
                {
                    var links = paragraph.Inline?.Descendants<Markdig.Syntax.Inlines.LinkInline>().Where(l => !l.IsImage).ToList() ?? new();
                    if (links.Count == 0)
                    {
                        string text = MarkdownText.Inline(paragraph.Inline);
                        help.Links.Add(new LinkHelp(text, MarkdownText.IsAbsoluteUrl(text) ? text : string.Empty));
                        continue;
                    }

                    foreach (var link in links)
                    {
                        string text = MarkdownText.Inline(link);
                        // Links to another cmdlet's markdown file: Get-Help shows the name only.
                        help.Links.Add(new LinkHelp(text, MarkdownText.IsAbsoluteUrl(link.Url) ? link.Url! : string.Empty));
                    }
                }
            }
        }

        /// <summary>
        /// The syntax lines and the parameters' "Parameter Sets" must tell the same story: every
        /// parameter of a syntax line is documented with metadata for that set, and every set a
        /// parameter names shows it.
        /// </summary>
        private void CheckSyntaxAgainstParameters(CommandHelp help)
        {
            var setNames = help.Syntax.Select(s => s.Name).ToList();
            foreach (SyntaxSet set in help.Syntax)
            {
                string where = set.Name == AllParameterSets ? "## SYNTAX" : $"## SYNTAX > ### {set.Name}";
                foreach (string parameterName in set.ParameterNames)
                {
                    ParameterHelp? parameter = help.Parameters.FirstOrDefault(p => string.Equals(p.Name, parameterName, StringComparison.OrdinalIgnoreCase));
                    if (parameter is null)
                    {
                        throw new HelpFormatException(_file, set.Line, where, $"-{parameterName} is in the syntax line but has no ### -{parameterName} under ## PARAMETERS");
                    }

                    if (parameter.For(set.Name) is null)
                    {
                        throw new HelpFormatException(_file, set.Line, where,
                            $"-{parameterName} is in this syntax line, but no metadata block of ### -{parameter.Name} lists parameter set '{set.Name}' (or (All))");
                    }
                }
            }

            foreach (ParameterHelp parameter in help.Parameters)
            {
                string where = $"## PARAMETERS > ### -{parameter.Name}";
                foreach (ParameterMetadata metadata in parameter.Metadata)
                {
                    IEnumerable<string> sets = metadata.AllSets ? setNames : metadata.Sets;
                    foreach (string setName in sets)
                    {
                        SyntaxSet? set = help.Syntax.FirstOrDefault(s => s.Name == setName);
                        if (set is null)
                        {
                            throw new HelpFormatException(_file, metadata.Line, where,
                                $"'Parameter Sets' names '{setName}', which is not a ### parameter set under ## SYNTAX ({string.Join(", ", setNames)})");
                        }

                        if (!set.ParameterNames.Contains(parameter.Name, StringComparer.OrdinalIgnoreCase))
                        {
                            throw new HelpFormatException(_file, metadata.Line, where,
                                $"the parameter belongs to set '{setName}' ('Parameter Sets: {(metadata.AllSets ? "(All)" : string.Join(", ", metadata.Sets))}'), but that set's syntax line does not show -{parameter.Name}");
                        }
                    }
                }
            }
        }
    }
}
