using LfU.MLNet.IO;
using LfU.MLNet.Training;
using ScottPlot;

namespace LfU.MLNet.Evaluation;

/// <summary>PNG line charts of training runs and benchmark results (ScottPlot), written atomically.</summary>
public static class Charts
{
    const int Width = 900, Height = 540;

    static Charts() => SkiaNatives.EnsureLoaded();

    /// <summary>
    /// Plots the loss curves of a training run against the optimizer step: SFT and total loss on the left axis,
    /// LfU's consistency loss (when the objective has one) on the right axis, as its scale differs, and the
    /// validation loss (when evaluated) as markers.
    /// </summary>
    /// <param name="result">The run, as returned by <see cref="Trainer.Train"/>.</param>
    /// <param name="pngPath">The PNG file to write (its folder is created).</param>
    /// <param name="title">The chart's title.</param>
    public static void SaveLossCurves(TrainingResult result, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(result);
        SaveLossCurves(result.History, pngPath, title, result.Validations);
    }

    /// <summary>Plots loss curves from per-step metrics; see <see cref="SaveLossCurves(TrainingResult, string, string)"/>.</summary>
    /// <param name="history">Every step's metrics (at least one).</param>
    /// <param name="pngPath">The PNG file to write (its folder is created).</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="validations">Validation losses to mark, if any.</param>
    public static void SaveLossCurves(IReadOnlyList<StepMetrics> history, string pngPath, string title, IReadOnlyList<ValidationResult>? validations = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0) throw new ArgumentException("There are no training steps to plot.", nameof(history));
        double[] steps = history.Select(m => (double)m.Step).ToArray();
        using var plot = NewPlot(title, "optimizer step", "loss");

        AddLine(plot, "SFT loss", steps, history.Select(m => m.Sft).ToArray());
        // The total equals the SFT loss for plain SFT (and NEFTune): one curve says it all.
        if (history.Any(m => m.Total != m.Sft)) AddLine(plot, "total loss", steps, history.Select(m => m.Total).ToArray());
        if (validations is { Count: > 0 })
        {
            var points = plot.Add.ScatterPoints(validations.Select(v => (double)v.Step).ToArray(), validations.Select(v => v.Loss).ToArray());
            points.LegendText = "validation loss";
            points.MarkerSize = 9;
        }
        var withConsistency = history.Where(m => m.Consistency is not null).ToList();
        if (withConsistency.Count > 0)
        {
            var line = AddLine(plot, "consistency (right axis)", withConsistency.Select(m => (double)m.Step).ToArray(),
                withConsistency.Select(m => m.Consistency!.Value).ToArray());
            line.LinePattern = LinePattern.Dashed;
            line.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "consistency loss";
        }
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, pngPath);
    }

    /// <summary>
    /// A line chart of named series (each with its own x values), e.g. accuracy against training steps per method.
    /// Non-finite points are left out of the lines.
    /// </summary>
    /// <param name="pngPath">The PNG file to write (its folder is created).</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="xLabel">The x axis label.</param>
    /// <param name="yLabel">The y axis label.</param>
    /// <param name="series">The lines by legend name; X and Y of the same length.</param>
    public static void SaveLines(string pngPath, string title, string xLabel, string yLabel,
        IReadOnlyDictionary<string, (double[] X, double[] Y)> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("There are no series to plot.", nameof(series));
        foreach (var (name, (x, y)) in series)
        {
            if (x is null || y is null || x.Length != y.Length)
                throw new ArgumentException($"Series '{name}' has {x?.Length ?? 0} x values but {y?.Length ?? 0} y values; give one y per x.", nameof(series));
        }
        using var plot = NewPlot(title, xLabel, yLabel);
        foreach (var (name, (x, y)) in series) AddLine(plot, name, x, y);
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, pngPath);
    }

    static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    static ScottPlot.Plottables.Scatter AddLine(Plot plot, string name, double[] x, double[] y)
    {
        var finite = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(x[i]) && double.IsFinite(y[i])).ToArray();
        var line = plot.Add.Scatter(finite.Select(i => x[i]).ToArray(), finite.Select(i => y[i]).ToArray());
        line.LegendText = name;
        line.LineWidth = 2;
        // Markers only where there are few points, so that short runs still show where each step lies.
        line.MarkerSize = finite.Length <= 30 ? 5 : 0;
        return line;
    }

    static void Save(Plot plot, string pngPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pngPath);
        byte[] png = plot.GetImageBytes(Width, Height, ImageFormat.Png);
        AtomicFile.WriteAllBytes(pngPath, png);
    }
}
