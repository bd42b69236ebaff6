using LfU.MLNet.Generation;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace LfU.MLNet.Evaluation;

/// <summary>
/// Evaluates generations and scores in the ML.NET style: each method reads an <see cref="IDataView"/> (typically the
/// output of <c>LfUTransformer.Transform</c>) and returns a metrics object with per-row details. The three
/// kinds of measurement: final-answer and string match of generations, multiple-choice accuracy by log-likelihood,
/// and robustness across prompt variants.
/// </summary>
/// <remarks>Every method throws <see cref="ArgumentOutOfRangeException"/> naming the column when a column is missing or
/// of the wrong type, and <see cref="ArgumentException"/> when the data has no rows.</remarks>
public static class LfUEvaluator
{
    /// <summary>
    /// Exact match of the final numeric answer (GSM8K convention), see <see cref="NumericAnswerMetrics"/>. The label
    /// may be a full reference solution ending in <c>#### 42</c> or just the answer.
    /// </summary>
    /// <param name="data">Data with the label and generated text columns.</param>
    /// <param name="labelColumnName">Text column holding the reference answers; each must contain a number.</param>
    /// <param name="generatedColumnName">Text column holding the generations.</param>
    /// <exception cref="InvalidDataException">A label contains no number.</exception>
    public static NumericAnswerMetrics EvaluateNumericAnswer(IDataView data, string labelColumnName = "Answer", string generatedColumnName = "Generated")
    {
        var label = DataViewColumns.FindText(data, labelColumnName, "Label");
        var generated = DataViewColumns.FindText(data, generatedColumnName, "Generated");
        var rows = DataViewColumns.ReadTextRows(data, label, generated).Select((row, i) =>
        {
            string expected = AnswerNormalization.ExtractFinalNumber(row[0])
                ?? throw new InvalidDataException($"Row {i}: the label '{row[0]}' in column '{labelColumnName}' contains no number.");
            return new NumericAnswerRow(row[0], row[1], expected, AnswerNormalization.ExtractFinalNumber(row[1]));
        }).ToList();
        return new NumericAnswerMetrics(rows);
    }

    /// <summary>Exact and normalised string match of generations against labels, see <see cref="StringMatchMetrics"/>.</summary>
    /// <param name="data">Data with the label and generated text columns.</param>
    /// <param name="labelColumnName">Text column holding the reference texts.</param>
    /// <param name="generatedColumnName">Text column holding the generations.</param>
    public static StringMatchMetrics EvaluateStringMatch(IDataView data, string labelColumnName = "Answer", string generatedColumnName = "Generated")
    {
        var label = DataViewColumns.FindText(data, labelColumnName, "Label");
        var generated = DataViewColumns.FindText(data, generatedColumnName, "Generated");
        var rows = DataViewColumns.ReadTextRows(data, label, generated).Select(row => new StringMatchRow(row[0], row[1])).ToList();
        return new StringMatchMetrics(rows);
    }

    /// <summary>
    /// Multiple-choice accuracy by log-likelihood: each option is scored as a response to the prompt, and the
    /// option with the highest score (total or mean log-probability) is chosen; on ties, the first.
    /// </summary>
    /// <param name="data">Data with the prompt, options and label columns.</param>
    /// <param name="scorer">
    /// Scores responses given prompts: for each (prompt, response) pair, the mean and total log-probability of the
    /// response. Called once per row with the row's prompt repeated for each option.
    /// </param>
    /// <param name="scoring">Which log-probability to compare between options.</param>
    /// <param name="promptColumnName">Text column holding the prompts.</param>
    /// <param name="optionsColumnName">Text vector column holding each row's options (at least two).</param>
    /// <param name="labelColumnName">Int32 column holding the 0-based index of the correct option.</param>
    /// <exception cref="InvalidDataException">A row has fewer than two options or a label outside them.</exception>
    public static MultipleChoiceMetrics EvaluateMultipleChoice(IDataView data,
        Func<IReadOnlyList<string>, IReadOnlyList<string>, IReadOnlyList<(double Mean, double Total)>> scorer,
        MultipleChoiceScoring scoring = MultipleChoiceScoring.TotalLogProbability,
        string promptColumnName = "Prompt", string optionsColumnName = "Options", string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(scorer);
        if (!Enum.IsDefined(scoring))
            throw new ArgumentOutOfRangeException(nameof(scoring), scoring, "Unknown multiple-choice scoring.");
        var prompt = DataViewColumns.FindText(data, promptColumnName, "Prompt");
        var options = DataViewColumns.Find(data, optionsColumnName, "Options", "vector of String (text)",
            t => t is VectorDataViewType { ItemType: TextDataViewType });
        var label = DataViewColumns.Find(data, labelColumnName, "Label", "Int32 (0-based index of the correct option)",
            t => t == NumberDataViewType.Int32);

        var rows = new List<MultipleChoiceRow>();
        using var cursor = data.GetRowCursor([prompt, options, label]);
        var promptGetter = cursor.GetGetter<ReadOnlyMemory<char>>(prompt);
        var optionsGetter = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(options);
        var labelGetter = cursor.GetGetter<int>(label);
        ReadOnlyMemory<char> promptValue = default;
        VBuffer<ReadOnlyMemory<char>> optionValues = default;
        int correct = 0;
        while (cursor.MoveNext())
        {
            promptGetter(ref promptValue);
            optionsGetter(ref optionValues);
            labelGetter(ref correct);
            var optionTexts = optionValues.DenseValues().Select(o => o.ToString()).ToList();
            int row = rows.Count;
            if (optionTexts.Count < 2)
                throw new InvalidDataException($"Row {row}: column '{optionsColumnName}' has {optionTexts.Count} option(s); multiple choice needs at least two.");
            if (correct < 0 || correct >= optionTexts.Count)
                throw new InvalidDataException($"Row {row}: label {correct} in column '{labelColumnName}' is not an index of its {optionTexts.Count} options (0..{optionTexts.Count - 1}).");

            var scores = scorer(Enumerable.Repeat(promptValue.ToString(), optionTexts.Count).ToList(), optionTexts);
            if (scores is null || scores.Count != optionTexts.Count)
                throw new InvalidOperationException($"Row {row}: the scorer returned {scores?.Count ?? 0} scores for {optionTexts.Count} options.");
            rows.Add(new MultipleChoiceRow(correct, IndexOfBest(scores, scoring), scores.ToArray()));
        }
        DataViewColumns.ThrowIfEmpty(rows.Count);
        return new MultipleChoiceMetrics(rows, scoring);
    }

    /// <summary>
    /// Multiple-choice accuracy by log-likelihood under a model that scores responses (an <c>LfUTransformer</c>, an
    /// <c>LfUModel</c> or a <see cref="TextGenerator"/>); see
    /// <see cref="EvaluateMultipleChoice(IDataView, Func{IReadOnlyList{string}, IReadOnlyList{string}, IReadOnlyList{ValueTuple{double, double}}}, MultipleChoiceScoring, string, string, string)"/>.
    /// </summary>
    public static MultipleChoiceMetrics EvaluateMultipleChoice(IDataView data, ITextScorer model,
        MultipleChoiceScoring scoring = MultipleChoiceScoring.TotalLogProbability,
        string promptColumnName = "Prompt", string optionsColumnName = "Options", string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(model);
        return EvaluateMultipleChoice(data, model.Score, scoring, promptColumnName, optionsColumnName, labelColumnName);
    }

    /// <summary>
    /// Robustness across prompt variants: mean, population and sample standard deviation, min and max of one
    /// metric measured under each variant (for example the accuracy under each prompt template).
    /// </summary>
    /// <param name="valuesByVariant">The metric under each variant, by variant name; at least one, all finite.</param>
    public static RobustnessMetrics EvaluateRobustness(IReadOnlyDictionary<string, double> valuesByVariant)
    {
        ArgumentNullException.ThrowIfNull(valuesByVariant);
        if (valuesByVariant.Count == 0)
            throw new ArgumentException("Robustness needs the metric under at least one prompt variant.", nameof(valuesByVariant));
        foreach (var (variant, value) in valuesByVariant)
        {
            if (!double.IsFinite(value))
                throw new ArgumentOutOfRangeException(nameof(valuesByVariant), value, $"The metric under variant '{variant}' is not a finite number.");
        }
        return new RobustnessMetrics(new Dictionary<string, double>(valuesByVariant));
    }

    /// <summary>
    /// Robustness across prompt variants: evaluates <paramref name="metric"/> on each variant's data, then summarises
    /// as <see cref="EvaluateRobustness(IReadOnlyDictionary{string, double})"/>.
    /// </summary>
    /// <param name="dataByVariant">The data (e.g. transformed outputs) under each variant, by variant name.</param>
    /// <param name="metric">The metric, e.g. <c>d => LfUEvaluator.EvaluateNumericAnswer(d).Accuracy</c>.</param>
    public static RobustnessMetrics EvaluateRobustness(IReadOnlyDictionary<string, IDataView> dataByVariant, Func<IDataView, double> metric)
    {
        ArgumentNullException.ThrowIfNull(dataByVariant);
        ArgumentNullException.ThrowIfNull(metric);
        return EvaluateRobustness(dataByVariant.ToDictionary(kv => kv.Key, kv => metric(kv.Value)));
    }

    private static int IndexOfBest(IReadOnlyList<(double Mean, double Total)> scores, MultipleChoiceScoring scoring)
    {
        int best = 0;
        for (int i = 1; i < scores.Count; i++)
        {
            if (Pick(scores[i]) > Pick(scores[best]))
                best = i;
        }
        return best;

        double Pick((double Mean, double Total) s) => scoring == MultipleChoiceScoring.MeanLogProbability ? s.Mean : s.Total;
    }
}
