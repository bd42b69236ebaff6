using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet.Tokenization;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Objectives;

/// <summary>
/// LfU's automatic calibration in float64 on the LfU fixture: a calibrated step's gradient is exactly LfU's at the α and
/// λ it reports (so the fixture-checked arithmetic carries over), λ weighs the consistency by the clean states' scale, α reaches its relative
/// change, and the rules themselves.
/// </summary>
public class LfUCalibrationTests
{
    static (CausalLM Model, List<Parameter> Trainable, TokenBatch Batch) Fixture() => LfUStepFixture.Load();

    /// <summary>Runs <paramref name="count"/> micro-batches of <paramref name="objective"/> on the fixture's batch (weights fixed), each from zero gradients.</summary>
    static List<(StepLosses Losses, Tensor[] Grads)> Steps(TrainingObjective objective, int count)
    {
        var (model, trainable, batch) = Fixture();
        using (model)
        {
            using var step = objective.CreateStep(new ObjectiveContext(model, trainable, Seed: 0));
            var results = new List<(StepLosses, Tensor[])>();
            for (int i = 0; i < count; i++)
            {
                foreach (var p in trainable) p.grad = null;
                var losses = step.Accumulate(batch, null, weight: 1.0);
                results.Add((losses, trainable.Select(p => p.grad!.detach().clone()).ToArray()));
            }
            return results;
        }
    }

    static double RelativeDifference(Tensor[] a, Tensor[] b) =>
        Math.Sqrt(a.Zip(b).Sum(x => (x.First - x.Second).pow(2).sum().item<double>())) / Math.Sqrt(b.Sum(t => t.pow(2).sum().item<double>()));

    public static IEnumerable<object[]> Kinds() => new[]
    {
        new object[] { "lfu-lora" }, new object[] { "lfu-reps" }, new object[] { "lfu-reps-relative" }, new object[] { "lfu-lora-multistep" },
    };

    static LfUObjective Kind(string name, LfUCalibration? calibration, double? alpha = null, double? lambda = null) =>
        (LfUObjective)ObjectiveRegistry.Create(name, new ObjectiveParameters { Calibration = calibration, Alpha = alpha, Lambda = lambda });

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EachCalibratedStepIsLfUAtTheAlphaAndLambdaItReports(string kind)
    {
        var calibrated = Steps(Kind(kind, LfUCalibration.Auto), count: 3);
        // α changes between the steps (it starts at the kind's default and is corrected), so each step is checked on its own.
        Assert.NotEqual(calibrated[0].Losses.Alpha, calibrated[1].Losses.Alpha);
        foreach (var (losses, grads) in calibrated)
        {
            var (fixedLosses, fixedGrads) = Steps(Kind(kind, null, losses.Alpha, losses.Lambda), count: 1)[0];
            Assert.True(RelativeDifference(grads, fixedGrads) < 1e-12, $"{kind}: gradient differs from LfU at α={losses.Alpha}, λ={losses.Lambda} by {RelativeDifference(grads, fixedGrads):G3}");
            Assert.Equal(fixedLosses.Consistency!.Value, losses.Consistency!.Value, 1e-15);
            Assert.Equal(fixedLosses.Total, losses.Total, 1e-14);
        }
    }

    [Fact]
    public void LambdaWeighsTheConsistencyRelativeToTheCleanStatesScale()
    {
        var calibration = new LfUCalibration { Alpha = false, ConsistencyWeight = 3 };
        var (losses, _) = Steps(Kind("lfu-lora", calibration), count: 1)[0];
        // λ · consistency = weight · (relative change)²
        Assert.Equal(3 * Math.Pow(losses.RelativeChange!.Value, 2), losses.Lambda!.Value * losses.Consistency!.Value, 1e-15);

        // Independently, for MSE: λ = weight / mean h², the mean square of the compared clean states at response positions.
        var (model, _, batch) = Fixture();
        using (model)
        {
            var response = batch.Labels! != -100;
            var clean = model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, OutputHiddenStates = true });
            double meanSquare = clean.HiddenStates!.Average(h => h[response].pow(2).mean().item<double>());
            Assert.Equal(3 / meanSquare, losses.Lambda!.Value, 1e-12 * losses.Lambda!.Value);
        }
    }

    [Theory]
    [InlineData("lfu-lora", ConsistencyMeasure.Mse)]
    [InlineData("lfu-reps", ConsistencyMeasure.Mse)]
    [InlineData("lfu-lora", ConsistencyMeasure.Cosine)]
    public void AlphaSettlesWhereTheStatesMoveByTheTargetRelativeChange(string kind, ConsistencyMeasure measure)
    {
        const double target = 0.02;
        var objective = Kind(kind, new LfUCalibration { Lambda = false, RelativeChange = target }) with { Consistency = measure };
        var steps = Steps(objective, count: 12);
        Assert.True(Math.Abs(steps[0].Losses.RelativeChange!.Value / target - 1) > 0.1, "the kind's default α should start away from the target");
        double last = steps[^1].Losses.RelativeChange!.Value;
        Assert.True(Math.Abs(last / target - 1) < 0.02, $"{kind}/{measure}: relative change {last:G4} after 12 steps, target {target}");
        // The measure itself: for MSE, √(consistency / mean of the clean states' squares), as reported.
        if (measure == ConsistencyMeasure.Cosine) Assert.Equal(Math.Sqrt(2 * steps[^1].Losses.Consistency!.Value), last, 1e-12);
    }

    [Fact]
    public void AlphaCorrectsFullyOnceThenByAtMostAFactorOfTwo()
    {
        using var calibrator = new LfUCalibrator(new LfUCalibration { RelativeChange = 0.1 }, startAlpha: 0.4, CPU);
        calibrator.ObserveRelativeChange(tensor(0.4)); // 4× too far: the first correction is full
        Assert.Equal(0.1, calibrator.Alpha().item<double>(), 1e-15);
        calibrator.ObserveRelativeChange(tensor(0.025)); // 4× too close: half the log error (×2)
        Assert.Equal(0.2, calibrator.Alpha().item<double>(), 1e-15);
        calibrator.ObserveRelativeChange(tensor(1.6)); // 16× too far: half the log error is ÷4, bounded to ÷2
        Assert.Equal(0.1, calibrator.Alpha().item<double>(), 1e-15);
        calibrator.ObserveRelativeChange(tensor(0.0)); // nothing moved (zero gradient): α stays
        Assert.Equal(0.1, calibrator.Alpha().item<double>(), 1e-15);
    }

    [Fact]
    public void LambdaIsTheWeightTimesTheSquaredRelativeChangeOverTheConsistency()
    {
        using var calibrator = new LfUCalibrator(new LfUCalibration { ConsistencyWeight = 16 }, startAlpha: 0.1, CPU);
        Assert.Equal(16 * 0.01 / 0.02, calibrator.Lambda(tensor(0.02), tensor(0.1)).item<double>(), 1e-14);
        Assert.Equal(0.0, calibrator.Lambda(tensor(0.0), tensor(0.0)).item<double>()); // nothing moved: no λ
    }

    [Fact]
    public void BadSettingsAreNamed()
    {
        var kl = Assert.Throws<ArgumentException>(() => new LfULoraObjective { Consistency = ConsistencyMeasure.LogitKl, Calibration = new LfUCalibration { Alpha = false } }.Validate(2));
        Assert.Contains("logit KL", kl.Message);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => new LfULoraObjective { Alpha = 0, Calibration = LfUCalibration.Auto }.Validate(2));
        Assert.Equal("Alpha", zero.ParamName);
        Assert.Equal("RelativeChange", Assert.Throws<ArgumentOutOfRangeException>(() => new LfULoraObjective { Calibration = new LfUCalibration { RelativeChange = 0 } }.Validate(2)).ParamName);
        Assert.Equal("ConsistencyWeight", Assert.Throws<ArgumentOutOfRangeException>(() => new LfULoraObjective { Calibration = new LfUCalibration { ConsistencyWeight = double.NaN } }.Validate(2)).ParamName);
    }

    [Fact]
    public void DescribeSaysWhatIsCalibrated()
    {
        Assert.Equal("LfU (LoRA, α=auto (ρ 0.035), λ=auto (weight 16))", new LfULoraObjective { Calibration = LfUCalibration.Auto }.Describe());
        Assert.Equal("LfU (RepS, α=0.3, λ=auto (weight 16))", new LfURepsObjective { Calibration = new LfUCalibration { Alpha = false } }.Describe());
        Assert.Equal("LfU (LoRA, α=0.1, λ=5)", new LfULoraObjective().Describe());
    }
}
