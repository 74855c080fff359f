// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;

namespace RdsSessions.HelpBuilder
{
    /// <summary>
    /// Writes cmdlet help as MAML, the XML that Get-Help reads from
    /// <c>&lt;culture&gt;/&lt;Assembly&gt;.dll-Help.xml</c>, in the shape platyPS's New-ExternalHelp writes.
    /// </summary>
    public static class MamlWriter
    {
        private const string MshNamespace = "http://msh";
        private const string MamlNamespace = "http://schemas.microsoft.com/maml/2004/10";
        private const string CommandNamespace = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private const string DevNamespace = "http://schemas.microsoft.com/maml/dev/2004/10";
        private const string MSHelpNamespace = "http://msdn.microsoft.com/mshelp";

        public static void Write(string path, IEnumerable<CommandHelp> commands)
        {
            var settings = new XmlWriterSettings
            {
                Indent = true,
                IndentChars = "  ",
                Encoding = new UTF8Encoding(false),
                NewLineChars = "\n",
                NewLineHandling = NewLineHandling.Replace,
            };
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
            using var writer = XmlWriter.Create(stream, settings);
            writer.WriteStartDocument();
            writer.WriteStartElement("helpItems", MshNamespace);
            writer.WriteAttributeString("schema", "maml");
            foreach (CommandHelp command in commands)
            {
                WriteCommand(writer, command);
            }

            writer.WriteEndElement();
            writer.WriteEndDocument();
        }

        private static void WriteCommand(XmlWriter writer, CommandHelp command)
        {
            writer.WriteStartElement("command", "command", CommandNamespace);
            writer.WriteAttributeString("xmlns", "maml", null, MamlNamespace);
            writer.WriteAttributeString("xmlns", "dev", null, DevNamespace);
            writer.WriteAttributeString("xmlns", "MSHelp", null, MSHelpNamespace);

            writer.WriteStartElement("command", "details", CommandNamespace);
            writer.WriteElementString("command", "name", CommandNamespace, command.Name);
            writer.WriteElementString("command", "verb", CommandNamespace, command.Verb);
            writer.WriteElementString("command", "noun", CommandNamespace, command.Noun);
            WriteDescription(writer, command.Synopsis);
            writer.WriteEndElement();

            WriteDescription(writer, command.Description);

            writer.WriteStartElement("command", "syntax", CommandNamespace);
            foreach (SyntaxSet set in command.Syntax)
            {
                writer.WriteStartElement("command", "syntaxItem", CommandNamespace);
                writer.WriteElementString("maml", "name", MamlNamespace, command.Name);
                foreach (string parameterName in set.ParameterNames)
                {
                    ParameterHelp parameter = command.Parameters.First(p => string.Equals(p.Name, parameterName, System.StringComparison.OrdinalIgnoreCase));
                    WriteParameter(writer, parameter, parameter.For(set.Name)!, inSyntax: true);
                }

                writer.WriteEndElement();
            }

            writer.WriteEndElement();

            writer.WriteStartElement("command", "parameters", CommandNamespace);
            foreach (ParameterHelp parameter in command.Parameters)
            {
                // The list shows one entry per parameter: its metadata in the default parameter
                // set when it belongs to it, else its first metadata block (as platyPS does).
                SyntaxSet? defaultSet = command.Syntax.FirstOrDefault(s => s.IsDefault);
                ParameterMetadata metadata = (defaultSet is null ? null : parameter.For(defaultSet.Name)) ?? parameter.Metadata[0];
                WriteParameter(writer, parameter, metadata, inSyntax: false);
            }

            writer.WriteEndElement();

            WriteTypes(writer, "inputTypes", "inputType", command.Inputs);
            WriteTypes(writer, "returnValues", "returnValue", command.Outputs);

            writer.WriteStartElement("maml", "alertSet", MamlNamespace);
            writer.WriteStartElement("maml", "alert", MamlNamespace);
            WriteParagraphs(writer, command.Notes);
            writer.WriteEndElement();
            writer.WriteEndElement();

            writer.WriteStartElement("command", "examples", CommandNamespace);
            foreach (ExampleHelp example in command.Examples)
            {
                writer.WriteStartElement("command", "example", CommandNamespace);
                writer.WriteElementString("maml", "title", MamlNamespace, $"-------------------------- {example.Title} --------------------------");
                writer.WriteElementString("dev", "code", DevNamespace, example.Code);
                writer.WriteStartElement("dev", "remarks", DevNamespace);
                WriteParagraphs(writer, example.Remarks);
                writer.WriteEndElement();
                writer.WriteEndElement();
            }

            writer.WriteEndElement();

            writer.WriteStartElement("command", "relatedLinks", CommandNamespace);
            foreach (LinkHelp link in command.Links)
            {
                writer.WriteStartElement("maml", "navigationLink", MamlNamespace);
                writer.WriteElementString("maml", "linkText", MamlNamespace, link.Text);
                writer.WriteElementString("maml", "uri", MamlNamespace, link.Uri);
                writer.WriteEndElement();
            }

            writer.WriteEndElement();

            writer.WriteEndElement();
        }

        private static void WriteParameter(XmlWriter writer, ParameterHelp parameter, ParameterMetadata metadata, bool inSyntax)
        {
            writer.WriteStartElement("command", "parameter", CommandNamespace);
            writer.WriteAttributeString("required", metadata.Required ? "true" : "false");
            writer.WriteAttributeString("variableLength", metadata.Type.EndsWith("[]", System.StringComparison.Ordinal) ? "true" : "false");
            writer.WriteAttributeString("globbing", metadata.Globbing ? "true" : "false");
            writer.WriteAttributeString("pipelineInput", metadata.PipelineInput);
            writer.WriteAttributeString("position", metadata.Position);
            writer.WriteAttributeString("aliases", metadata.Aliases.Count == 0 ? "none" : string.Join(", ", metadata.Aliases));

            writer.WriteElementString("maml", "name", MamlNamespace, parameter.Name);
            WriteDescription(writer, parameter.Description);

            if (inSyntax && metadata.AcceptedValues.Count > 0)
            {
                writer.WriteStartElement("command", "parameterValueGroup", CommandNamespace);
                foreach (string value in metadata.AcceptedValues)
                {
                    writer.WriteStartElement("command", "parameterValue", CommandNamespace);
                    writer.WriteAttributeString("required", "false");
                    writer.WriteAttributeString("command", "variableLength", CommandNamespace, "false");
                    writer.WriteString(value);
                    writer.WriteEndElement();
                }

                writer.WriteEndElement();
            }

            if (!metadata.IsSwitch)
            {
                writer.WriteStartElement("command", "parameterValue", CommandNamespace);
                writer.WriteAttributeString("required", "true");
                writer.WriteAttributeString("variableLength", "false");
                writer.WriteString(metadata.Type);
                writer.WriteEndElement();
            }

            writer.WriteStartElement("dev", "type", DevNamespace);
            writer.WriteElementString("maml", "name", MamlNamespace, metadata.Type);
            writer.WriteElementString("maml", "uri", MamlNamespace, string.Empty);
            writer.WriteEndElement();
            writer.WriteElementString("dev", "defaultValue", DevNamespace, metadata.DefaultValue);
            writer.WriteEndElement();
        }

        private static void WriteTypes(XmlWriter writer, string listName, string itemName, List<TypeHelp> types)
        {
            writer.WriteStartElement("command", listName, CommandNamespace);
            foreach (TypeHelp type in types)
            {
                writer.WriteStartElement("command", itemName, CommandNamespace);
                writer.WriteStartElement("dev", "type", DevNamespace);
                writer.WriteElementString("maml", "name", MamlNamespace, type.Name);
                writer.WriteEndElement();
                WriteDescription(writer, type.Description);
                writer.WriteEndElement();
            }

            writer.WriteEndElement();
        }

        private static void WriteDescription(XmlWriter writer, List<string> paragraphs)
        {
            writer.WriteStartElement("maml", "description", MamlNamespace);
            WriteParagraphs(writer, paragraphs);
            writer.WriteEndElement();
        }

        private static void WriteParagraphs(XmlWriter writer, List<string> paragraphs)
        {
            foreach (string paragraph in paragraphs)
            {
                writer.WriteElementString("maml", "para", MamlNamespace, paragraph);
            }
        }
    }
}
