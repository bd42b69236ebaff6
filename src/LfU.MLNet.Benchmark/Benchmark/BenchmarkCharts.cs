using ScottPlot;

namespace LfU.MLNet.Benchmark;

/// <summary>PNG charts of the forgetting benchmark (ScottPlot), returned as bytes for an atomic write.</summary>
internal static class BenchmarkCharts
{
    const int Width = 1000, Height = 700;

    static Color MethodColor(BenchmarkMethod method) => new ScottPlot.Palettes.Category10().GetColor(method.Order);

    /// <summary>
    /// In-domain accuracy (x) against OOD average (y): each run a small point; each method and setting's mean over seeds
    /// a large one with seed-std error bars on both axes; each method's frontier (its settings no other setting beats
    /// on both axes, the base model included) drawn as a line and labelled with its settings.
    /// </summary>
    public static byte[] TradeOff(IReadOnlyList<BenchmarkRunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var plot = new Plot();
        var points = BenchmarkFrontier.Points(results);
        var basePoint = points.FirstOrDefault(p => p.Method == BenchmarkMethod.Base);
        foreach (var method in results.Select(r => r.Run.Method).Distinct().OrderBy(m => m.Order))
        {
            var color = MethodColor(method);
            var runs = results.Where(r => r.Run.Method == method).ToList();
            var seeds = plot.Add.ScatterPoints(runs.Select(r => r.InDomain).ToArray(), runs.Select(r => r.OodAverage).ToArray(), color.WithAlpha(0.35));
            seeds.MarkerSize = 5;

            var own = points.Where(p => p.Method == method).ToList();
            foreach (var p in own.Where(p => p.Seeds > 1))
            {
                plot.Add.Line(p.InDomain - p.InDomainStd, p.Ood, p.InDomain + p.InDomainStd, p.Ood).Color = color.WithAlpha(0.6);
                plot.Add.Line(p.InDomain, p.Ood - p.OodStd, p.InDomain, p.Ood + p.OodStd).Color = color.WithAlpha(0.6);
            }
            var means = plot.Add.ScatterPoints(own.Select(p => p.InDomain).ToArray(), own.Select(p => p.Ood).ToArray(), color);
            means.MarkerSize = 10;
            means.LegendText = method.Name;
            if (method == BenchmarkMethod.Base) continue;
            var frontier = BenchmarkFrontier.Pareto(basePoint is null ? own : own.Append(basePoint));
            if (frontier.Count > 1)
            {
                var line = plot.Add.ScatterLine(frontier.Select(p => p.InDomain).ToArray(), frontier.Select(p => p.Ood).ToArray(), color);
                line.LineWidth = 2;
            }
            if (own.Count > 1)
                foreach (var p in frontier.Where(p => p.Method == method))
                {
                    var label = plot.Add.Text(p.Setting, p.InDomain, p.Ood);
                    label.LabelFontSize = 10;
                    label.LabelFontColor = color;
                    label.OffsetX = 6;
                }
        }
        plot.Title("Trade-off: new task vs retained skills (points: seeds; large: mean ± std; lines: each method's frontier)");
        plot.XLabel("in-domain accuracy (fine-tuning task)");
        plot.YLabel("OOD average accuracy (knowledge, math, reasoning)");
        plot.Axes.SetLimits(-0.05, 1.05, -0.05, 1.05);
        plot.ShowLegend(Edge.Right);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    static readonly (string Name, Func<BenchmarkRunResult, double> Metric)[] CategoryMetrics =
    [
        ("in-domain", r => r.InDomain), ("OOD knowledge", r => r.OodKnowledge), ("OOD math", r => r.OodMath),
        ("OOD reasoning", r => r.OodReasoning), ("OOD avg", r => r.OodAverage), ("paraphrase mean", r => r.ParaphraseMean),
    ];

    /// <summary>Grouped bars: per category, one bar per method and setting (mean over seeds, error bar = sample std).</summary>
    public static byte[] Categories(IReadOnlyList<BenchmarkRunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var plot = new Plot();
        var groups = BenchmarkReport.Groups(results);
        double slot = 0.8 / Math.Max(1, groups.Count);
        for (int g = 0; g < groups.Count; g++)
        {
            // Settings of one method share its hue, lighter for each further setting.
            var siblings = groups.Where(x => x.Method == groups[g].Method).ToList();
            var color = MethodColor(groups[g].Method).Lighten(0.6 * siblings.IndexOf(groups[g]) / siblings.Count);
            var bars = CategoryMetrics.Select((category, c) =>
            {
                var (mean, std) = groups[g].Stat(category.Metric);
                return new Bar { Position = c + (g - (groups.Count - 1) / 2.0) * slot, Value = mean, Error = std, Size = slot * 0.95, FillColor = color };
            }).ToArray();
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = groups[g].Setting == "default" ? groups[g].Method.Name : $"{groups[g].Method.Name} {groups[g].Setting}",
                FillColor = color,
            });
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, CategoryMetrics.Length).Select(c => (double)c).ToArray(), CategoryMetrics.Select(c => c.Name).ToArray());
        plot.Axes.SetLimits(-0.6, CategoryMetrics.Length - 0.4, 0, 1.1);
        plot.Title("Accuracy per category (mean over seeds; error bars: std)");
        plot.YLabel("exact-match accuracy");
        plot.ShowLegend(Edge.Right);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}
