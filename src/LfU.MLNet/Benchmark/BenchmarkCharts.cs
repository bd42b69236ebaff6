using ScottPlot;

namespace LfU.MLNet.Benchmark;

/// <summary>PNG charts of the forgetting benchmark (ScottPlot), returned as bytes for an atomic write.</summary>
internal static class BenchmarkCharts
{
    const int Width = 1000, Height = 700;

    static Color MethodColor(BenchmarkMethod method) => new ScottPlot.Palettes.Category10().GetColor((int)method);

    /// <summary>
    /// In-domain accuracy (x) against OOD average (y): each run a small point, each method and setting's mean over
    /// seeds a large one; a method with several settings gets its trade-off curve (means ordered by in-domain accuracy)
    /// drawn through them, each labelled with its setting.
    /// </summary>
    public static byte[] TradeOff(IReadOnlyList<BenchmarkRunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var plot = new Plot();
        foreach (var method in results.Select(r => r.Run.Method).Distinct().Order())
        {
            var color = MethodColor(method);
            var runs = results.Where(r => r.Run.Method == method).ToList();
            var seeds = plot.Add.ScatterPoints(runs.Select(r => r.InDomain).ToArray(), runs.Select(r => r.OodAverage).ToArray(), color.WithAlpha(0.45));
            seeds.MarkerSize = 6;

            var groups = BenchmarkReport.Groups(runs).OrderBy(g => g.Stat(r => r.InDomain).Mean).ToList();
            double[] xs = groups.Select(g => g.Stat(r => r.InDomain).Mean).ToArray();
            double[] ys = groups.Select(g => g.Stat(r => r.OodAverage).Mean).ToArray();
            var means = plot.Add.Scatter(xs, ys, color);
            means.MarkerSize = 11;
            means.LineWidth = groups.Count > 1 ? 2 : 0;
            means.LegendText = method.Name();
            if (groups.Count > 1)
                for (int i = 0; i < groups.Count; i++)
                {
                    var label = plot.Add.Text(groups[i].Setting, xs[i], ys[i]);
                    label.LabelFontSize = 11;
                    label.LabelFontColor = color;
                    label.OffsetX = 6;
                }
        }
        plot.Title("Trade-off: new task vs retained skills (small points: seeds; large: mean)");
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
                LabelText = groups[g].Setting == "default" ? groups[g].Method.Name() : $"{groups[g].Method.Name()} {groups[g].Setting}",
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
