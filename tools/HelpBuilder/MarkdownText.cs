// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace RdsSessions.HelpBuilder
{
    /// <summary>
    /// Turns Markdig's syntax tree into the plain text that console help shows: inline markup is
    /// dropped (code spans and emphasis keep their text, links their text and absolute URL),
    /// blocks become paragraphs.
    /// </summary>
    public static class MarkdownText
    {
        /// <summary>The pipeline every help file is parsed with: CommonMark, YAML front matter and pipe tables.</summary>
        public static MarkdownPipeline Pipeline { get; } =
            new MarkdownPipelineBuilder().UseYamlFrontMatter().UsePipeTables().Build();

        /// <summary>The plain text of a run of inlines (a paragraph, a heading, a table cell).</summary>
        public static string Inline(ContainerInline? container)
        {
            var text = new StringBuilder();
            AppendInline(text, container);
            return text.ToString().Trim();
        }

        private static void AppendInline(StringBuilder text, ContainerInline? container)
        {
            if (container is null)
            {
                return;
            }

            foreach (Inline inline in container)
            {
                switch (inline)
                {
                    case LiteralInline literal:
                        text.Append(literal.Content.ToString());
                        break;
                    case CodeInline code:
                        text.Append(code.Content);
                        break;
                    case LineBreakInline lineBreak:
                        text.Append(lineBreak.IsHard ? "\n" : " ");
                        break;
                    case AutolinkInline autolink:
                        text.Append(autolink.Url);
                        break;
                    case HtmlEntityInline entity:
                        text.Append(entity.Transcoded.ToString());
                        break;
                    case HtmlInline:
                        // Tags such as <br> carry no text for a console.
                        break;
                    case LinkInline { IsImage: true } image:
                        text.Append(Inline(image));
                        break;
                    case LinkInline link:
                    {
                        string label = Inline(link);
                        text.Append(label);
                        string? url = link.GetDynamicUrl?.Invoke() ?? link.Url;
                        if (IsAbsoluteUrl(url) && !string.Equals(label, url, StringComparison.Ordinal))
                        {
                            text.Append(" (").Append(url).Append(')');
                        }

                        break;
                    }

                    case ContainerInline nested:
                        // Emphasis, and delimiters left unmatched.
                        AppendInline(text, nested);
                        break;
                }
            }
        }

        /// <summary>http(s) URLs; links to other markdown files of the help are relative.</summary>
        public static bool IsAbsoluteUrl(string? url) =>
            url is not null &&
            (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase));

        /// <summary>The text of a code block, its lines joined with \n, without the final line break.</summary>
        public static string Code(LeafBlock block)
        {
            var lines = new List<string>();
            foreach (var line in block.Lines.Lines.Take(block.Lines.Count))
            {
                lines.Add(line.Slice.ToString());
            }

            return string.Join("\n", lines).TrimEnd('\n', '\r', ' ');
        }

        /// <summary>True for HTML comments (&lt;!-- ... --&gt;), which carry notes for authors only.</summary>
        public static bool IsComment(Block block) =>
            block is HtmlBlock html && html.Type == HtmlBlockType.Comment;

        /// <summary>Blocks with no text for readers: blank lines, link definitions, comments, front matter.</summary>
        public static bool IsIgnorable(Block block) =>
            block is BlankLineBlock or LinkReferenceDefinitionGroup or YamlFrontMatterBlock or ThematicBreakBlock || IsComment(block);

        /// <summary>
        /// Each block as one or more paragraphs of plain text: list items get "- " or "1. ",
        /// code blocks keep their lines, table rows become "cell | cell". Headings (only in
        /// sections where they are not structure) become a paragraph of their text.
        /// </summary>
        public static List<string> Paragraphs(IEnumerable<Block> blocks)
        {
            var paragraphs = new List<string>();
            foreach (Block block in blocks)
            {
                AppendParagraphs(paragraphs, block, string.Empty);
            }

            return paragraphs.Where(p => p.Length > 0).ToList();
        }

        private static void AppendParagraphs(List<string> paragraphs, Block block, string indent)
        {
            switch (block)
            {
                case var _ when IsIgnorable(block):
                    break;
                case ParagraphBlock paragraph:
                    paragraphs.Add(indent + Inline(paragraph.Inline));
                    break;
                case HeadingBlock heading:
                    paragraphs.Add(indent + Inline(heading.Inline));
                    break;
                case CodeBlock code:
                    paragraphs.Add(string.Join("\n", Code(code).Split('\n').Select(line => indent + line)));
                    break;
                case ListBlock list:
                {
                    int number = int.TryParse(list.OrderedStart, out int start) ? start : 1;
                    foreach (ListItemBlock item in list.OfType<ListItemBlock>())
                    {
                        string marker = list.IsOrdered ? $"{number++}. " : "- ";
                        var itemParagraphs = new List<string>();
                        foreach (Block child in item)
                        {
                            AppendParagraphs(itemParagraphs, child, string.Empty);
                        }

                        for (int i = 0; i < itemParagraphs.Count; i++)
                        {
                            string prefix = i == 0 ? marker : new string(' ', marker.Length);
                            paragraphs.Add(indent + prefix + itemParagraphs[i].Replace("\n", "\n" + indent + new string(' ', marker.Length), StringComparison.Ordinal));
                        }
                    }

                    break;
                }

                case Table table:
                    foreach (TableRow row in table.OfType<TableRow>())
                    {
                        IEnumerable<string> cells = row.OfType<TableCell>()
                            .Select(cell => string.Join(" ", cell.OfType<ParagraphBlock>().Select(p => Inline(p.Inline))));
                        paragraphs.Add(indent + string.Join(" | ", cells));
                    }

                    break;
                case QuoteBlock quote:
                    foreach (Block child in quote)
                    {
                        AppendParagraphs(paragraphs, child, indent);
                    }

                    break;
                case HtmlBlock html:
                    paragraphs.Add(indent + Code(html));
                    break;
                case ContainerBlock container:
                    foreach (Block child in container)
                    {
                        AppendParagraphs(paragraphs, child, indent);
                    }

                    break;
            }
        }
    }
}
