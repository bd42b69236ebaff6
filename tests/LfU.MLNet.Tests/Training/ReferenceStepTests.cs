using LfU.MLNet.Tokenization;
using System.Text.Json.Nodes;
using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Training;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Training;

/// <summary>
/// One LfU training step in float64 against the reference computed from the paper's definition
/// (Fixtures/lfu/README in shared/fixtures): losses, ascent norm and every LoRA gradient to ~1e-9 relative.
/// </summary>
public class ReferenceStepTests
{
    static readonly JsonObject Expected = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(FixturePaths.Lfu, "expected.json")))!;

    [Theory]
    [InlineData("sft")]
    [InlineData("lora_same_batch")]
    [InlineData("lora_independent_batch")]
    [InlineData("reps_same_batch")]
    public void StepMatchesReference(string variant)
    {
        using var scope = NewDisposeScope();
        using var model = PretrainedModel.Load(Path.Combine(FixturePaths.Lfu, "base"), ScalarType.Float64);
        PeftAdapter.Load(model, Path.Combine(FixturePaths.Lfu, "adapter"), ScalarType.Float64);
        var trainable = LoraAdapters.Parameters(model);
        using var expected = SafeTensorsFile.Open(Path.Combine(FixturePaths.Lfu, "expected.safetensors"));
        var batch = new TokenBatch(expected.Read("batch.input_ids"), expected.Read("batch.attention_mask"), expected.Read("batch.labels"));
        var ascent = new TokenBatch(expected.Read("ascent_batch.input_ids"), expected.Read("ascent_batch.attention_mask"), expected.Read("ascent_batch.labels"));

        var options = variant switch
        {
            "sft" => new ObjectiveOptions { Kind = ObjectiveKind.Sft },
            "lora_same_batch" => new ObjectiveOptions { Alpha = 0.1, Lambda = 5 },
            "lora_independent_batch" => new ObjectiveOptions { Alpha = 0.1, Lambda = 5, AscentBatch = AscentBatchMode.IndependentBatch },
            _ => new ObjectiveOptions { Alpha = 0.1, Lambda = 5, Perturbation = PerturbationKind.RepS },
        };
        using var step = new ObjectiveStep(model, options, trainable.Select(p => p.Parameter).ToList(), seed: 0);
        var weightsBefore = trainable.Select(p => p.Parameter.detach().clone()).ToList();
        var losses = step.Accumulate(batch, ascent, weight: 1.0);

        var reference = (JsonObject)Expected[variant]!;
        // transformers computes the cross-entropy in float32 even for float64 models (so does CausalLM.CrossEntropy):
        // the reference SFT loss is exactly a float32 number; everything after it is float64.
        double referenceSft = reference["sft_loss"]!.GetValue<double>();
        AssertRelative(referenceSft, losses.Sft, "sft_loss");
        if (variant != "sft")
        {
            AssertRelative(reference["ascent_grad_norm"]!.GetValue<double>(), losses.AscentGradNorm!.Value, "ascent_grad_norm");
            AssertRelative(reference["consistency"]!.GetValue<double>(), losses.Consistency!.Value, "consistency");
            AssertRelative(reference["total"]!.GetValue<double>(), losses.Total, "total");
        }
        foreach (var (name, parameter) in trainable)
        {
            string live = name.Replace(".weight", ".default.weight");
            var want = expected.Read($"{variant}.grad.{live}");
            double scale = Math.Max(want.abs().max().item<double>(), 1e-300);
            double diff = (want - parameter.grad!).abs().max().item<double>();
            Assert.True(diff / scale < 1e-9, $"{variant} gradient of {name}: relative diff {diff / scale:G3}");
        }
        if (variant == "reps_same_batch")
            for (int l = 0; l < model.LayerCount; l++)
            {
                var want = expected.Read($"reps_same_batch.steer.{l}");
                double diff = (want - step.LastSteering![l]).abs().max().item<double>();
                Assert.True(diff < 1e-9 * want.abs().max().item<double>() + 1e-15, $"steering vector {l} differs by {diff:G3}");
            }
        // The ascent perturbation must leave the weights exactly as they were.
        for (int i = 0; i < trainable.Count; i++)
            Assert.True((weightsBefore[i] == trainable[i].Parameter).all().item<bool>(), $"{trainable[i].Name} was not restored");
    }

    static void AssertRelative(double expected, double actual, string what)
    {
        double rel = Math.Abs(expected - actual) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(rel < 1e-9, $"{what}: expected {expected:R}, got {actual:R} (relative diff {rel:G3})");
    }
}
