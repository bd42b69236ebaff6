using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Objectives;

/// <summary>The norm-relative steering form: its arithmetic, its precision in bfloat16, and its gradient in float64.</summary>
public class LfURepsRelativeObjectiveTests
{
    [Fact]
    public void SteeringTurnsTheStateAndKeepsItsNorm()
    {
        // x = (3, 4), u = (1, 0), α = 0.5: normalize((0.6, 0.8) + (0.5, 0)) · 5 = (1.1, 0.8) / √1.85 · 5.
        var y = NormRelativeSteering.Apply(tensor(new[] { 3.0, 4.0 }), tensor(new[] { 1.0, 0.0 }), 0.5);
        double s = 5 / Math.Sqrt(1.85);
        Assert.Equal(1.1 * s, y[0].item<double>(), 12);
        Assert.Equal(0.8 * s, y[1].item<double>(), 12);
        // A zero direction leaves the state as it was.
        var x = tensor(new[] { 3.0, 4.0 });
        Assert.True(NormRelativeSteering.Apply(x, zeros(2, dtype: ScalarType.Float64), 0.5).allclose(x, rtol: 0, atol: 1e-12));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    [InlineData(0.2)]
    public void InBfloat16TheAppliedPerturbationIsTheIntendedOne(double spread)
    {
        // A Llama-8B-sized state (hidden 4096), 64 positions, in bfloat16; α = 0.1.
        using var generator = new Generator(3);
        var x = (randn(64, 4096, generator: generator) * spread).to(ScalarType.BFloat16);
        var u = NormRelativeSteering.Unit(randn(4096, generator: generator));
        var applied = NormRelativeSteering.Apply(x, u, 0.1).to(ScalarType.Float64) - x.to(ScalarType.Float64);
        var exact = x.to(ScalarType.Float64);
        var intended = NormRelativeSteering.Apply(exact, u.to(ScalarType.Float64), 0.1) - exact;
        var cosine = nn.functional.cosine_similarity(applied, intended, dim: -1); // (64)
        Assert.True(cosine.min().item<double>() >= 0.99, $"spread {spread}: worst cosine {cosine.min().item<double>():F4}");
    }

    static (CausalLM Model, List<Parameter> Trainable, TokenBatch Batch) Fixture() => LfUStepFixture.Load();

    static Tensor[] Gradients(TrainingObjective objective)
    {
        var (model, trainable, batch) = Fixture();
        using (model)
        {
            using var step = objective.CreateStep(new ObjectiveContext(model, trainable, Seed: 0));
            step.Accumulate(batch, null, weight: 1.0);
            return trainable.Select(p => p.grad!.detach().clone()).ToArray();
        }
    }

    [Fact]
    public void TheConsistencyGradientMatchesAReferenceAndFiniteDifferencesInFloat64()
    {
        const double alpha = 0.3, lambda = 2;
        var withConsistency = Gradients(new LfURepsRelativeObjective { Alpha = alpha, Lambda = lambda });
        var sftOnly = Gradients(new SftObjective());

        var (model, trainable, batch) = Fixture();
        using (model)
        {
            // The ascent directions and the detached clean states, at the unperturbed weights.
            var response = batch.Labels! != -100;
            var probes = Enumerable.Range(0, model.LayerCount).Select(_ => zeros(model.Config.HiddenSize, dtype: ScalarType.Float64).requires_grad_(true)).ToArray();
            var clean = model.Forward(batch.InputIds, new ForwardOptions
            {
                AttentionMask = batch.AttentionMask, Labels = batch.Labels, OutputHiddenStates = true, MlpOutputTransform = (l, m) => m + probes[l],
            });
            var g = torch.autograd.grad([clean.Loss!], probes);
            var directions = g.Select(d => (d / d.norm()).detach()).ToArray();
            var reference = clean.HiddenStates!.Select(h => h[response].detach()).ToArray();

            // λ · consistency as a function of the weights, the directions and the reference held fixed.
            double Consistency()
            {
                using var _ = no_grad();
                var perturbed = model.Forward(batch.InputIds, new ForwardOptions
                {
                    AttentionMask = batch.AttentionMask, OutputHiddenStates = true,
                    MlpOutputTransform = (l, m) => NormRelativeSteering.Apply(m, directions[l], alpha),
                });
                var total = perturbed.HiddenStates!.Select((h, i) => (h[response] - reference[i]).pow(2).mean().item<double>()).Sum();
                return lambda * total / reference.Length;
            }

            // The independent reference: autograd of the function written out above.
            Tensor Differentiable()
            {
                var perturbed = model.Forward(batch.InputIds, new ForwardOptions
                {
                    AttentionMask = batch.AttentionMask, OutputHiddenStates = true,
                    MlpOutputTransform = (l, m) => NormRelativeSteering.Apply(m, directions[l], alpha),
                });
                return lambda * perturbed.HiddenStates!.Select((h, i) => (h[response] - reference[i]).pow(2).mean()).Aggregate((a, b) => a + b) / reference.Length;
            }
            var expected = torch.autograd.grad([Differentiable()], trainable.ToArray<Tensor>());
            for (int t = 0; t < trainable.Count; t++)
            {
                double relative = (withConsistency[t] - sftOnly[t] - expected[t]).norm().item<double>() / expected[t].norm().item<double>();
                Assert.True(relative < 1e-9, $"tensor {t}: relative difference {relative:G3} from the reference");
            }

            // Not smaller: parts of the forward pass round to float32 (~1e-8 of noise on the function, measured), so a step
            // of 1e-5 would measure noise; h = 8e-3 with Richardson's extrapolation lands within a few 1e-3 of the gradient.
            const double eps = 8e-3;
            // A few elements of the first layer's q_proj adapter and of the last down_proj's, A and B.
            foreach (int t in new[] { 0, 1, trainable.Count - 2, trainable.Count - 1 })
                foreach (long element in new long[] { 0, 5, trainable[t].numel() - 1 })
                {
                    var flat = trainable[t].view(-1);
                    double original = flat[element].item<double>();
                    double Central(double h)
                    {
                        using (no_grad()) flat[element] = tensor(original + h);
                        double up = Consistency();
                        using (no_grad()) flat[element] = tensor(original - h);
                        double down = Consistency();
                        using (no_grad()) flat[element] = tensor(original);
                        return (up - down) / (2 * h);
                    }
                    // Richardson's extrapolation of two central differences: truncation error O(h⁴).
                    double numeric = (4 * Central(eps / 2) - Central(eps)) / 3;
                    double analytic = (withConsistency[t] - sftOnly[t]).view(-1)[element].item<double>();
                    Assert.True(Math.Abs(numeric - analytic) <= 5e-3 * Math.Max(1e-3, Math.Abs(numeric)),
                        $"tensor {t} element {element}: finite difference {numeric:G8}, gradient {analytic:G8}");
                }
        }
    }

    [Fact]
    public void IsRegisteredWithItsSettings()
    {
        Assert.Equal(new LfURepsRelativeObjective { Alpha = 0.2, Lambda = 3 },
            ObjectiveRegistry.Create("lfu-reps-relative", new ObjectiveParameters { Alpha = 0.2, Lambda = 3 }));
        Assert.Equal(2, new LfURepsRelativeObjective().Cost.ForwardPasses);
    }
}
