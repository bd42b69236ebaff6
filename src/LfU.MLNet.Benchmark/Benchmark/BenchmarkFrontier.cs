using LfU.MLNet.Objectives;
using System.Globalization;
using System.Text;

namespace LfU.MLNet.Benchmark;

/// <summary>
/// Trade-off frontiers of the forgetting benchmark: for each method, the settings whose mean (in-domain, OOD average)
/// no other setting of the method beats on both; and each setting's OOD average against SFT's frontier at the same
/// in-domain accuracy. The untrained base model belongs to every frontier (training zero steps is always possible).
/// </summary>
internal static class BenchmarkFrontier
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A method and setting's mean over seeds, with the seeds' sample std and the number of seeds.</summary>
    internal sealed record Point(BenchmarkMethod Method, string Setting, double InDomain, double InDomainStd, double Ood, double OodStd, int Seeds);

    /// <summary>The mean point of every method and setting.</summary>
    public static IReadOnlyList<Point> Points(IReadOnlyList<BenchmarkRunResult> results) =>
        BenchmarkReport.Groups(results).Select(g =>
        {
            var (x, sx) = g.Stat(r => r.InDomain);
            var (y, sy) = g.Stat(r => r.OodAverage);
            return new Point(g.Method, g.Setting, x, sx, y, sy, g.Runs.Count);
        }).ToList();

    /// <summary>The Pareto-efficient points among <paramref name="points"/> (higher is better on both axes), by in-domain accuracy.</summary>
    public static IReadOnlyList<Point> Pareto(IEnumerable<Point> points)
    {
        var all = points.ToList();
        return all.Where(p => !all.Any(q => !ReferenceEquals(p, q) && q.InDomain >= p.InDomain && q.Ood >= p.Ood && (q.InDomain > p.InDomain || q.Ood > p.Ood)))
            .OrderBy(p => p.InDomain).ThenBy(p => p.Ood).ToList();
    }

    /// <summary>
    /// The OOD average of the piecewise-linear frontier through <paramref name="frontier"/> (sorted by in-domain) at
    /// in-domain accuracy <paramref name="inDomain"/>; null outside its range (no extrapolation).
    /// </summary>
    public static double? OodAt(IReadOnlyList<Point> frontier, double inDomain)
    {
        if (frontier.Count == 0 || inDomain < frontier[0].InDomain || inDomain > frontier[^1].InDomain) return null;
        for (int i = 0; i + 1 < frontier.Count; i++)
        {
            var (a, b) = (frontier[i], frontier[i + 1]);
            if (inDomain > b.InDomain) continue;
            double span = b.InDomain - a.InDomain;
            return span <= 0 ? Math.Max(a.Ood, b.Ood) : a.Ood + (b.Ood - a.Ood) * (inDomain - a.InDomain) / span;
        }
        return frontier[^1].Ood;
    }

    /// <summary>
    /// Markdown: each method's frontier, and each trained setting's OOD gain over SFT's frontier at equal in-domain
    /// accuracy (with its standard error over seeds), then a plain verdict per method. Empty when SFT was not run.
    /// </summary>
    public static string Markdown(IReadOnlyList<BenchmarkRunResult> results)
    {
        var points = Points(results);
        var basePoint = points.FirstOrDefault(p => p.Method == BenchmarkMethod.Base);
        var sft = points.Where(p => p.Method.Objective is SftObjective).ToList();
        if (sft.Count == 0) return "";
        var sftFrontier = Pareto(basePoint is null ? sft : sft.Append(basePoint));
        var text = new StringBuilder();
        text.Append("\n## Frontiers against SFT\n\n");
        text.Append("SFT's frontier: ").Append(string.Join(" → ", sftFrontier.Select(Describe))).Append(".\n\n");
        text.Append("Δ OOD is a setting's mean OOD average minus SFT's frontier (linear between its points, the base model included) at the setting's mean in-domain accuracy; ");
        text.Append("± is the standard error over seeds. Settings beyond SFT's in-domain range cannot be compared this way (n/a).\n\n");
        text.Append("| method | setting | seeds | in-domain | OOD avg | SFT frontier OOD there | Δ OOD | on own frontier |\n");
        text.Append("|---|---|---:|---:|---:|---:|---:|---|\n");
        foreach (var method in points.Select(p => p.Method).Distinct().Where(m => m != BenchmarkMethod.Base))
        {
            var own = points.Where(p => p.Method == method).ToList();
            var frontier = Pareto(basePoint is null ? own : own.Append(basePoint));
            foreach (var p in own.OrderBy(p => p.InDomain))
            {
                double? reference = OodAt(sftFrontier, p.InDomain);
                string delta = reference is double r ? $"{p.Ood - r:+0.000;-0.000;0.000} ± {p.OodStd / Math.Sqrt(p.Seeds):0.000}" : "n/a";
                text.Append(Invariant, $"| {method.Name} | {p.Setting} | {p.Seeds} | {p.InDomain:F3} ± {p.InDomainStd:F3} | {p.Ood:F3} ± {p.OodStd:F3} | ");
                text.Append(reference is double rr ? rr.ToString("F3", Invariant) : "n/a").Append(" | ").Append(delta).Append(" | ");
                text.Append(frontier.Contains(p) ? "yes" : "").Append(" |\n");
            }
        }
        text.Append("\n**Verdict per method** (a frontier point counts as above or below SFT's when |Δ| exceeds twice its standard error):\n\n");
        foreach (var method in points.Select(p => p.Method).Distinct().Where(m => m.Trains && m.Objective is not SftObjective))
        {
            var frontier = Pareto(points.Where(p => p.Method == method));
            var compared = frontier.Select(p => (Point: p, Delta: OodAt(sftFrontier, p.InDomain) is double r ? p.Ood - r : (double?)null))
                .Where(c => c.Delta is not null).Select(c => (c.Point, Delta: c.Delta!.Value, Error: c.Point.OodStd / Math.Sqrt(c.Point.Seeds))).ToList();
            text.Append("- ").Append(method.Name).Append(": ");
            if (compared.Count == 0)
            {
                text.Append("no frontier point falls within SFT's in-domain range, so no comparison at equal in-domain accuracy.\n");
                continue;
            }
            int above = compared.Count(c => c.Delta > 2 * c.Error && c.Delta > 0);
            int below = compared.Count(c => c.Delta < -2 * c.Error && c.Delta < 0);
            var best = compared.MaxBy(c => c.Delta);
            var worst = compared.MinBy(c => c.Delta);
            string verdict = above == compared.Count ? "dominates SFT's frontier at every compared point"
                : below == compared.Count ? "lies below SFT's frontier at every compared point"
                : above > 0 ? "beats SFT's frontier at some points, not at others"
                : below > 0 ? "never clearly beats SFT's frontier and falls below it at some points"
                : "is within seed noise of SFT's frontier everywhere it can be compared";
            text.Append(verdict);
            text.Append(Invariant, $" ({above} above, {below} below, {compared.Count - above - below} within noise of {compared.Count} frontier points); ");
            text.Append(Invariant, $"best Δ OOD {best.Delta:+0.000;-0.000} at {best.Point.Setting} (in-domain {best.Point.InDomain:F2}), worst {worst.Delta:+0.000;-0.000} at {worst.Point.Setting} (in-domain {worst.Point.InDomain:F2}).\n");
        }
        return text.ToString();
    }

    static string Describe(Point p) => string.Create(Invariant, $"{(p.Method == BenchmarkMethod.Base ? "base" : p.Setting)} ({p.InDomain:F2}, {p.Ood:F2})");
}
