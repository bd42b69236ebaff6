using System.Text.Json.Nodes;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;
using static TorchSharp.torch;

namespace LfU.Cli.GpuCheck;

/// <summary>One quantity of the LfU reference step: ours against the reference, relative to the reference's scale.</summary>
internal sealed record ReferenceQuantity(string Name, double RelativeDiff);

/// <summary>One variant of the float64 LfU reference step, measured.</summary>
/// <param name="Quantities">SFT loss, ascent norm, consistency, total, every LoRA gradient and (RepS) every steering vector.</param>
/// <param name="WeightsRestored">Whether the ascent perturbation left the adapter weights bit for bit as they were.</param>
internal sealed record ReferenceStepMeasurement(string Variant, IReadOnlyList<ReferenceQuantity> Quantities, bool WeightsRestored)
{
    public ReferenceQuantity Worst => Quantities.MaxBy(q => q.RelativeDiff)!;
}

/// <summary>
/// One LfU training step in float64 against the reference computed from the paper's definition (shared/fixtures/lfu:
/// base/, adapter/, expected.safetensors, expected.json): losses, ascent norm, every LoRA gradient and RepS's steering.
/// </summary>
internal static class ReferenceStepCheck
{
    /// <summary>The fixture's variants, in its order.</summary>
    public static IReadOnlyList<string> Variants { get; } = ["sft", "lora_same_batch", "lora_independent_batch", "reps_same_batch"];

    /// <summary>Runs <paramref name="variant"/>'s step on <paramref name="device"/> in float64 and compares it with the fixture.</summary>
    public static ReferenceStepMeasurement Measure(string fixtureFolder, string variant, Device device)
    {
        if (!Variants.Contains(variant)) throw new ArgumentException($"Unknown LfU reference variant '{variant}'; choose from {string.Join(", ", Variants)}.", nameof(variant));
        string expectedJson = Path.Combine(fixtureFolder, "expected.json");
        if (!File.Exists(expectedJson)) throw new FileNotFoundException($"LfU reference fixture '{expectedJson}' does not exist; copy shared/fixtures/lfu.");
        var reference = (JsonObject)JsonNode.Parse(File.ReadAllText(expectedJson))![variant]!;

        using var scope = NewDisposeScope();
        using var model = PretrainedModel.Load(Path.Combine(fixtureFolder, "base"), ScalarType.Float64, device);
        PeftAdapter.Load(model, Path.Combine(fixtureFolder, "adapter"), ScalarType.Float64);
        var trainable = LoraAdapters.Parameters(model);
        using var expected = SafeTensorsFile.Open(Path.Combine(fixtureFolder, "expected.safetensors"));
        TokenBatch Batch(string prefix) => new TokenBatch(expected.Read($"{prefix}.input_ids"), expected.Read($"{prefix}.attention_mask"), expected.Read($"{prefix}.labels")).To(device);

        TrainingObjective objective = variant switch
        {
            "sft" => new SftObjective(),
            "lora_same_batch" => new LfULoraObjective { Alpha = 0.1, Lambda = 5 },
            "lora_independent_batch" => new LfULoraObjective { Alpha = 0.1, Lambda = 5, AscentBatch = AscentBatchMode.IndependentBatch },
            _ => new LfURepsObjective { Alpha = 0.1, Lambda = 5 },
        };
        using var step = objective.CreateStep(new ObjectiveContext(model, trainable.Select(p => p.Parameter).ToList(), Seed: 0));
        var weightsBefore = trainable.Select(p => p.Parameter.detach().clone()).ToList();
        var losses = step.Accumulate(Batch("batch"), Batch("ascent_batch"), weight: 1.0);

        // transformers computes the cross-entropy in float32 even for float64 models (so does CausalLM): the reference
        // SFT loss is exactly a float32 number; everything after it is float64.
        var quantities = new List<ReferenceQuantity> { Scalar("sft_loss", reference, losses.Sft) };
        if (variant != "sft")
        {
            quantities.Add(Scalar("ascent_grad_norm", reference, losses.AscentGradNorm!.Value));
            quantities.Add(Scalar("consistency", reference, losses.Consistency!.Value));
            quantities.Add(Scalar("total", reference, losses.Total));
        }
        foreach (var (name, parameter) in trainable)
        {
            string live = name.Replace(".weight", ".default.weight");
            quantities.Add(Relative($"grad {name}", expected.Read($"{variant}.grad.{live}"), parameter.grad!));
        }
        if (variant == "reps_same_batch")
            for (int l = 0; l < model.LayerCount; l++)
                quantities.Add(Relative($"steering {l}", expected.Read($"reps_same_batch.steer.{l}"), step.LastSteering![l]));
        bool restored = Enumerable.Range(0, trainable.Count).All(i => (weightsBefore[i] == trainable[i].Parameter).all().item<bool>());
        return new ReferenceStepMeasurement(variant, quantities, restored);
    }

    static ReferenceQuantity Scalar(string key, JsonObject reference, double actual)
    {
        double expected = reference[key]!.GetValue<double>();
        return new ReferenceQuantity(key, Math.Abs(expected - actual) / Math.Max(Math.Abs(expected), 1e-300));
    }

    /// <summary>max |expected − actual| over max |expected|.</summary>
    static ReferenceQuantity Relative(string name, Tensor expected, Tensor actual)
    {
        double scale = Math.Max(expected.abs().max().item<double>(), 1e-300);
        double diff = (expected - actual.cpu()).abs().max().item<double>();
        return new ReferenceQuantity(name, diff / scale);
    }
}
