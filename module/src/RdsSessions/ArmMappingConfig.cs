// Copyright (c) RdsSessions contributors. Licensed under the MIT License.

using System;
using System.Collections.Generic;
using System.Collections;
using System.Globalization;
using System.IO;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RdsSessions
{
    /// <summary>
    /// Where the ARM mapping is found without touching the script: the file that
    /// <c>$env:RDSSESSIONS_ARM_MAPPING</c> names, else the per-user file
    /// (<c>%APPDATA%\RdsSessions\arm-mapping.json</c> on Windows,
    /// <c>$XDG_CONFIG_HOME/RdsSessions/arm-mapping.json</c> or <c>~/.config/RdsSessions/arm-mapping.json</c>
    /// on Linux and macOS). <c>Add-RdsAccount -ArmMapping @{...}</c> gives one for new scripts.
    /// The native library parses and validates the text; this class only finds and reads it.
    /// </summary>
    internal static class ArmMappingConfig
    {
        /// <summary>The environment variable naming a mapping file.</summary>
        public const string EnvironmentVariable = "RDSSESSIONS_ARM_MAPPING";

        /// <summary>The largest mapping file read (the native library's limit too).</summary>
        public const long MaxBytes = 4 * 1024 * 1024;

        /// <summary>The per-user mapping file (it may not exist).</summary>
        public static string DefaultPath => Path.Combine(
            Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify),
            "RdsSessions",
            "arm-mapping.json");

        /// <summary>The file Set-RdsArmMapping and Get-RdsArmMapping use: the variable's, else the per-user one.</summary>
        public static string ConfiguredPath
        {
            get
            {
                string? named = Environment.GetEnvironmentVariable(EnvironmentVariable);
                return string.IsNullOrWhiteSpace(named) ? DefaultPath : named;
            }
        }

        /// <summary>
        /// The configured mapping as (JSON text, where it came from), or null when none is
        /// configured. A file the variable names must exist; the per-user file may be absent.
        /// </summary>
        public static (string Text, string Source)? Find()
        {
            string? named = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(named))
            {
                return (Read(named, mustExist: true)!, named);
            }

            string? text = Read(DefaultPath, mustExist: false);
            return text is null ? null : (text, DefaultPath);
        }

        /// <summary>Reads a mapping file: a regular file of at most <see cref="MaxBytes"/>.</summary>
        public static string? Read(string path, bool mustExist)
        {
            var file = new FileInfo(path);
            if (!file.Exists)
            {
                if (!mustExist)
                {
                    return null;
                }

                throw RdsBrokerException.Local("ArmMappingInvalid", string.Format(
                    CultureInfo.InvariantCulture,
                    "The ARM mapping file '{0}' ({1}) does not exist. Create it with Set-RdsArmMapping, or correct the variable.",
                    path, EnvironmentVariable));
            }

            if (file.Length > MaxBytes)
            {
                throw RdsBrokerException.Local("ArmMappingInvalid", string.Format(
                    CultureInfo.InvariantCulture,
                    "The ARM mapping file '{0}' is {1} bytes long; the limit is {2}.", path, file.Length, MaxBytes));
            }

            return File.ReadAllText(path);
        }

        /// <summary>
        /// The JSON of a mapping given as a hashtable, in either form:
        /// <c>@{ Contoso = @{ SubscriptionId = '...'; ResourceGroup = 'rg' } }</c> (tenants as
        /// keys), or the file's own shape <c>@{ Tenants = @{...}; ArmEndpoint = '...' }</c>.
        /// Keys are matched without regard to case; the native library names any it does not know.
        /// </summary>
        public static string FromHashtable(IDictionary mapping)
        {
            bool fileShape = false;
            foreach (object? key in mapping.Keys)
            {
                fileShape |= string.Equals(key?.ToString(), "Tenants", StringComparison.OrdinalIgnoreCase);
            }

            JsonObject root = fileShape ? Convert(mapping, depth: 0) : new JsonObject { ["tenants"] = Convert(mapping, depth: 1) };
            return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        }

        /// <summary>
        /// Field names are camelCased (SubscriptionId → subscriptionId); the names of tenants
        /// and host pools (the keys under "tenants" and "hostPools") are kept as given.
        /// </summary>
        private static JsonObject Convert(IDictionary table, int depth)
        {
            var result = new JsonObject();
            foreach (DictionaryEntry entry in table)
            {
                string key = entry.Key?.ToString() ?? string.Empty;
                bool isName = depth == 1;
                string name = isName ? key : Canonical(key);
                result[name] = ToNode(entry.Value, isName ? 2 : name is "tenants" or "hostPools" ? 1 : 0);
            }

            return result;
        }

        private static JsonNode? ToNode(object? value, int depth)
        {
            object? bare = value is System.Management.Automation.PSObject ps ? ps.BaseObject : value;
            return bare switch
            {
                null => null,
                IDictionary table => Convert(table, depth),
                string text => JsonValue.Create(text),
                _ => JsonValue.Create(System.Convert.ToString(bare, CultureInfo.InvariantCulture)),
            };
        }

        /// <summary>The cmdlet parameters' spellings, accepted for the file's.</summary>
        /// <summary>
        /// The file's field names, and the cmdlet parameter names that mean the same, whatever their
        /// case (a hashtable's keys are typed by hand: SubscriptionID, subscriptionid, ...).
        /// </summary>
        private static readonly Dictionary<string, string> s_fields = new(StringComparer.OrdinalIgnoreCase)
        {
            ["armEndpoint"] = "armEndpoint",
            ["apiVersion"] = "apiVersion",
            ["tenants"] = "tenants",
            ["subscriptionId"] = "subscriptionId",
            ["hostPools"] = "hostPools",
            ["resourceGroup"] = "resourceGroup",
            ["resourceGroupName"] = "resourceGroup",
            ["name"] = "name",
            ["armHostPoolName"] = "name",
        };

        /// <summary>A known field by its file name; anything else camelCased, for the native parser to refuse by name.</summary>
        private static string Canonical(string key) =>
            s_fields.TryGetValue(key, out string? field) ? field
            : key.Length == 0 ? key : char.ToLowerInvariant(key[0]) + key[1..];
    }
}
