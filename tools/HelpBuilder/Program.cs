// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RdsSessions.HelpBuilder
{
    /// <summary>
    /// <code>
    /// RdsSessions.HelpBuilder build --source docs/en-US --output out/help/en-US --help-file RdsSessions.dll-Help.xml [--module RdsSessions]
    ///     every &lt;Verb-Noun&gt;.md into one MAML file, every about_*.md into about_*.help.txt
    /// RdsSessions.HelpBuilder yaml-to-json &lt;file.yml&gt;
    ///     the YAML file as JSON on stdout (every scalar a string), for the Pester suites
    /// </code>
    /// Exit codes: 0 done, 1 a malformed input (each problem on stderr as file:line: heading: problem), 2 usage.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            Console.OutputEncoding = new UTF8Encoding(false);
            try
            {
                return args.Length > 0 && args[0] == "build" ? Build(args[1..])
                    : args.Length == 2 && args[0] == "yaml-to-json" ? YamlToJson(args[1])
                    : Usage("expected 'build ...' or 'yaml-to-json <file>'");
            }
            catch (HelpFormatException e)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
        }

        private static int Usage(string problem)
        {
            Console.Error.WriteLine($"RdsSessions.HelpBuilder: {problem}.");
            Console.Error.WriteLine("Usage: RdsSessions.HelpBuilder build --source <docs/en-US> --output <en-US folder> --help-file <Assembly.dll-Help.xml> [--module <name>]");
            Console.Error.WriteLine("       RdsSessions.HelpBuilder yaml-to-json <file>");
            return 2;
        }

        private static int Build(string[] args)
        {
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < args.Length; i += 2)
            {
                if (i + 1 >= args.Length || !args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    return Usage($"'{args[i]}' is not an option with a value");
                }

                options[args[i][2..]] = args[i + 1];
            }

            foreach (string required in new[] { "source", "output", "help-file" })
            {
                if (!options.ContainsKey(required))
                {
                    return Usage($"--{required} is missing");
                }
            }

            string source = options["source"];
            string output = options["output"];
            string helpFile = options["help-file"];
            options.TryGetValue("module", out string? module);
            if (!Directory.Exists(source))
            {
                Console.Error.WriteLine($"RdsSessions.HelpBuilder: the help source folder '{source}' does not exist.");
                return 1;
            }

            var files = Directory.GetFiles(source, "*.md").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToList();
            var aboutFiles = files.Where(f => Path.GetFileName(f).StartsWith("about_", StringComparison.OrdinalIgnoreCase)).ToList();
            var commandFiles = files.Except(aboutFiles).ToList();
            if (commandFiles.Count == 0)
            {
                Console.Error.WriteLine($"RdsSessions.HelpBuilder: '{source}' has no command help (<Verb-Noun>.md).");
                return 1;
            }

            // Read everything first and report every malformed file, then write: a failed run
            // leaves the previous output as it was.
            var problems = new List<string>();
            var commands = new List<CommandHelp>();
            var topics = new List<(string Name, string Text)>();
            foreach (string file in commandFiles)
            {
                try
                {
                    commands.Add(CommandHelpReader.Read(file, DisplayPath(file), helpFile, module));
                }
                catch (HelpFormatException e)
                {
                    problems.Add(e.Message);
                }
            }

            foreach (string file in aboutFiles)
            {
                try
                {
                    topics.Add((AboutTopicWriter.TopicName(file), AboutTopicWriter.Convert(file, DisplayPath(file))));
                }
                catch (HelpFormatException e)
                {
                    problems.Add(e.Message);
                }
            }

            if (problems.Count > 0)
            {
                foreach (string problem in problems)
                {
                    Console.Error.WriteLine(problem);
                }

                Console.Error.WriteLine($"RdsSessions.HelpBuilder: {problems.Count} malformed help file(s); nothing was written.");
                return 1;
            }

            Directory.CreateDirectory(output);
            foreach (string stale in Directory.GetFiles(output, "*-Help.xml").Concat(Directory.GetFiles(output, "about_*.help.txt")))
            {
                File.Delete(stale);
            }

            string helpPath = Path.Combine(output, helpFile);
            MamlWriter.Write(helpPath, commands);
            foreach (var (name, text) in topics)
            {
                File.WriteAllText(Path.Combine(output, name + ".help.txt"), text, new UTF8Encoding(false));
            }

            Console.WriteLine($"{helpPath}: {commands.Count} commands ({string.Join(", ", commands.Select(c => c.Name))}); " +
                $"about topics: {(topics.Count == 0 ? "none" : string.Join(", ", topics.Select(t => t.Name + ".help.txt")))}");
            return 0;
        }

        /// <summary>Paths in messages: relative to the current directory when below it.</summary>
        private static string DisplayPath(string path)
        {
            string relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
            return relative.StartsWith("..", StringComparison.Ordinal) ? Path.GetFullPath(path) : relative.Replace('\\', '/');
        }

        private static int YamlToJson(string path)
        {
            var stream = new YamlStream();
            try
            {
                using var reader = new StreamReader(path, Encoding.UTF8);
                stream.Load(reader);
            }
            catch (YamlException e)
            {
                Console.Error.WriteLine($"{path}:{e.Start.Line}:{e.Start.Column}: invalid YAML: {e.Message}");
                return 1;
            }

            if (stream.Documents.Count != 1)
            {
                Console.Error.WriteLine($"{path}: expected one YAML document, found {stream.Documents.Count}.");
                return 1;
            }

            using var output = Console.OpenStandardOutput();
            using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
            {
                WriteJson(writer, stream.Documents[0].RootNode);
            }

            output.WriteByte((byte)'\n');
            return 0;
        }

        /// <summary>Mappings become objects, sequences arrays, scalars strings (null for an empty plain scalar).</summary>
        private static void WriteJson(Utf8JsonWriter writer, YamlNode node)
        {
            switch (node)
            {
                case YamlMappingNode mapping:
                    writer.WriteStartObject();
                    foreach (var (key, value) in mapping.Children)
                    {
                        writer.WritePropertyName(key is YamlScalarNode scalarKey ? scalarKey.Value ?? string.Empty : key.ToString());
                        WriteJson(writer, value);
                    }

                    writer.WriteEndObject();
                    break;
                case YamlSequenceNode sequence:
                    writer.WriteStartArray();
                    foreach (YamlNode item in sequence.Children)
                    {
                        WriteJson(writer, item);
                    }

                    writer.WriteEndArray();
                    break;
                case YamlScalarNode scalar when scalar.Style == ScalarStyle.Plain && string.IsNullOrEmpty(scalar.Value):
                    writer.WriteNullValue();
                    break;
                case YamlScalarNode scalar:
                    writer.WriteStringValue(scalar.Value);
                    break;
                default:
                    writer.WriteNullValue();
                    break;
            }
        }
    }
}
