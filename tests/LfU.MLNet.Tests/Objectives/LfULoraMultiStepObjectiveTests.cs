using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Objectives;

/// <summary>
/// Multi-step ascent in float64 on the LfU fixture (tiny Llama + LoRA adapter): k = 1 is LfU-LoRA's step bit for bit,
/// and k = 1 and 3 match the definition computed here step by step with plain autograd.
/// </summary>
public class LfULoraMultiStepObjectiveTests
{
    static (CausalLM Model, List<Parameter> Trainable, TokenBatch Batch) Fixture() => LfUStepFixture.Load();

    static (StepLosses Losses, Tensor[] Grads) Step(TrainingObjective objective)
    {
        var (model, trainable, batch) = Fixture();
        using (model)
        {
            using var step = objective.CreateStep(new ObjectiveContext(model, trainable, Seed: 0));
            var losses = step.Accumulate(batch, null, weight: 1.0);
            return (losses, trainable.Select(p => p.grad!.detach().clone()).ToArray());
        }
    }

    [Fact]
    public void OneAscentStepIsLfULoraBitForBit()
    {
        var (single, singleGrads) = Step(new LfULoraObjective { Alpha = 0.1, Lambda = 5 });
        var (multi, multiGrads) = Step(new LfULoraMultiStepObjective { Alpha = 0.1, Lambda = 5, AscentSteps = 1 });
        var (again, againGrads) = Step(new LfULoraObjective { Alpha = 0.1, Lambda = 5 });
        Assert.Equal(single, again);
        Assert.All(singleGrads.Zip(againGrads), g => Assert.True((g.First == g.Second).all().item<bool>(), $"a gradient differs between two identical runs: {(g.First - g.Second).abs().max().item<double>():G3} of {g.First.abs().max().item<double>():G3}"));
        Assert.Equal(single, multi);
        Assert.All(singleGrads.Zip(multiGrads), g => Assert.True((g.First == g.Second).all().item<bool>(), $"a gradient differs: {(g.First - g.Second).abs().max().item<double>():G3}"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void AscentStepsFollowTheDefinition(int k)
    {
        const double alpha = 0.3, lambda = 5;
        var (losses, grads) = Step(new LfULoraMultiStepObjective { Alpha = alpha, Lambda = lambda, AscentSteps = k });

        // The definition, step by step: δ moves k times by (α/k)·g/‖g‖, g the SFT gradient where the previous steps
        // reached; the consistency is the mean over hidden states of the MSE to the detached clean states.
        var (model, trainable, batch) = Fixture();
        using (model)
        {
            var response = batch.Labels! != -100;
            var clean = model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, OutputHiddenStates = true });
            var reference = clean.HiddenStates!.Select(h => h[response].detach()).ToArray();
            for (int j = 0; j < k; j++)
            {
                var loss = model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, Labels = batch.Labels }).Loss!;
                var g = torch.autograd.grad([loss], trainable.ToArray<Tensor>());
                double norm = Math.Sqrt(g.Sum(t => t.pow(2).sum().item<double>()));
                using (no_grad())
                    for (int i = 0; i < trainable.Count; i++) trainable[i].add_(g[i] * (alpha / k / norm));
            }
            var perturbed = model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, OutputHiddenStates = true });
            var consistency = perturbed.HiddenStates!.Select((h, i) => (h[response] - reference[i]).pow(2).mean()).Aggregate((a, b) => a + b) / reference.Length;
            var consistencyGrads = torch.autograd.grad([consistency], trainable.ToArray<Tensor>());

            Assert.True(Math.Abs(losses.Consistency!.Value - consistency.item<double>()) <= 1e-12 * Math.Abs(consistency.item<double>()),
                $"consistency {losses.Consistency} vs {consistency.item<double>()}");
            // The consistency's share of the gradient: the step's gradient minus plain SFT's on the same batch.
            var (_, sftOnly) = Step(new SftObjective());
            for (int i = 0; i < trainable.Count; i++)
            {
                var expected = lambda * consistencyGrads[i];
                double relative = (grads[i] - sftOnly[i] - expected).norm().item<double>() / expected.norm().item<double>();
                // The ascent directions come from the cross-entropy, which runs in float32 (as in transformers) even in a
                // float64 model; two passes that round it differently move δ by ~1e-8, and the consistency's gradient with it.
                Assert.True(relative < 1e-6, $"gradient {i}: relative difference {relative:G3}");
            }
        }
    }

    [Fact]
    public void CostsOneMorePassPerExtraStepAndIsRegistered()
    {
        Assert.Equal(4, new LfULoraMultiStepObjective { AscentSteps = 3 }.Cost.ForwardPasses);
        Assert.Equal(new ObjectiveCost(5, NeedsAscentBatch: true), new LfULoraMultiStepObjective { AscentSteps = 3, AscentBatch = AscentBatchMode.IndependentBatch }.Cost);
        var created = ObjectiveRegistry.Create("lfu-lora-multistep", new ObjectiveParameters { AscentSteps = 2, Alpha = 0.2 });
        Assert.Equal(new LfULoraMultiStepObjective { AscentSteps = 2, Alpha = 0.2 }, created);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LfULoraMultiStepObjective { AscentSteps = 0 }.Validate(layers: 2));
        Assert.Contains("AscentSteps", e.Message);
    }
}
