using LfU.MLNet.Evaluation;
using Microsoft.ML;
using Xunit;

namespace LfU.MLNet.Tests.Evaluation;

public sealed class LfUEvaluatorTests
{
    private readonly MLContext _mlContext = new(seed: 1);

    private sealed class AnswerRow
    {
        public string Answer { get; set; } = "";
        public string Generated { get; set; } = "";
    }

    private sealed class ChoiceRow
    {
        public string Prompt { get; set; } = "";
        public string[] Options { get; set; } = [];
        public int Label { get; set; }
    }

    private IDataView Answers(params (string Answer, string Generated)[] rows) =>
        _mlContext.Data.LoadFromEnumerable(rows.Select(r => new AnswerRow { Answer = r.Answer, Generated = r.Generated }).ToList());

    [Theory]
    [InlineData("so she pays 1,234 dollars\n#### 1,234", "1234")]
    [InlineData("the answer is 5.0.", "5")]
    [InlineData("It costs $12.50 in total", "12.5")]
    [InlineData("#### +7", "7")]
    [InlineData("from -3 to -4.00", "-4")]
    [InlineData("3 apples and 4 pears: 7", "7")]
    [InlineData("#### 8 (not 9)", "8")]
    [InlineData("at 0.50 each", "0.5")]
    [InlineData("groups 1,2,3", "3")]
    [InlineData("x5-3", "3")]
    [InlineData("no number here", null)]
    [InlineData("#### none", null)]
    public void FinalNumberExtractionFollowsTheGSM8KConvention(string text, string? expected) =>
        Assert.Equal(expected, AnswerNormalization.ExtractFinalNumber(text));

    [Fact]
    public void NumericAnswerAccuracyCountsMatchesAndMissingAnswers()
    {
        var metrics = LfUEvaluator.EvaluateNumericAnswer(Answers(
            ("Half of 2,468 is\n#### 1,234", "I think it is 1234."),
            ("#### 5", "the answer is 5.0."),
            ("#### 6", "#### 7"),
            ("#### 8", "I don't know")));

        Assert.Equal(4, metrics.Count);
        Assert.Equal(2, metrics.Matches);
        Assert.Equal(0.5, metrics.Accuracy);
        Assert.Equal(1, metrics.NoAnswerCount);
        Assert.Equal([true, true, false, false], metrics.Rows.Select(r => r.IsMatch));
        Assert.Equal("1234", metrics.Rows[0].ExpectedAnswer);
        Assert.Null(metrics.Rows[3].GeneratedAnswer);
    }

    [Fact]
    public void ALabelWithoutANumberIsAnErrorNamingTheRow()
    {
        var ex = Assert.Throws<InvalidDataException>(() => LfUEvaluator.EvaluateNumericAnswer(Answers(("#### 1", "1"), ("none", "2"))));

        Assert.Contains("Row 1: the label 'none' in column 'Answer' contains no number", ex.Message);
    }

    [Fact]
    public void StringMatchIsExactAndNormalised()
    {
        var metrics = LfUEvaluator.EvaluateStringMatch(Answers(
            ("Paris", "Paris"),
            ("Paris", "  paris. "),
            ("New York", "new\t york!?"),
            ("Paris", "London")));

        Assert.Equal(0.25, metrics.ExactMatch);
        Assert.Equal(0.75, metrics.NormalizedMatch);
        Assert.Equal([true, false, false, false], metrics.Rows.Select(r => r.IsExactMatch));
        Assert.Equal([true, true, true, false], metrics.Rows.Select(r => r.IsNormalizedMatch));
    }

    [Fact]
    public void MissingOrMistypedColumnsAreErrorsNamingThem()
    {
        var noGenerated = _mlContext.Data.LoadFromEnumerable(new[] { new { Answer = "1" } });
        var numericGenerated = _mlContext.Data.LoadFromEnumerable(new[] { new { Answer = "1", Generated = 1.0f } });

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => LfUEvaluator.EvaluateStringMatch(noGenerated));
        var mistyped = Assert.Throws<ArgumentOutOfRangeException>(() => LfUEvaluator.EvaluateNumericAnswer(numericGenerated));

        Assert.Contains("Generated column 'Generated' was not found", missing.Message);
        Assert.Contains("Generated column 'Generated' must be of type String (text), but found Single", mistyped.Message);
    }

    [Fact]
    public void EmptyDataIsAnError()
    {
        var ex = Assert.Throws<ArgumentException>(() => LfUEvaluator.EvaluateStringMatch(Answers()));

        Assert.Contains("no rows", ex.Message);
    }

    // Scores each option: mean = -(option length), total = -(option length) * (1 + option's "tokens" = words).
    private static IReadOnlyList<(double Mean, double Total)> LengthScorer(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) =>
        responses.Select(r => (-(double)r.Length, -(double)r.Length * r.Split(' ').Length)).ToList();

    private IDataView Choices(params ChoiceRow[] rows) => _mlContext.Data.LoadFromEnumerable(rows);

    [Fact]
    public void MultipleChoicePicksTheOptionWithTheHighestTotalOrMeanLogProbability()
    {
        // Option "a a a a a a" (length 11, 6 words): mean -11, total -66. Option "bbbbbbbbb" (9, 1 word): mean -9, total -9.
        // Option "cc cc cc" (8, 3 words): mean -8, total -24.
        var data = Choices(
            new ChoiceRow { Prompt = "q1", Options = ["a a a a a a", "bbbbbbbbb", "cc cc cc"], Label = 1 },
            new ChoiceRow { Prompt = "q2", Options = ["x", "yy"], Label = 1 });

        var byTotal = LfUEvaluator.EvaluateMultipleChoice(data, LengthScorer, MultipleChoiceScoring.TotalLogProbability);
        var byMean = LfUEvaluator.EvaluateMultipleChoice(data, LengthScorer, MultipleChoiceScoring.MeanLogProbability);

        Assert.Equal([1, 0], byTotal.Rows.Select(r => r.ChosenIndex));
        Assert.Equal(0.5, byTotal.Accuracy);
        Assert.Equal([2, 0], byMean.Rows.Select(r => r.ChosenIndex));
        Assert.Equal(0.0, byMean.Accuracy);
        Assert.Equal((-9.0, -9.0), byTotal.Rows[0].OptionScores[1]);
        Assert.Equal(MultipleChoiceScoring.MeanLogProbability, byMean.Scoring);
    }

    [Fact]
    public void MultipleChoiceTiesGoToTheFirstOptionAndTheScorerSeesThePromptPerOption()
    {
        var seen = new List<(string Prompt, string Response)>();
        var data = Choices(new ChoiceRow { Prompt = "q", Options = ["ab", "cd"], Label = 0 });

        var metrics = LfUEvaluator.EvaluateMultipleChoice(data, (p, r) =>
        {
            seen.AddRange(p.Zip(r));
            return LengthScorer(p, r);
        });

        Assert.Equal(0, metrics.Rows[0].ChosenIndex);
        Assert.Equal(1.0, metrics.Accuracy);
        Assert.Equal([("q", "ab"), ("q", "cd")], seen);
    }

    [Fact]
    public void MultipleChoiceCanScoreWithATransformersModel()
    {
        // The fake model's total log-probability is -weight * response length: the shortest option wins.
        using var transformer = new LfUTransformer(_mlContext, new LfU.MLNet.Tests.MLNet.FakeTextModel("-s", weight: 1),
            new LfUColumnNames(), new GenerationSettings());
        var data = Choices(new ChoiceRow { Prompt = "q", Options = ["long option", "short"], Label = 1 });

        var metrics = LfUEvaluator.EvaluateMultipleChoice(data, transformer);

        Assert.Equal(1, metrics.Rows[0].ChosenIndex);
        Assert.Equal(-5.0, metrics.Rows[0].OptionScores[1].Total);
    }

    [Fact]
    public void MultipleChoiceRejectsLabelsOutsideTheOptionsAndSingleOptions()
    {
        var badLabel = Choices(new ChoiceRow { Prompt = "q", Options = ["a", "b"], Label = 2 });
        var oneOption = Choices(new ChoiceRow { Prompt = "q", Options = ["a"], Label = 0 });
        var textLabel = _mlContext.Data.LoadFromEnumerable(new[] { new { Prompt = "q", Options = new[] { "a", "b" }, Label = "a" } });

        Assert.Contains("Row 0: label 2 in column 'Label' is not an index of its 2 options (0..1)",
            Assert.Throws<InvalidDataException>(() => LfUEvaluator.EvaluateMultipleChoice(badLabel, LengthScorer)).Message);
        Assert.Contains("has 1 option(s); multiple choice needs at least two",
            Assert.Throws<InvalidDataException>(() => LfUEvaluator.EvaluateMultipleChoice(oneOption, LengthScorer)).Message);
        Assert.Contains("Label column 'Label' must be of type Int32 (0-based index of the correct option), but found String",
            Assert.Throws<ArgumentOutOfRangeException>(() => LfUEvaluator.EvaluateMultipleChoice(textLabel, LengthScorer)).Message);
    }

    [Fact]
    public void RobustnessReportsMeanAndBothStandardDeviations()
    {
        var metrics = LfUEvaluator.EvaluateRobustness(new Dictionary<string, double> { ["template A"] = 0.5, ["template B"] = 0.7 });

        Assert.Equal(0.6, metrics.Mean, 12);
        Assert.Equal(0.1, metrics.PopulationStandardDeviation, 12);
        Assert.Equal(Math.Sqrt(0.02), metrics.SampleStandardDeviation, 12);
        Assert.Equal(0.5, metrics.Min);
        Assert.Equal(0.7, metrics.Max);
        Assert.Equal(2, metrics.Count);
    }

    [Fact]
    public void RobustnessOverVariantDataAppliesTheMetricToEach()
    {
        var metrics = LfUEvaluator.EvaluateRobustness(new Dictionary<string, IDataView>
        {
            ["plain"] = Answers(("#### 1", "1"), ("#### 2", "2")),
            ["chat"] = Answers(("#### 1", "1"), ("#### 2", "3")),
            ["terse"] = Answers(("#### 1", "0"), ("#### 2", "3")),
        }, d => LfUEvaluator.EvaluateNumericAnswer(d).Accuracy);

        Assert.Equal(0.5, metrics.Mean, 12);
        Assert.Equal(Math.Sqrt(1.0 / 6), metrics.PopulationStandardDeviation, 12);
        Assert.Equal(0.5, metrics.SampleStandardDeviation, 12);
        Assert.Equal(1.0, metrics.Values["plain"]);
    }

    [Fact]
    public void RobustnessOfASingleVariantHasNoSampleDeviationAndRejectsNonFiniteValues()
    {
        var single = LfUEvaluator.EvaluateRobustness(new Dictionary<string, double> { ["only"] = 0.3 });

        Assert.Equal(0.0, single.PopulationStandardDeviation);
        Assert.True(double.IsNaN(single.SampleStandardDeviation));
        Assert.Throws<ArgumentException>(() => LfUEvaluator.EvaluateRobustness(new Dictionary<string, double>()));
        Assert.Contains("variant 'bad'", Assert.Throws<ArgumentOutOfRangeException>(() =>
            LfUEvaluator.EvaluateRobustness(new Dictionary<string, double> { ["bad"] = double.NaN })).Message);
    }
}
