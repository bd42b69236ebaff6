namespace LfU.MLNet.Benchmark;

/// <summary>Exact-match scoring of mini-world generations and the statistics the report is built from.</summary>
internal static class BenchmarkMetrics
{
    /// <summary>Whether <paramref name="output"/>'s final answer (<see cref="MiniWorld.ExtractFinalAnswer"/>) is exactly the gold answer.</summary>
    public static bool IsCorrect(string output, MiniWorldItem item)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(item);
        return string.Equals(MiniWorld.ExtractFinalAnswer(output), item.Answer.Trim(), StringComparison.Ordinal);
    }

    /// <summary>Fraction of <paramref name="items"/> whose output is correct; outputs are in item order.</summary>
    public static double Accuracy(IReadOnlyList<MiniWorldItem> items, IReadOnlyList<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(outputs);
        if (items.Count != outputs.Count) throw new ArgumentException($"{items.Count} items but {outputs.Count} outputs; give one output per item.");
        if (items.Count == 0) throw new ArgumentException("Accuracy of an empty test set is undefined; give at least one item.");
        int correct = 0;
        for (int i = 0; i < items.Count; i++) if (IsCorrect(outputs[i], items[i])) correct++;
        return (double)correct / items.Count;
    }

    /// <summary>Accuracy per instruction template (<see cref="MiniWorldItem.Template"/>), by ascending template id.</summary>
    public static SortedDictionary<int, double> AccuracyByTemplate(IReadOnlyList<MiniWorldItem> items, IReadOnlyList<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(outputs);
        if (items.Count != outputs.Count) throw new ArgumentException($"{items.Count} items but {outputs.Count} outputs; give one output per item.");
        var result = new SortedDictionary<int, double>();
        foreach (var group in Enumerable.Range(0, items.Count).GroupBy(i => items[i].Template))
            result[group.Key] = Accuracy(group.Select(i => items[i]).ToList(), group.Select(i => outputs[i]).ToList());
        return result;
    }

    /// <summary>Mean and population standard deviation: the spread over a complete set, such as all paraphrase templates.</summary>
    public static (double Mean, double Std) MeanAndPopulationStd(IReadOnlyCollection<double> values) => MeanAndStd(values, sample: false);

    /// <summary>Mean and sample standard deviation (n − 1): the spread over seeds; 0 for a single value.</summary>
    public static (double Mean, double Std) MeanAndSampleStd(IReadOnlyCollection<double> values) => MeanAndStd(values, sample: true);

    static (double Mean, double Std) MeanAndStd(IReadOnlyCollection<double> values, bool sample)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("The mean of no values is undefined.", nameof(values));
        double mean = values.Average();
        int dof = sample ? values.Count - 1 : values.Count;
        if (dof == 0) return (mean, 0);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / dof;
        return (mean, Math.Sqrt(variance));
    }
}
