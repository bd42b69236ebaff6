using LfU.MLNet.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Training;

public class OptimizerTests
{
    [Fact]
    public void AdamWMatchesTorchSharpsAdamW()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(7);
        var ours = new[] { new Parameter(randn(5, 3, dtype: ScalarType.Float64, generator: gen)), new Parameter(randn(4, dtype: ScalarType.Float64, generator: gen)) };
        var theirs = ours.Select(p => new Parameter(p.detach().clone())).ToArray();
        using var adam = new LfU.MLNet.Training.AdamW(ours, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1);
        var reference = optim.AdamW(theirs, lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1);
        for (int step = 0; step < 6; step++)
        {
            double lr = 1e-2 * (step + 1) / 6;
            foreach (var g in reference.ParamGroups) g.LearningRate = lr;
            for (int i = 0; i < ours.Length; i++)
            {
                var grad = randn(ours[i].shape, dtype: ScalarType.Float64, generator: gen);
                ours[i].grad = grad.clone();
                theirs[i].grad = grad.clone();
            }
            adam.Step(lr);
            reference.step();
        }
        Assert.Equal(6, adam.StepCount);
        for (int i = 0; i < ours.Length; i++)
        {
            double diff = (ours[i] - theirs[i]).abs().max().item<double>();
            Assert.True(diff < 1e-12, $"parameter {i} differs from torch.optim.AdamW by {diff:G3}");
        }
    }

    [Fact]
    public void FlattenedAdamWMatchesTorchAndTheUnflattenedOneBitForBit()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(11);
        var flat = new[] { new Parameter(randn(5, 3, dtype: ScalarType.Float64, generator: gen)), new Parameter(randn(4, dtype: ScalarType.Float64, generator: gen)), new Parameter(randn(2, 2, 2, dtype: ScalarType.Float64, generator: gen)) };
        var plain = flat.Select(p => new Parameter(p.detach().clone())).ToArray();
        var theirs = flat.Select(p => new Parameter(p.detach().clone())).ToArray();
        var before = flat.Select(p => p.detach().clone()).ToArray();
        using var flattened = new LfU.MLNet.Training.AdamW(flat, beta1: 0.9, beta2: 0.95, weightDecay: 0.1, flatten: true);
        using var unflattened = new LfU.MLNet.Training.AdamW(plain, beta1: 0.9, beta2: 0.95, weightDecay: 0.1);
        var reference = optim.AdamW(theirs, lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1);
        Assert.True(flattened.IsFlat);
        // Re-pointing the storage keeps every value and shape.
        for (int i = 0; i < flat.Length; i++) Assert.True((flat[i] == before[i]).all().item<bool>() && flat[i].shape.SequenceEqual(before[i].shape));
        for (int step = 0; step < 5; step++)
        {
            for (int i = 0; i < flat.Length; i++)
            {
                var grad = randn(flat[i].shape, dtype: ScalarType.Float64, generator: gen);
                flat[i].grad = grad.clone();
                plain[i].grad = grad.clone();
                theirs[i].grad = grad.clone();
            }
            flattened.Step(1e-2);
            unflattened.Step(1e-2);
            reference.step();
        }
        var names = new[] { "a", "b", "c" };
        for (int i = 0; i < flat.Length; i++)
        {
            Assert.True((flat[i] == plain[i]).all().item<bool>(), $"parameter {i} differs from the unflattened AdamW");
            double diff = (flat[i] - theirs[i]).abs().max().item<double>();
            Assert.True(diff < 1e-12, $"parameter {i} differs from torch.optim.AdamW by {diff:G3}");
        }
        var flatState = flattened.State(names).ToList();
        var plainState = unflattened.State(names).ToList();
        Assert.Equal(plainState.Select(s => s.Name), flatState.Select(s => s.Name));
        Assert.All(flatState.Zip(plainState), s => Assert.True((s.First.Tensor == s.Second.Tensor).all().item<bool>(), s.First.Name));
    }

    [Fact]
    public void AdamWKeepsFloat32MasterWeightsForBFloat16Parameters()
    {
        using var scope = NewDisposeScope();
        var p = new Parameter(ones(8, dtype: ScalarType.BFloat16));
        using var adam = new LfU.MLNet.Training.AdamW(new[] { p });
        // 1e-4 steps are below bfloat16's resolution at 1.0: only the master copy can accumulate them.
        for (int step = 0; step < 50; step++)
        {
            p.grad = ones(8, dtype: ScalarType.BFloat16);
            adam.Step(1e-4);
        }
        var master = adam.State(new[] { "p" }).Single(s => s.Name == "p.master").Tensor;
        Assert.Equal(ScalarType.Float32, master.dtype);
        Assert.Equal(1 - 50e-4, master[0].item<float>(), 4);
        Assert.Equal(master.to(ScalarType.BFloat16)[0].item<BFloat16>(), p[0].item<BFloat16>());
    }

    [Fact]
    public void CosineScheduleFollowsHuggingFace()
    {
        // get_cosine_schedule_with_warmup(num_warmup_steps=ceil(0.1*10)=1, num_training_steps=10), lr 1e-4.
        Assert.Equal(1, LearningRates.WarmupSteps(0.1, 10));
        Assert.Equal(3, LearningRates.WarmupSteps(0.1, 21));
        Assert.Equal(0.0, LearningRates.At(LearningRateSchedule.Cosine, 1e-4, 0, 10, 1));
        Assert.Equal(1e-4, LearningRates.At(LearningRateSchedule.Cosine, 1e-4, 1, 10, 1), 15);
        Assert.Equal(1e-4 * 0.5 * (1 + Math.Cos(Math.PI * 4 / 9)), LearningRates.At(LearningRateSchedule.Cosine, 1e-4, 5, 10, 1), 15);
        Assert.Equal(1e-4 * 0.5 * (1 + Math.Cos(Math.PI * 8 / 9)), LearningRates.At(LearningRateSchedule.Cosine, 1e-4, 9, 10, 1), 15);
        // Warm-up over 4 steps: 0, 1/4, 2/4, 3/4 of the base rate.
        Assert.Equal(0.5, LearningRates.At(LearningRateSchedule.Cosine, 1.0, 2, 20, 4));
    }

    [Fact]
    public void LinearAndConstantSchedulesFollowHuggingFace()
    {
        Assert.Equal(1.0, LearningRates.At(LearningRateSchedule.Linear, 1.0, 2, 10, 2));
        Assert.Equal(0.5, LearningRates.At(LearningRateSchedule.Linear, 1.0, 6, 10, 2));
        Assert.Equal(1.0 / 8, LearningRates.At(LearningRateSchedule.Linear, 1.0, 9, 10, 2));
        Assert.Equal(0.5, LearningRates.At(LearningRateSchedule.Constant, 1.0, 1, 10, 2));
        Assert.Equal(1.0, LearningRates.At(LearningRateSchedule.Constant, 1.0, 9, 10, 2));
        Assert.Equal(1.0, LearningRates.At(LearningRateSchedule.Constant, 1.0, 0, 10, 0));
    }
}
