using LfU.MLNet.Tokenization;
using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet.Training;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Training;

/// <summary>LoRA dropout draws from torch's global generator, which other test classes reseed: run these alone.</summary>
[CollectionDefinition(nameof(GlobalTorchRandomState), DisableParallelization = true)]
public sealed class GlobalTorchRandomState;

[Collection(nameof(GlobalTorchRandomState))]
public sealed class TrainerTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-trainer-");
    string _folder => _temp.Path;

    public void Dispose() => _temp.Dispose();

    static CausalLM TinyModel(ScalarType dtype = ScalarType.Float32) => PretrainedModel.Load(FixturePaths.Model("llama-tiny"), dtype);

    /// <summary>Random sequences of varied length: a 3-token prompt (not learnt) and a response to memorise.</summary>
    static List<TrainingExample> Examples(int count, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var ids = Enumerable.Range(0, random.Next(6, 15)).Select(_ => random.Next(3, 512)).ToArray();
            var labels = ids.Select((t, i) => i < 3 ? TrainingExample.IgnoreIndex : t).ToArray();
            return new TrainingExample(ids, labels);
        }).ToList();
    }

    static TrainerOptions Options(TrainingObjective objective, int steps) => new()
    {
        Objective = objective, MaxSteps = steps, BatchSize = 2, LearningRate = 1e-2, WarmupRatio = 0, Schedule = LearningRateSchedule.Constant,
    };

    static Dictionary<string, Tensor> Snapshot(Trainer trainer) =>
        trainer.TrainableParameters.ToDictionary(p => p.Name, p => p.Parameter.detach().clone());

    [Theory]
    [InlineData("sft")]
    [InlineData("lfu-lora")]
    public void LossGoesDownWhenMemorising(string kind)
    {
        using var model = TinyModel();
        using var trainer = new Trainer(model, Options(ObjectiveRegistry.Create(kind), steps: 30) with { BatchSize = 4 });
        var result = trainer.Train(Examples(4));
        Assert.Equal(30, result.History.Count);
        double first = result.History[0].Sft, last = result.Final.Sft;
        Assert.True(last < 0.5 * first, $"{kind}: SFT loss went from {first} to {last}");
        if (kind == "lfu-lora") Assert.All(result.History, h => Assert.True(h.Consistency >= 0));
    }

    [Fact]
    public void AccumulationMatchesOneLargerBatch()
    {
        // Token-normalised accumulation: batch 4 and batch 2 × 2 give the same gradient and update. The cross-entropy runs
        // in float32 (as transformers does), so agreement is to float32 precision rather than float64's.
        var data = Examples(8);
        (Dictionary<string, Tensor> Weights, Dictionary<string, Tensor> Grads) Run(int batch, int accumulation)
        {
            using var model = TinyModel(ScalarType.Float64);
            using var trainer = new Trainer(model, Options(new SftObjective(), steps: 3) with
            {
                BatchSize = batch, GradientAccumulationSteps = accumulation, MaxGradNorm = 0.5, LearningRate = 1e-4,
            });
            trainer.Train(data);
            // After training, .grad holds the last step's (clipped) gradient.
            return (Snapshot(trainer), trainer.TrainableParameters.ToDictionary(p => p.Name, p => p.Parameter.grad!.clone()));
        }
        var whole = Run(4, 1);
        var accumulated = Run(2, 2);
        foreach (var (name, w) in whole.Weights)
        {
            double diff = (w - accumulated.Weights[name]).abs().max().item<double>();
            Assert.True(diff < 1e-6, $"{name} differs by {diff:G3} between batch 4 and batch 2 × accumulation 2");
            var g = whole.Grads[name];
            double gradDiff = (g - accumulated.Grads[name]).abs().max().item<double>() / Math.Max(g.abs().max().item<double>(), 1e-30);
            Assert.True(gradDiff < 1e-5, $"the gradient of {name} differs by {gradDiff:G3} (relative)");
        }
    }

    public static IEnumerable<object[]> ResumeCases() => new[]
    {
        new object[] { "lfu-independent-dropout", FineTuning.Lora },
        new object[] { "neftune", FineTuning.Lora },
        new object[] { "lfu-full", FineTuning.Full },
        new object[] { "lfu-calibrated", FineTuning.Lora },
    };

    [Theory]
    [MemberData(nameof(ResumeCases))]
    public void ResumeReproducesTheUninterruptedRunBitForBit(string name, FineTuning fineTuning)
    {
        TrainingObjective objective = name switch
        {
            "neftune" => new NEFTuneObjective(),
            "lfu-independent-dropout" => new LfULoraObjective { AscentBatch = AscentBatchMode.IndependentBatch },
            "lfu-calibrated" => new LfULoraObjective { Calibration = LfUCalibration.Auto },
            _ => new LfULoraObjective(),
        };
        var data = Examples(6);
        var options = Options(objective, steps: 6) with
        {
            FineTuning = fineTuning, Lora = new LoraConfig { Dropout = name == "neftune" ? 0 : 0.1 }, Schedule = LearningRateSchedule.Cosine, WarmupRatio = 0.2,
            LearningRate = 1e-3, GradientAccumulationSteps = 2, CheckpointEverySteps = 2,
        };

        Dictionary<string, Tensor> straight;
        IReadOnlyList<StepMetrics> straightHistory;
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { CheckpointFolder = Path.Combine(_folder, "straight") }))
        {
            straightHistory = trainer.Train(data).History;
            straight = Snapshot(trainer);
        }

        string interrupted = Path.Combine(_folder, "interrupted");
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { CheckpointFolder = interrupted }))
        {
            using var cancel = new CancellationTokenSource();
            var progress = new Synchronous<TrainingProgress>(p => { if (p.Metrics.Step == 3) cancel.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => trainer.Train(data, progress: progress, cancellationToken: cancel.Token));
        }
        // Cancellation after step 3 left a checkpoint of step 3 next to the periodic one of step 2.
        Assert.Equal(new[] { 2, 3 }, TrainingCheckpoint.List(interrupted).Select(c => c.Step));

        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { CheckpointFolder = interrupted }))
        {
            var result = trainer.Train(data, resumeFrom: interrupted);
            foreach (var (key, w) in straight)
                Assert.True((w == Snapshot(trainer)[key]).all().item<bool>(), $"{name}: {key} differs after resume");
            Assert.Equal(straightHistory.Select(h => (h.Sft, h.Total, h.GradNorm, h.LearningRate, h.Alpha, h.Lambda)), result.History.Select(h => (h.Sft, h.Total, h.GradNorm, h.LearningRate, h.Alpha, h.Lambda)));
            Assert.Equal(0, LoraAdapters.Parameters(model).Count(_ => fineTuning == FineTuning.Full));
        }
    }

    [Fact]
    public void TheSeedFixesTheInitialAdapter()
    {
        using var first = TinyModel();
        using var second = TinyModel();
        using var a = new Trainer(first, new TrainerOptions());
        using var b = new Trainer(second, new TrainerOptions());
        var other = Snapshot(b);
        Assert.All(Snapshot(a), p => Assert.True((p.Value == other[p.Key]).all().item<bool>(), p.Key));
    }

    [Fact]
    public void NonFiniteLossStopsWithTheStepAndSetsAsideTheCheckpointHoldingTheBadUpdate()
    {
        using var model = TinyModel();
        string folder = Path.Combine(_folder, "nan");
        using var trainer = new Trainer(model, Options(new SftObjective(), steps: 5) with
        {
            LearningRate = 1e36, MaxGradNorm = null, CheckpointFolder = folder, CheckpointEverySteps = 1,
        });
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Train(Examples(4)));
        Assert.Equal(2, error.Step);
        Assert.Contains("step 2", error.Message);
        // Step 2 ran on the weights of update 1, which checkpoint-1 holds: it is not "good", and nothing earlier exists.
        Assert.Null(error.LastCheckpoint);
        Assert.Contains("No checkpoint from before the diverging update exists", error.Message);
        Assert.Empty(TrainingCheckpoint.List(folder));
        Assert.True(Directory.Exists(Path.Combine(folder, "diverged-checkpoint-1")));
        Assert.Single(error.History);
    }

    /// <summary>
    /// With warm-up, update 1 has learning rate 0 and update 2 the huge peak: step 3 diverges, checkpoint-2 holds the bad
    /// update and checkpoint-1 (kept although KeepCheckpoints is 1) is the last good one; resuming from it with a lower
    /// learning rate is allowed and recorded.
    /// </summary>
    [Fact]
    public void DivergenceNamesACheckpointFromBeforeTheBadUpdateAndALowerLearningRateResumesFromIt()
    {
        var data = Examples(4);
        string folder = Path.Combine(_folder, "diverged");
        var options = Options(new SftObjective(), steps: 4) with
        {
            LearningRate = 1e36, WarmupRatio = 0.5, MaxGradNorm = null, CheckpointFolder = folder, CheckpointEverySteps = 1, KeepCheckpoints = 1,
        };
        TrainingDivergedException error;
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options))
            error = Assert.Throws<TrainingDivergedException>(() => trainer.Train(data));

        Assert.Equal(3, error.Step);
        Assert.Equal(Path.Combine(folder, "checkpoint-1"), error.LastCheckpoint);
        Assert.Equal([1], TrainingCheckpoint.List(folder).Select(c => c.Step));
        Assert.True(Directory.Exists(Path.Combine(folder, "diverged-checkpoint-2")));
        Assert.Equal([1, 2], error.History.Select(h => h.Step));
        using (var reader = CheckpointReader.OpenFolder(Path.Combine(error.LastCheckpoint!, PeftAdapter.WeightsFile)))
            foreach (string name in reader.Names)
                using (var weight = reader.Read(name))
                    Assert.True(weight.isfinite().all().item<bool>() && weight.abs().max().item<float>() < 10, name);

        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { LearningRate = 1e-3 }))
        {
            var result = trainer.Train(data, resumeFrom: error.LastCheckpoint);
            Assert.Equal(4, result.Final.Step);
            Assert.All(result.History, h => Assert.True(double.IsFinite(h.Total)));
            var state = TrainingCheckpoint.ReadState(result.FinalCheckpoint!);
            Assert.Equal([new LearningRateChange(1, 1e36, 1e-3)], state.LearningRateChanges!);
        }
    }

    [Fact]
    public void ASecondTrainerOnTheSameCheckpointFolderFailsAtOnceNamingTheHolder()
    {
        string folder = Path.Combine(_folder, "shared");
        var options = Options(new SftObjective(), steps: 1) with { CheckpointFolder = folder };
        using var model = TinyModel();
        using var other = TinyModel();
        using (var first = new Trainer(model, options))
        {
            var error = Assert.Throws<LfU.MLNet.IO.FolderInUseException>(() => new Trainer(other, options));
            Assert.Contains($"pid {Environment.ProcessId}", error.Message);
            Assert.Empty(LoraAdapters.Parameters(other)); // refused before touching the model
        }
        using var after = new Trainer(other, options);  // released by Dispose
        Assert.Empty(after.Warnings);
    }

    [Fact]
    public void FullFineTuningTrainsBaseWeightsAndRemovesTheAuxiliaryLora()
    {
        using var model = TinyModel();
        var before = model.get_parameter("model.layers.0.self_attn.q_proj.weight")!.detach().clone();
        using (var trainer = new Trainer(model, Options(new LfULoraObjective(), steps: 2) with { FineTuning = FineTuning.Full, LearningRate = 1e-3 }))
        {
            var result = trainer.Train(Examples(4));
            Assert.NotNull(result.Final.Consistency);
            Assert.Empty(LoraAdapters.Parameters(model));
        }
        Assert.False((before == model.get_parameter("model.layers.0.self_attn.q_proj.weight")!).all().item<bool>());
        Assert.False(model.get_parameter("model.layers.0.self_attn.q_proj.weight")!.requires_grad);
    }

    public static IEnumerable<object[]> Objectives() => new[]
    {
        new object[] { "sft", new SftObjective() },
        new object[] { "lfu-lora-same", new LfULoraObjective() },
        new object[] { "lfu-lora-independent", new LfULoraObjective { AscentBatch = AscentBatchMode.IndependentBatch } },
        new object[] { "lfu-reps", new LfURepsObjective() },
        new object[] { "lfu-cosine", new LfULoraObjective { Consistency = ConsistencyMeasure.Cosine } },
        new object[] { "lfu-logit-kl", new LfULoraObjective { Consistency = ConsistencyMeasure.LogitKl } },
        new object[] { "lfu-lora-calibrated", new LfULoraObjective { Calibration = LfUCalibration.Auto } },
        new object[] { "lfu-reps-calibrated", new LfURepsObjective { Calibration = LfUCalibration.Auto } },
        new object[] { "lfu-cosine-calibrated", new LfULoraObjective { Consistency = ConsistencyMeasure.Cosine, Calibration = LfUCalibration.Auto } },
        new object[] { "neftune", new NEFTuneObjective() },
        new object[] { "l1", new L1Objective() },
        new object[] { "l2", new L2Objective() },
    };

    [Theory]
    [MemberData(nameof(Objectives))]
    public void EveryObjectiveTrains(string name, TrainingObjective objective)
    {
        using var model = TinyModel();
        var validation = Examples(3, seed: 9);
        using var trainer = new Trainer(model, Options(objective, steps: 2) with { EvaluateEverySteps = 1 });
        var reports = new List<TrainingProgress>();
        var result = trainer.Train(Examples(4), validation, new Synchronous<TrainingProgress>(reports.Add));
        Assert.Equal(2, reports.Count);
        Assert.All(result.History, h => Assert.True(double.IsFinite(h.Total) && h.GradNorm > 0 && h.Tokens > 0, $"{name}: {h}"));
        Assert.Equal(objective is LfUObjective, result.Final.Consistency is not null);
        Assert.Equal(objective is LfUObjective, result.Final.Alpha is > 0 && result.Final.Lambda is >= 0 && result.Final.GradientRatio is >= 0);
        Assert.Equal(objective is L1Objective or L2Objective, result.Final.Penalty is not null);
        Assert.Equal(new[] { 1, 2 }, result.Validations.Select(v => v.Step));
        Assert.All(result.Validations, v => Assert.True(double.IsFinite(v.Loss) && v.Tokens > 0));
        Assert.Same(result.Validations[1], reports[1].Validation);
    }

    [Fact]
    public void BadExampleIsNamed()
    {
        using var model = TinyModel();
        using var trainer = new Trainer(model, Options(new SftObjective(), steps: 1));
        var data = Examples(3);
        data[2] = new TrainingExample(new[] { 5, 6, 7 }, new[] { -100, -100, -100 });
        var error = Assert.Throws<ArgumentException>(() => trainer.Train(data));
        Assert.Contains("training example 2", error.Message);
    }

    [Fact]
    public void ResumeWithDifferentOptionsIsRefused()
    {
        var data = Examples(4);
        string folder = Path.Combine(_folder, "options");
        var options = Options(new SftObjective(), steps: 2) with { CheckpointFolder = folder };
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options)) trainer.Train(data);
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { LearningRate = 5e-2 }))
        {
            var error = Assert.Throws<ArgumentException>(() => trainer.Train(data, resumeFrom: folder));
            Assert.Contains("LearningRate: checkpoint 0.01, now 0.05", error.Message);
            Assert.Contains("only a lower LearningRate is allowed", error.Message);
        }
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { Seed = 7 }))
            Assert.Contains("Seed", Assert.Throws<ArgumentException>(() => trainer.Train(data, resumeFrom: folder)).Message);
    }

    [Theory]
    [InlineData(null, "null")]
    [InlineData("bf16", "\"BFloat16\"")]
    public void ACheckpointThatRecordedTheResolvedComputeDTypeStillResumes(string? precision, string savedDType)
    {
        var data = Examples(4);
        string folder = Path.Combine(_folder, "legacy-" + (precision ?? "weights"));
        var options = Options(new SftObjective(), steps: 2) with { CheckpointFolder = folder, Precision = precision };
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options)) trainer.Train(data);
        // Rewrite the state as checkpoints written before TrainerOptions.Precision recorded it.
        string state = Path.Combine(TrainingCheckpoint.Resolve(folder), TrainingCheckpoint.StateFile);
        string json = File.ReadAllText(state);
        string current = $"\"Precision\": {(precision is null ? "null" : "\"bf16\"")}";
        Assert.Contains(current, json);
        File.WriteAllText(state, json.Replace(current, $"\"ComputeDType\": {savedDType}"));
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options))
            Assert.Equal(2, trainer.Train(data, resumeFrom: folder).Final.Step);
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { Precision = precision is null ? "bf16" : null }))
            Assert.Contains("Precision", Assert.Throws<ArgumentException>(() => trainer.Train(data, resumeFrom: folder)).Message);
    }

    [Fact]
    public void APrecisionResumesAnotherThatComputesInTheSameDType()
    {
        var data = Examples(4);
        string folder = Path.Combine(_folder, "precision");
        var options = Options(new SftObjective(), steps: 2) with { CheckpointFolder = folder, Precision = "fp32" };
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options)) trainer.Train(data);
        // fp32 over float32 weights computes in the weights' dtype, as no precision does.
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { Precision = null }))
            Assert.Equal(2, trainer.Train(data, resumeFrom: folder).Final.Step);
        using (var model = TinyModel())
        using (var trainer = new Trainer(model, options with { Precision = "bf16" }))
            Assert.Contains("Precision: checkpoint null, now \"bf16\"", Assert.Throws<ArgumentException>(() => trainer.Train(data, resumeFrom: folder)).Message);
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    sealed class Synchronous<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
