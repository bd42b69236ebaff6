using LfU.MLNet.Evaluation;
using LfU.MLNet.Tests.MLNet;
using Microsoft.ML;
using Xunit;

namespace LfU.MLNet.Tests.Evaluation;

/// <summary>The evaluator on the outputs of a real (tiny) model that has memorised one answer.</summary>
public sealed class RealModelEvaluationTests
{
    readonly MLContext _ml = new(seed: 1);

    sealed class QuestionRow
    {
        public string Prompt { get; set; } = "";
        public string Answer { get; set; } = "";
    }

    sealed class ChoiceRow
    {
        public string Prompt { get; set; } = "";
        public string[] Options { get; set; } = [];
        public int Label { get; set; }
    }

    const string Question = "What is 2 plus 2?";
    const string TrainedAnswer = "#### 4";

    LfUTransformer Memorise()
    {
        var options = TinyFineTuning.Options();
        options.Training = options.Training with { LearningRate = 2e-2 };
        options.Training = options.Training with { Epochs = 10 }; // 10 steps on one repeated example
        options.Generation = new GenerationSettings { MaxNewTokens = 4 };
        var rows = Enumerable.Repeat(new PromptResponseRow { Prompt = Question, Response = TrainedAnswer }, 4);
        return _ml.Transforms.Text.FineTuneWithLfU(options).Fit(_ml.Data.LoadFromEnumerable(rows));
    }

    [Fact]
    public void NumericAnswersOfTheGenerationsAndMultipleChoiceByLikelihoodFollowTraining()
    {
        using var trained = Memorise();
        using var untrained = new LfUTransformer(_ml, LfUModel.Load(TinyTextModel.Path), new LfUColumnNames(), trained.GenerationSettings);

        var questions = _ml.Data.LoadFromEnumerable(new[]
        {
            new QuestionRow { Prompt = Question, Answer = "2 + 2 = 4\n#### 4" },
            new QuestionRow { Prompt = Question, Answer = "#### 5" },
        });
        var numeric = LfUEvaluator.EvaluateNumericAnswer(trained.Transform(questions));
        Assert.All(numeric.Rows, r => Assert.Equal(TrainedAnswer, r.Generated));
        Assert.Equal([true, false], numeric.Rows.Select(r => r.IsMatch));
        Assert.Equal(0.5, numeric.Accuracy);
        Assert.Equal(0, LfUEvaluator.EvaluateNumericAnswer(untrained.Transform(questions)).Matches);

        var choices = _ml.Data.LoadFromEnumerable(new[] { new ChoiceRow { Prompt = Question, Options = ["#### 7", TrainedAnswer], Label = 1 } });
        var after = LfUEvaluator.EvaluateMultipleChoice(choices, trained);
        var before = LfUEvaluator.EvaluateMultipleChoice(choices, untrained);
        Assert.Equal(1.0, after.Accuracy);
        Assert.True(after.Rows[0].OptionScores[1].Total > before.Rows[0].OptionScores[1].Total + 1,
            $"training should raise the trained answer's log-probability: {before.Rows[0].OptionScores[1].Total} -> {after.Rows[0].OptionScores[1].Total}");
        var scores = trained.Model!.Score([Question, Question], ["#### 7", TrainedAnswer]);
        Assert.Equal(scores, after.Rows[0].OptionScores);
    }
}
