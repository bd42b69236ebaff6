using System.Text.Json;
using LfU.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Xunit;

namespace LfU.MLNet.Tests.MLNet;

/// <summary>What Fit reports while training (log, progress), cancellation and resuming, and chat-column training.</summary>
public sealed class EstimatorTrainingTests : IDisposable
{
    readonly MLContext _ml = new(seed: 1);
    readonly TempFolder _temp = new("lfu-estimator-training-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    sealed class ChatRow
    {
        public string Prompt { get; set; } = "";
        public string Messages { get; set; } = "";
    }

    [Fact]
    public void ProgressGetsEveryStepAndTheLogGetsTheExampleReportAndTrainingProgress()
    {
        var log = TinyFineTuning.CaptureLog(_ml);
        var steps = new List<int>();
        var options = TinyFineTuning.Options();
        options.CutoffLength = 24; // the alpaca prompt alone is longer: every row is cut, and one is skipped
        options.Progress = new SynchronousProgress(p => steps.Add(p.Metrics.Step));
        var rows = TinyFineTuning.Rows(8);
        rows.Add(new PromptResponseRow { Prompt = "Nothing to learn here", Response = "" });

        using var model = _ml.Transforms.Text.FineTuneWithLfU(options).Fit(_ml.Data.LoadFromEnumerable(rows));

        Assert.Equal([1, 2], steps);
        Assert.Contains(log, m => m.Kind == ChannelMessageKind.Warning
            && m.Message.Contains("LfU: training data: 9 examples: 8 kept (8 truncated to 24 tokens), 1 skipped (1 empty response)")
            && m.Message.Contains("row 8: empty response"));
        Assert.Contains(log, m => m.Kind == ChannelMessageKind.Info && m.Message.Contains("LfU: training Lora with LfU (LoRA, α=") && m.Message.Contains(") on 8 examples"));
        Assert.Contains(log, m => m.Kind == ChannelMessageKind.Info && m.Message.Contains("LfU: step 1/2 loss "));
        Assert.Contains(log, m => m.Kind == ChannelMessageKind.Info && m.Message.Contains("LfU: step 2/2 loss "));
        Assert.Contains(log, m => m.Kind == ChannelMessageKind.Info && m.Message.Contains("LfU: done after 2 steps"));
    }

    [Fact]
    public void ACalibratedObjectiveSetsAlphaAndLambdaDuringFit()
    {
        var log = TinyFineTuning.CaptureLog(_ml);
        var options = TinyFineTuning.Options();
        options.Training = options.Training with { Objective = new LfU.MLNet.Objectives.LfULoraObjective { Calibration = LfU.MLNet.Objectives.LfUCalibration.Auto } };
        using var model = _ml.Transforms.Text.FineTuneWithLfU(options).Fit(_ml.Data.LoadFromEnumerable(TinyFineTuning.Rows(8)));

        var history = model.TrainingResult!.History;
        Assert.Equal(LfU.MLNet.Objectives.LfUObjective.DefaultAlpha, history[0].Alpha);
        Assert.NotEqual(history[0].Alpha, history[^1].Alpha);
        // λ · consistency = 16 × (relative change)² at every step.
        Assert.All(history, m => Assert.Equal(16 * m.RelativeChange!.Value * m.RelativeChange.Value, m.Lambda!.Value * m.Consistency!.Value, 1e-9));
        Assert.Contains(log, m => m.Message.Contains("α=auto (ρ 0.035), λ=auto (weight 16)"));
    }

    [Fact]
    public void CancellationStopsFitLeavingACheckpointThatResumeFromContinuesToTheSameModel()
    {
        string checkpoints = Path.Combine(_dir, "checkpoints");
        var data = _ml.Data.LoadFromEnumerable(TinyFineTuning.Rows());
        LfUOptions Options()
        {
            var o = TinyFineTuning.Options();
            o.Training = o.Training with { Epochs = 2 }; // 6 steps
            o.Training = o.Training with { CheckpointFolder = checkpoints };
            return o;
        }

        using var cancel = new CancellationTokenSource();
        var interrupted = Options();
        interrupted.CancellationToken = cancel.Token;
        interrupted.Progress = new SynchronousProgress(p => { if (p.Metrics.Step == 2) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => _ml.Transforms.Text.FineTuneWithLfU(interrupted).Fit(data));
        Assert.True(File.Exists(Path.Combine(checkpoints, "checkpoint-2", "trainer_state.json")));

        var resumedSteps = new List<int>();
        var resume = Options();
        resume.ResumeFrom = checkpoints;
        resume.Progress = new SynchronousProgress(p => resumedSteps.Add(p.Metrics.Step));
        using var resumed = _ml.Transforms.Text.FineTuneWithLfU(resume).Fit(data);
        Assert.Equal([3, 4, 5, 6], resumedSteps);
        Assert.Equal(6, resumed.TrainingResult!.History.Count);

        var uninterrupted = Options();
        uninterrupted.Training = uninterrupted.Training with { CheckpointFolder = Path.Combine(_dir, "other") };
        using var straight = _ml.Transforms.Text.FineTuneWithLfU(uninterrupted).Fit(data);
        Assert.Equal(straight.TrainingResult!.Final.Total, resumed.TrainingResult.Final.Total, 6);
        var prompts = TinyFineTuning.Rows(3).Select(r => r.Prompt).ToList();
        Assert.Equal(straight.Model!.Generate(prompts, new GenerationSettings { MaxNewTokens = 6 }),
            resumed.Model!.Generate(prompts, new GenerationSettings { MaxNewTokens = 6 }));
    }

    [Fact]
    public void CancellingTheMLContextStopsFitAtTheNextStepWithACheckpointAsTheTokenDoes()
    {
        string checkpoints = Path.Combine(_dir, "checkpoints");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(TinyFineTuning.Rows());
        LfUOptions Options()
        {
            var o = TinyFineTuning.Options();
            o.Training = o.Training with { Epochs = 2 }; // 6 steps
            o.Training = o.Training with { CheckpointFolder = checkpoints };
            return o;
        }

        var steps = new List<int>();
        var interrupted = Options();
        interrupted.Progress = new SynchronousProgress(p => { steps.Add(p.Metrics.Step); if (p.Metrics.Step == 2) CancelExecution(ml); });
        var estimator = ml.Transforms.Text.FineTuneWithLfU(interrupted);
        Assert.ThrowsAny<OperationCanceledException>(() => estimator.Fit(data));
        Assert.Equal([1, 2], steps);
        Assert.True(File.Exists(Path.Combine(checkpoints, "checkpoint-2", "trainer_state.json")));
        Assert.False(Directory.Exists(Path.Combine(checkpoints, "checkpoint-3")));

        // The cancelled context stays cancelled (as for ML.NET's trainers): a Fit on it stops before training.
        steps.Clear();
        Assert.ThrowsAny<OperationCanceledException>(() => ml.Transforms.Text.FineTuneWithLfU(interrupted).Fit(data));
        Assert.Empty(steps);

        // A fresh context resumes from the checkpoint the cancellation left.
        var resumedSteps = new List<int>();
        var resume = Options();
        resume.ResumeFrom = checkpoints;
        resume.Progress = new SynchronousProgress(p => resumedSteps.Add(p.Metrics.Step));
        using var resumed = _ml.Transforms.Text.FineTuneWithLfU(resume).Fit(_ml.Data.LoadFromEnumerable(TinyFineTuning.Rows()));
        Assert.Equal([3, 4, 5, 6], resumedSteps);
    }

    /// <summary>
    /// <c>mlContext.CancelExecution()</c>: Microsoft.ML.Experimental's extension (AutoML calls it too) over MLContext's
    /// internal method of that name, which this test project, without that package, reaches by reflection.
    /// </summary>
    static void CancelExecution(MLContext ml) =>
        typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(ml, null);

    [Fact]
    public void ACancelledTokenStopsFitBeforeTraining()
    {
        var steps = new List<int>();
        var options = TinyFineTuning.Options();
        options.CancellationToken = new CancellationToken(canceled: true);
        options.Progress = new SynchronousProgress(p => steps.Add(p.Metrics.Step));
        Assert.ThrowsAny<OperationCanceledException>(() => _ml.Transforms.Text.FineTuneWithLfU(options).Fit(_ml.Data.LoadFromEnumerable(TinyFineTuning.Rows(4))));
        Assert.Empty(steps);
    }

    static string Chat(params (string Role, string Content)[] messages) =>
        JsonSerializer.Serialize(messages.Select(m => new { role = m.Role, content = m.Content }));

    [Fact]
    public void AMessagesColumnTrainsAndTheTransformerGeneratesFromThePromptColumn()
    {
        var rows = Enumerable.Range(0, 8).Select(i => new ChatRow
        {
            Prompt = $"What is {i} plus {i}?",
            Messages = Chat(("system", "Answer briefly."), ("user", $"What is {i} plus {i}?"), ("assistant", $"#### {2 * i}")),
        }).ToList();
        var options = TinyFineTuning.Options();
        options.MessagesColumnName = "Messages";
        var log = TinyFineTuning.CaptureLog(_ml);

        using var model = _ml.Transforms.Text.FineTuneWithLfU(options).Fit(_ml.Data.LoadFromEnumerable(rows));

        Assert.Equal(2, model.TrainingResult!.History.Count);
        Assert.Contains(log, m => m.Message.Contains("training data: 8 examples: 8 kept"));
        var output = model.Transform(_ml.Data.LoadFromEnumerable(rows));
        Assert.Equal(["Prompt", "Messages", "Generated"], output.Schema.Select(c => c.Name));
        Assert.Equal(model.Model!.Generate(rows.Select(r => r.Prompt).ToList(), model.GenerationSettings), output.GetColumn<string>("Generated"));
    }

    [Theory]
    [InlineData("not json", "Row 1, column 'Messages': not a JSON list of {\"role\", \"content\"} messages")]
    [InlineData("[{\"role\":\"user\"}]", "Row 1, column 'Messages': not a JSON list of {\"role\", \"content\"} messages (every message needs \"role\" and \"content\")")]
    [InlineData("[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"user\",\"content\":\"again\"}]", "Row 1, column 'Messages': A training conversation must end with the assistant message")]
    public void AMalformedChatRowIsAnErrorNamingRowAndColumn(string messages, string expected)
    {
        var rows = new[]
        {
            new ChatRow { Prompt = "q", Messages = Chat(("user", "q"), ("assistant", "a")) },
            new ChatRow { Prompt = "q", Messages = messages },
        };
        var options = TinyFineTuning.Options();
        options.MessagesColumnName = "Messages";

        var ex = Assert.Throws<InvalidDataException>(() => _ml.Transforms.Text.FineTuneWithLfU(options).Fit(_ml.Data.LoadFromEnumerable(rows)));

        Assert.StartsWith(expected, ex.Message);
    }
}
