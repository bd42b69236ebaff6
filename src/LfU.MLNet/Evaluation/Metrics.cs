namespace LfU.MLNet.Evaluation;

/// <summary>One row of a numeric-answer evaluation.</summary>
/// <param name="Expected">The reference text.</param>
/// <param name="Generated">The generated text.</param>
/// <param name="ExpectedAnswer">The normalised final number of <paramref name="Expected"/>.</param>
/// <param name="GeneratedAnswer">The normalised final number of <paramref name="Generated"/>, or null when it has none.</param>
public sealed record NumericAnswerRow(string Expected, string Generated, string ExpectedAnswer, string? GeneratedAnswer)
{
    /// <summary>Whether the generated final number equals the expected one.</summary>
    public bool IsMatch => GeneratedAnswer == ExpectedAnswer;
}

/// <summary>
/// Exact match of the final numeric answer (GSM8K convention): the first number after the last <c>####</c>, or,
/// without that marker, the last number in the text. Numbers are compared after normalisation: thousands
/// separators, '$', a leading '+' and trailing decimal zeros are removed ("$1,234.50" equals "1234.5").
/// </summary>
public sealed class NumericAnswerMetrics
{
    internal NumericAnswerMetrics(IReadOnlyList<NumericAnswerRow> rows)
    {
        Rows = rows;
        Matches = rows.Count(r => r.IsMatch);
        NoAnswerCount = rows.Count(r => r.GeneratedAnswer is null);
    }

    /// <summary>Fraction of rows whose final numbers match, in [0, 1].</summary>
    public double Accuracy => (double)Matches / Count;

    /// <summary>Number of rows evaluated.</summary>
    public int Count => Rows.Count;

    /// <summary>Number of rows whose final numbers match.</summary>
    public int Matches { get; }

    /// <summary>Number of rows whose generated text contains no number (counted as wrong).</summary>
    public int NoAnswerCount { get; }

    /// <summary>Per-row details, in data order.</summary>
    public IReadOnlyList<NumericAnswerRow> Rows { get; }
}

/// <summary>One row of a string-match evaluation.</summary>
/// <param name="Expected">The reference text.</param>
/// <param name="Generated">The generated text.</param>
public sealed record StringMatchRow(string Expected, string Generated)
{
    /// <summary>Whether the texts are identical (ordinal comparison).</summary>
    public bool IsExactMatch => string.Equals(Expected, Generated, StringComparison.Ordinal);

    /// <summary>Whether the texts are equal after normalisation (see <see cref="StringMatchMetrics"/>).</summary>
    public bool IsNormalizedMatch => AnswerNormalization.NormalizeText(Expected) == AnswerNormalization.NormalizeText(Generated);
}

/// <summary>
/// Exact and normalised string match. Normalisation lower-cases (invariant culture), trims, collapses each run of
/// whitespace to one space and removes trailing punctuation.
/// </summary>
public sealed class StringMatchMetrics
{
    internal StringMatchMetrics(IReadOnlyList<StringMatchRow> rows)
    {
        Rows = rows;
        ExactMatch = rows.Count(r => r.IsExactMatch) / (double)rows.Count;
        NormalizedMatch = rows.Count(r => r.IsNormalizedMatch) / (double)rows.Count;
    }

    /// <summary>Fraction of rows whose texts are identical, in [0, 1].</summary>
    public double ExactMatch { get; }

    /// <summary>Fraction of rows whose texts are equal after normalisation, in [0, 1].</summary>
    public double NormalizedMatch { get; }

    /// <summary>Number of rows evaluated.</summary>
    public int Count => Rows.Count;

    /// <summary>Per-row details, in data order.</summary>
    public IReadOnlyList<StringMatchRow> Rows { get; }
}

/// <summary>Which log-probability a multiple-choice evaluation compares between options.</summary>
public enum MultipleChoiceScoring
{
    /// <summary>The total log-probability of the option (favours short options).</summary>
    TotalLogProbability,

    /// <summary>The mean log-probability per token of the option (length-normalised).</summary>
    MeanLogProbability,
}

/// <summary>One row of a multiple-choice evaluation.</summary>
/// <param name="CorrectIndex">The 0-based index of the correct option.</param>
/// <param name="ChosenIndex">The 0-based index of the option with the highest score (the first one on ties).</param>
/// <param name="OptionScores">Mean and total log-probability of each option given the prompt.</param>
public sealed record MultipleChoiceRow(int CorrectIndex, int ChosenIndex, IReadOnlyList<(double Mean, double Total)> OptionScores)
{
    /// <summary>Whether the chosen option is the correct one.</summary>
    public bool IsCorrect => ChosenIndex == CorrectIndex;
}

/// <summary>Multiple-choice accuracy: the chosen option is the one the model finds most likely given the prompt.</summary>
public sealed class MultipleChoiceMetrics
{
    internal MultipleChoiceMetrics(IReadOnlyList<MultipleChoiceRow> rows, MultipleChoiceScoring scoring)
    {
        Rows = rows;
        Scoring = scoring;
        Accuracy = rows.Count(r => r.IsCorrect) / (double)rows.Count;
    }

    /// <summary>Fraction of rows where the chosen option is correct, in [0, 1].</summary>
    public double Accuracy { get; }

    /// <summary>The score used to choose between options.</summary>
    public MultipleChoiceScoring Scoring { get; }

    /// <summary>Number of rows evaluated.</summary>
    public int Count => Rows.Count;

    /// <summary>Per-row details, in data order.</summary>
    public IReadOnlyList<MultipleChoiceRow> Rows { get; }
}

/// <summary>
/// Robustness across prompt variants (templates): summary statistics of one metric measured under each variant.
/// </summary>
public sealed class RobustnessMetrics
{
    internal RobustnessMetrics(IReadOnlyDictionary<string, double> values)
    {
        Values = values;
        var v = values.Values.ToArray();
        Mean = v.Average();
        double sumSquares = v.Sum(x => (x - Mean) * (x - Mean));
        PopulationStandardDeviation = Math.Sqrt(sumSquares / v.Length);
        SampleStandardDeviation = v.Length > 1 ? Math.Sqrt(sumSquares / (v.Length - 1)) : double.NaN;
        Min = v.Min();
        Max = v.Max();
    }

    /// <summary>The metric under each variant, by variant name.</summary>
    public IReadOnlyDictionary<string, double> Values { get; }

    /// <summary>Number of variants.</summary>
    public int Count => Values.Count;

    /// <summary>Mean over variants.</summary>
    public double Mean { get; }

    /// <summary>Population standard deviation over variants (divides by n; 0 for one variant).</summary>
    public double PopulationStandardDeviation { get; }

    /// <summary>Sample standard deviation over variants (divides by n - 1; NaN for one variant).</summary>
    public double SampleStandardDeviation { get; }

    /// <summary>Lowest value over variants.</summary>
    public double Min { get; }

    /// <summary>Highest value over variants.</summary>
    public double Max { get; }
}
