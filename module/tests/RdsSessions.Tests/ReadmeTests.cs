using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace RdsSessions.Tests;

/// <summary>
/// The README's ErrorId table is the module's own table: same ErrorIds, same categories. Admins
/// write catch blocks and alerts from that table, so a row that is missing or wrong is a bug.
/// </summary>
[Collection("Engine")]
public sealed class ReadmeTests : IDisposable
{
    private readonly Engine _engine = new();

    public void Dispose() => _engine.Dispose();

    /// <summary>The rows of the table under "## ErrorIds": ErrorId → category.</summary>
    private static Dictionary<string, string> ReadmeRows()
    {
        string readme = File.ReadAllText(Path.Combine(TestEnv.RepoRoot, "README.md"));
        int start = readme.IndexOf("\n## ErrorIds\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## ErrorIds' section");
        int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        string section = end < 0 ? readme[start..] : readme[start..end];
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(section, @"^\| `(?<id>[A-Za-z]+)` \| (?<category>[A-Za-z]+) \|", RegexOptions.Multiline))
        {
            Assert.True(rows.TryAdd(m.Groups["id"].Value, m.Groups["category"].Value), $"'{m.Groups["id"].Value}' has two rows");
        }

        return rows;
    }

    [Fact]
    public void The_README_lists_every_ErrorId_of_the_module_with_its_category_and_no_other()
    {
        var rows = ReadmeRows();
        var table = _engine.Run("[RdsSessions.BrokerErrors]::ErrorIds").Output.Select(o => o.ToString()).ToHashSet(StringComparer.Ordinal);
        Assert.True(table.Count > 40, string.Join(",", table));
        Assert.Equal(table.OrderBy(x => x, StringComparer.Ordinal), rows.Keys.OrderBy(x => x, StringComparer.Ordinal));

        // The category each row names is the one the module gives (BrokerErrors.Describe, internal).
        Type brokerErrors = AppDomain.CurrentDomain.GetAssemblies()
            .Single(a => a.GetName().Name == "RdsSessions").GetType("RdsSessions.BrokerErrors")!;
        MethodInfo describe = brokerErrors.GetMethod("Describe", BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (var (id, category) in rows)
        {
            var described = ((ErrorCategory Category, string? Action))describe.Invoke(null, new object[] { id, "Other" })!;
            Assert.True(described.Category.ToString() == category, $"README says {id} is {category}; the module says {described.Category}");
        }
    }
}
