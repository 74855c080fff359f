// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;

namespace RdsSessions.HelpBuilder
{
    /// <summary>
    /// Converts an about topic in platyPS markdown into the plain text that <c>Get-Help about_Name</c>
    /// prints: section headings in capitals at the margin, subtopic headings indented and
    /// underlined, text wrapped at 80 columns and indented 4, code indented 8 and never wrapped.
    /// Both layouts are read: platyPS's template (<c># about_Name</c>, <c>## about_Name</c>, then
    /// <c># SHORT DESCRIPTION</c>, <c># LONG DESCRIPTION</c>, ... with ## subtopics) and the
    /// one with ## sections (<c># about_Name</c>, <c>## SHORT DESCRIPTION</c>, ...).
    /// </summary>
    public static class AboutTopicWriter
    {
        private const int Width = 80;
        private const string Indent = "    ";

        /// <summary>The topic name of an about file: about_X.md or about_X.help.md gives about_X.</summary>
        public static string TopicName(string path)
        {
            string name = Path.GetFileNameWithoutExtension(path);
            return name.EndsWith(".help", StringComparison.OrdinalIgnoreCase) ? name[..^".help".Length] : name;
        }

        /// <summary>Returns the text; errors name the file as <paramref name="displayPath"/>.</summary>
        public static string Convert(string path, string displayPath)
        {
            string topic = TopicName(path);
            MarkdownDocument document = Markdown.Parse(File.ReadAllText(path), MarkdownText.Pipeline);
            var blocks = document.Where(b => !MarkdownText.IsIgnorable(b)).ToList();

            if (blocks.Count == 0 || blocks[0] is not HeadingBlock { Level: 1 } title)
            {
                throw new HelpFormatException(displayPath, blocks.Count == 0 ? 0 : blocks[0].Line + 1, string.Empty, $"an about topic starts with the title '# {topic}'");
            }

            string titleText = MarkdownText.Inline(title.Inline);
            if (!string.Equals(titleText, topic, StringComparison.OrdinalIgnoreCase))
            {
                throw new HelpFormatException(displayPath, title.Line + 1, "# " + titleText, $"the title must be the topic name, '{topic}' (the file name)");
            }

            var body = blocks.Skip(1).ToList();
            if (body.Count > 0 && body[0] is HeadingBlock { Level: 2 } repeated &&
                string.Equals(MarkdownText.Inline(repeated.Inline), topic, StringComparison.OrdinalIgnoreCase))
            {
                // platyPS's template repeats the name as "## about_Name" under the title.
                body.RemoveAt(0);
            }

            // Sections are the # headings after the title (platyPS's template), else the ## headings.
            int sectionLevel = body.OfType<HeadingBlock>().Any(h => h.Level == 1) ? 1 : 2;
            var sections = body.OfType<HeadingBlock>().Where(h => h.Level == sectionLevel).Select(h => MarkdownText.Inline(h.Inline)).ToList();
            string marks = new string('#', sectionLevel);
            foreach (string required in new[] { "SHORT DESCRIPTION", "LONG DESCRIPTION" })
            {
                if (!sections.Contains(required, StringComparer.OrdinalIgnoreCase))
                {
                    throw new HelpFormatException(displayPath, title.Line + 1, "# " + titleText, $"the section {marks} {required} is missing");
                }
            }

            Block? early = body.TakeWhile(b => b is not HeadingBlock { Level: var level } || level != sectionLevel).FirstOrDefault();
            if (early is not null)
            {
                throw new HelpFormatException(displayPath, early.Line + 1, "# " + titleText, $"text before the first section ({marks} SHORT DESCRIPTION)");
            }

            var text = new StringBuilder();
            text.Append("TOPIC\n").Append(Indent).Append(topic).Append('\n');
            foreach (Block block in body)
            {
                AppendBlock(text, block, Indent, sectionLevel);
            }

            return text.ToString().TrimEnd('\n') + "\n";
        }

        private static void AppendBlock(StringBuilder text, Block block, string indent, int sectionLevel)
        {
            switch (block)
            {
                case var _ when MarkdownText.IsIgnorable(block):
                    break;
                case HeadingBlock heading:
                {
                    string headingText = MarkdownText.Inline(heading.Inline);
                    EndWithBlankLine(text);
                    if (heading.Level <= sectionLevel)
                    {
                        text.Append(headingText.ToUpperInvariant()).Append('\n');
                    }
                    else
                    {
                        text.Append(Indent).Append(headingText).Append('\n')
                            .Append(Indent).Append(new string('-', Math.Min(headingText.Length, Width - Indent.Length))).Append('\n');
                    }

                    break;
                }

                case ParagraphBlock paragraph:
                    AppendWrapped(text, MarkdownText.Inline(paragraph.Inline), indent, indent);
                    text.Append('\n');
                    break;
                case CodeBlock code:
                    foreach (string line in MarkdownText.Code(code).Split('\n'))
                    {
                        text.Append(line.Length == 0 ? string.Empty : indent + Indent + line).Append('\n');
                    }

                    text.Append('\n');
                    break;
                case ListBlock list:
                {
                    int number = int.TryParse(list.OrderedStart, out int start) ? start : 1;
                    foreach (ListItemBlock item in list.OfType<ListItemBlock>())
                    {
                        string marker = list.IsOrdered ? $"{number++}. " : "- ";
                        string continuation = indent + new string(' ', marker.Length);
                        bool first = true;
                        foreach (Block child in item)
                        {
                            if (first && child is ParagraphBlock p)
                            {
                                AppendWrapped(text, MarkdownText.Inline(p.Inline), indent + marker, continuation);
                            }
                            else
                            {
                                AppendBlock(text, child, continuation, sectionLevel);
                            }

                            first = false;
                        }
                    }

                    text.Append('\n');
                    break;
                }

                case Table table:
                    AppendTable(text, table, indent);
                    break;
                case QuoteBlock quote:
                    foreach (Block child in quote)
                    {
                        AppendBlock(text, child, indent + Indent, sectionLevel);
                    }

                    break;
                default:
                    foreach (string paragraph in MarkdownText.Paragraphs(new[] { block }))
                    {
                        AppendWrapped(text, paragraph, indent, indent);
                        text.Append('\n');
                    }

                    break;
            }
        }

        /// <summary>Exactly one empty line before what comes next (a heading).</summary>
        private static void EndWithBlankLine(StringBuilder text)
        {
            while (text.Length >= 2 && text[^1] == '\n' && text[^2] == '\n')
            {
                text.Length--;
            }

            text.Append('\n');
        }

        /// <summary>Word-wraps <paramref name="paragraph"/> to the width; hard line breaks are kept.</summary>
        private static void AppendWrapped(StringBuilder text, string paragraph, string firstIndent, string indent)
        {
            string prefix = firstIndent;
            foreach (string hardLine in paragraph.Split('\n'))
            {
                var line = new StringBuilder(prefix);
                bool empty = true;
                foreach (string word in hardLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!empty && line.Length + 1 + word.Length > Width)
                    {
                        text.Append(line).Append('\n');
                        line.Clear().Append(indent);
                        empty = true;
                    }

                    if (!empty)
                    {
                        line.Append(' ');
                    }

                    line.Append(word);
                    empty = false;
                }

                text.Append(line.ToString().TrimEnd()).Append('\n');
                prefix = indent;
            }
        }

        private static void AppendTable(StringBuilder text, Table table, string indent)
        {
            var rows = table.OfType<TableRow>()
                .Select(row => row.OfType<TableCell>().Select(cell => string.Join(" ", cell.OfType<ParagraphBlock>().Select(p => MarkdownText.Inline(p.Inline)))).ToList())
                .ToList();
            int columns = rows.Max(r => r.Count);
            var widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => c < r.Count ? r[c].Length : 0)).ToList();
            for (int r = 0; r < rows.Count; r++)
            {
                var cells = Enumerable.Range(0, columns).Select(c => (c < rows[r].Count ? rows[r][c] : string.Empty).PadRight(widths[c]));
                text.Append(indent).Append(string.Join("  ", cells).TrimEnd()).Append('\n');
                if (r == 0 && table.OfType<TableRow>().First().IsHeader)
                {
                    text.Append(indent).Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
                }
            }

            text.Append('\n');
        }
    }
}
