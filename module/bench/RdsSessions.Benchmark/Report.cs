using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security;
using System.Text;

namespace RdsSessions.Benchmark;

/// <summary>One result table: printed to stdout as aligned text and written to latest.md as Markdown.</summary>
internal sealed class Table
{
    public Table(string title, params string[] columns)
    {
        Title = title;
        Columns = columns;
    }

    public string Title { get; }

    public string[] Columns { get; }

    public List<string[]> Rows { get; } = new();

    /// <summary>Lines under the table: goals with PASS/MISS, how it was measured.</summary>
    public List<string> Notes { get; } = new();

    public Table Row(params object[] cells)
    {
        Rows.Add(cells.Select(c => Fmt.Cell(c)).ToArray());
        return this;
    }

    public string ToText()
    {
        int[] widths = Columns.Select((c, i) => Math.Max(c.Length, Rows.Count == 0 ? 0 : Rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine(Title);
        sb.AppendLine(new string('=', Title.Length));
        sb.AppendLine(string.Join("  ", Columns.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (string[] row in Rows)
        {
            sb.AppendLine(string.Join("  ", row.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
        }

        foreach (string note in Notes)
        {
            sb.AppendLine(note);
        }

        return sb.ToString();
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("## " + Title);
        sb.AppendLine();
        sb.AppendLine("| " + string.Join(" | ", Columns) + " |");
        sb.AppendLine("|" + string.Join("|", Columns.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
        foreach (string[] row in Rows)
        {
            sb.AppendLine("| " + string.Join(" | ", row.Select(c => c.Replace("|", "\\|"))) + " |");
        }

        if (Notes.Count > 0)
        {
            sb.AppendLine();
            foreach (string note in Notes)
            {
                sb.AppendLine(note.Length == 0 ? string.Empty : "- " + note.TrimStart());
            }
        }

        sb.AppendLine();
        return sb.ToString();
    }
}

internal static class Fmt
{
    public static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Cell(object? value) => value switch
    {
        null => "",
        double d => d.ToString("0.###", C),
        float f => f.ToString("0.###", C),
        IFormattable f => f.ToString(null, C),
        _ => value.ToString() ?? "",
    };

    public static string F(double value, int digits) => value.ToString("F" + digits.ToString(C), C);

    public static string Verdict(bool pass) => pass ? "PASS" : "MISS";
}

/// <summary>One line of the chart: throughput at each ThrottleLimit.</summary>
internal sealed record Series(string Label, string Color, IReadOnlyList<(int C, double Rate)> Points, bool Dashed = false, bool MarkersOnly = false);

/// <summary>A hand-written SVG chart: sessions/s against ThrottleLimit, log2 x axis, log10 y axis.</summary>
internal static class SvgChart
{
    public static string Throughput(string title, string subtitle, IReadOnlyList<Series> series, IReadOnlyList<int> throttleLimits)
    {
        const double W = 860, H = 540, Left = 90, Right = 250, Top = 70, Bottom = 70;
        double plotW = W - Left - Right, plotH = H - Top - Bottom;

        double xMin = Math.Log2(throttleLimits.Min()), xMax = Math.Log2(throttleLimits.Max());
        var values = series.SelectMany(s => s.Points.Select(p => p.Rate)).Where(v => v > 0).ToList();
        double yLo = Math.Pow(10, Math.Floor(Math.Log10(values.Min())));
        double yHi = Math.Pow(10, Math.Ceiling(Math.Log10(values.Max())));
        double ly0 = Math.Log10(yLo), ly1 = Math.Log10(yHi);

        double X(int c) => Left + (Math.Log2(c) - xMin) / (xMax - xMin) * plotW;
        double Y(double v) => Top + plotH - (Math.Log10(v) - ly0) / (ly1 - ly0) * plotH;
        string N(double v) => v.ToString("0.#", Fmt.C);
        string E(string s) => SecurityElement.Escape(s) ?? string.Empty;

        var sb = new StringBuilder();
        sb.AppendLine("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>");
        sb.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(W)}\" height=\"{N(H)}\" viewBox=\"0 0 {N(W)} {N(H)}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">");
        sb.AppendLine($"  <title>{E(title)}</title>");
        sb.AppendLine($"  <rect x=\"0\" y=\"0\" width=\"{N(W)}\" height=\"{N(H)}\" fill=\"#ffffff\"/>");
        sb.AppendLine($"  <text x=\"{N(W / 2)}\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">{E(title)}</text>");
        sb.AppendLine($"  <text x=\"{N(W / 2)}\" y=\"48\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555555\">{E(subtitle)}</text>");

        // Grid and y labels: 1, 2, 5 per decade.
        sb.AppendLine("  <g stroke=\"#e3e3e3\" stroke-width=\"1\">");
        var yTicks = new List<double>();
        for (double d = yLo; d <= yHi * 1.0001; d *= 10)
        {
            foreach (double m in new[] { 1.0, 2.0, 5.0 })
            {
                if (d * m <= yHi * 1.0001)
                {
                    yTicks.Add(d * m);
                }
            }
        }

        foreach (double t in yTicks)
        {
            sb.AppendLine($"    <line x1=\"{N(Left)}\" y1=\"{N(Y(t))}\" x2=\"{N(Left + plotW)}\" y2=\"{N(Y(t))}\"/>");
        }

        foreach (int c in throttleLimits)
        {
            sb.AppendLine($"    <line x1=\"{N(X(c))}\" y1=\"{N(Top)}\" x2=\"{N(X(c))}\" y2=\"{N(Top + plotH)}\"/>");
        }

        sb.AppendLine("  </g>");
        sb.AppendLine($"  <rect x=\"{N(Left)}\" y=\"{N(Top)}\" width=\"{N(plotW)}\" height=\"{N(plotH)}\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>");

        sb.AppendLine("  <g text-anchor=\"end\" fill=\"#333333\">");
        foreach (double t in yTicks)
        {
            sb.AppendLine($"    <text x=\"{N(Left - 8)}\" y=\"{N(Y(t) + 4)}\">{t.ToString("0.###", Fmt.C)}</text>");
        }

        sb.AppendLine("  </g>");
        sb.AppendLine("  <g text-anchor=\"middle\" fill=\"#333333\">");
        foreach (int c in throttleLimits)
        {
            sb.AppendLine($"    <text x=\"{N(X(c))}\" y=\"{N(Top + plotH + 18)}\">{c}</text>");
        }

        sb.AppendLine("  </g>");
        sb.AppendLine($"  <text x=\"{N(Left + plotW / 2)}\" y=\"{N(H - 22)}\" text-anchor=\"middle\" font-size=\"13\">-ThrottleLimit (requests in flight, log scale)</text>");
        sb.AppendLine($"  <text x=\"22\" y=\"{N(Top + plotH / 2)}\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 22 {N(Top + plotH / 2)})\">sessions logged off per second (log scale)</text>");

        // Lines.
        foreach (Series s in series)
        {
            var pts = s.Points.Where(p => p.Rate > 0).OrderBy(p => p.C).ToList();
            if (pts.Count == 0)
            {
                continue;
            }

            string label = E(s.Label);
            if (!s.MarkersOnly)
            {
                string dash = s.Dashed ? " stroke-dasharray=\"6 4\"" : string.Empty;
                string path = string.Join(" ", pts.Select(p => $"{N(X(p.C))},{N(Y(p.Rate))}"));
                sb.AppendLine($"  <polyline fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"{dash} points=\"{path}\"><title>{label}</title></polyline>");
            }

            if (!s.Dashed)
            {
                foreach (var p in pts)
                {
                    string shape = s.MarkersOnly
                        ? $"<rect x=\"{N(X(p.C) - 4)}\" y=\"{N(Y(p.Rate) - 4)}\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\">"
                        : $"<circle cx=\"{N(X(p.C))}\" cy=\"{N(Y(p.Rate))}\" r=\"3.5\" fill=\"{s.Color}\">";
                    string end = s.MarkersOnly ? "</rect>" : "</circle>";
                    sb.AppendLine($"  {shape}<title>{label}: ThrottleLimit {p.C}, {p.Rate.ToString("0.#", Fmt.C)} sessions/s</title>{end}");
                }
            }
        }

        // Legend.
        double lx = Left + plotW + 20, ly = Top + 10;
        sb.AppendLine($"  <rect x=\"{N(lx - 10)}\" y=\"{N(ly - 14)}\" width=\"{N(Right - 20)}\" height=\"{N(series.Count * 22 + 14)}\" fill=\"#fafafa\" stroke=\"#cccccc\"/>");
        foreach (Series s in series)
        {
            string dash = s.Dashed ? " stroke-dasharray=\"6 4\"" : string.Empty;
            if (s.MarkersOnly)
            {
                sb.AppendLine($"  <rect x=\"{N(lx + 10)}\" y=\"{N(ly - 4)}\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"/>");
            }
            else
            {
                sb.AppendLine($"  <line x1=\"{N(lx)}\" y1=\"{N(ly)}\" x2=\"{N(lx + 28)}\" y2=\"{N(ly)}\" stroke=\"{s.Color}\" stroke-width=\"2\"{dash}/>");
            }

            sb.AppendLine($"  <text x=\"{N(lx + 36)}\" y=\"{N(ly + 4)}\">{E(s.Label)}</text>");
            ly += 22;
        }

        sb.AppendLine("</svg>");
        return sb.ToString();
    }
}
