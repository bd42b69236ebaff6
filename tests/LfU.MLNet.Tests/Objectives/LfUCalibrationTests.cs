using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet.Tokenization;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Objectives;

/// <summary>
/// LfU's automatic calibration in float64 on the LfU fixture: a calibrated step's gradient is exactly LfU's at the α and
/// λ it reports (so the fixture-checked arithmetic carries over), λ meets its gradient ratio, α reaches its relative
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
    public void WithoutSmoothingLambdaMeetsTheGradientRatioOfThePreviousStep()
    {
        var calibration = new LfUCalibration { Alpha = false, Smoothing = 0, GradientRatio = 0.3 };
        var steps = Steps(Kind("lfu-lora", calibration), count: 2);
        Assert.Equal(LfULoraObjective.DefaultLambda, steps[0].Losses.Lambda); // the first step has seen no gradient yet
        // The same batch at the same weights has the same gradients, so the second step meets the ratio.
        Assert.Equal(0.3, steps[1].Losses.GradientRatio!.Value, 1e-8); // libtorch's float64 backward is linear in the loss scale to ~1e-8 only

        // Independently: λ = 0.3 · ‖∇SFT‖ / ‖∇consistency‖, from the step's own parts.
        var (_, sft) = Steps(new SftObjective(), count: 1)[0];
        var (_, unitLambda) = Steps(Kind("lfu-lora", null, alpha: 0.1, lambda: 1), count: 1)[0];
        double sftNorm = Math.Sqrt(sft.Sum(g => g.pow(2).sum().item<double>()));
        double consistencyNorm = Math.Sqrt(unitLambda.Zip(sft).Sum(x => (x.First - x.Second).pow(2).sum().item<double>()));
        Assert.Equal(0.3 * sftNorm / consistencyNorm, steps[1].Losses.Lambda!.Value, 1e-9 * steps[1].Losses.Lambda!.Value);
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
        using var calibrator = new LfUCalibrator(new LfUCalibration { RelativeChange = 0.1 }, startAlpha: 0.4, startLambda: 5, CPU);
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
    public void LambdaIsTheRatioOfTheAveragedGradientNorms()
    {
        using var calibrator = new LfUCalibrator(new LfUCalibration { GradientRatio = 0.5, Smoothing = 0.9 }, startAlpha: 0.1, startLambda: 5, CPU);
        Assert.Equal(5.0, calibrator.Lambda().item<double>());
        calibrator.ObserveGradients(tensor(2.0), tensor(4.0 * 5), tensor(5.0)); // ‖∇consistency‖ = 4 before λ
        Assert.Equal(0.5 * 2 / 4, calibrator.Lambda().item<double>(), 1e-15);  // the averages' bias cancels
        calibrator.ObserveGradients(tensor(6.0), tensor(1.0 * 0.25), tensor(0.25));
        double sft = 0.9 * 0.1 * 2 + 0.1 * 6, consistency = 0.9 * 0.1 * 4 + 0.1 * 1;
        Assert.Equal(0.5 * sft / consistency, calibrator.Lambda().item<double>(), 1e-15);
        calibrator.ObserveGradients(tensor(100.0), tensor(0.0), tensor(0.0)); // a step at λ = 0 shows nothing
        Assert.Equal(0.5 * sft / consistency, calibrator.Lambda().item<double>(), 1e-15);
    }

    [Fact]
    public void BadSettingsAreNamed()
    {
        var kl = Assert.Throws<ArgumentException>(() => new LfULoraObjective { Consistency = ConsistencyMeasure.LogitKl, Calibration = LfUCalibration.Auto }.Validate(2));
        Assert.Contains("logit KL", kl.Message);
        new LfULoraObjective { Consistency = ConsistencyMeasure.LogitKl, Calibration = new LfUCalibration { Alpha = false } }.Validate(2);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => new LfULoraObjective { Alpha = 0, Calibration = LfUCalibration.Auto }.Validate(2));
        Assert.Equal("Alpha", zero.ParamName);
        Assert.Equal("RelativeChange", Assert.Throws<ArgumentOutOfRangeException>(() => new LfULoraObjective { Calibration = new LfUCalibration { RelativeChange = 0 } }.Validate(2)).ParamName);
        Assert.Equal("Smoothing", Assert.Throws<ArgumentOutOfRangeException>(() => new LfULoraObjective { Calibration = new LfUCalibration { Smoothing = 1 } }.Validate(2)).ParamName);
        Assert.Equal("GradientRatio", Assert.Throws<ArgumentOutOfRangeException>(() => new LfULoraObjective { Calibration = new LfUCalibration { GradientRatio = double.NaN } }.Validate(2)).ParamName);
    }

    [Fact]
    public void DescribeSaysWhatIsCalibrated()
    {
        Assert.Equal("LfU (LoRA, α=auto (ρ 0.035), λ=auto (ratio 2))", new LfULoraObjective { Calibration = LfUCalibration.Auto }.Describe());
        Assert.Equal("LfU (RepS, α=0.3, λ=auto (ratio 2))", new LfURepsObjective { Calibration = new LfUCalibration { Alpha = false } }.Describe());
        Assert.Equal("LfU (LoRA, α=0.1, λ=5)", new LfULoraObjective().Describe());
    }
}
