using LfU.MLNet.Tokenization;
using System.Diagnostics;
using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// Times training steps of each objective on random tokens, the way <c>shared/bench/pt_lfu_bench.py</c> does for
/// PyTorch: LoRA (r = 8, α = 16) on all block linears, random ids, the first quarter of each row a prompt (-100).
/// </summary>
internal static class StepBenchmark
{
    /// <summary>The objectives timed by default: those the PyTorch side of the comparison times too.</summary>
    public static readonly IReadOnlyList<string> DefaultObjectives = [SftObjective.RegistryName, LfULoraObjective.RegistryName, IndependentLora, LfURepsObjective.RegistryName];

    /// <summary>LfU-LoRA with the official code's independent ascent batch (3 forward + 3 backward).</summary>
    public const string IndependentLora = "lfu-lora-independent";

    /// <summary>The random batches mask the first 1/<c>PromptFraction</c> of each row as prompt, as fine-tuning data does.</summary>
    const int PromptFraction = 4;

    /// <summary>Ascent batches are seeded apart from the main batches (seeds 0, 1, …), so that the two never coincide.</summary>
    const int AscentSeedOffset = 1000;

    /// <summary>Any learning rate times the step alike; the paper's keeps the weights finite over many steps.</summary>
    const double LearningRate = 1e-4;

    /// <summary>Every registered objective at its defaults, by name, plus <see cref="IndependentLora"/>.</summary>
    public static IReadOnlyList<string> Names => ObjectiveRegistry.Names.Append(IndependentLora).ToArray();

    /// <summary>The objective <paramref name="name"/> stands for.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists them.</exception>
    public static TrainingObjective Objective(string name) => name == IndependentLora
        ? new LfULoraObjective { AscentBatch = AscentBatchMode.IndependentBatch }
        : Names.Contains(name, StringComparer.OrdinalIgnoreCase) ? ObjectiveRegistry.Create(name)
        : throw new ArgumentException($"Unknown objective '{name}'; choose from {string.Join(", ", Names)}.", nameof(name));

    /// <summary>
    /// Runs <paramref name="warmup"/> untimed and <paramref name="steps"/> timed steps of the named objective on
    /// <paramref name="model"/>, which must carry the LoRA adapter being trained.
    /// </summary>
    public static BenchmarkResult Run(CausalLM model, string objective, int batch, int sequence, int steps, int warmup, MemoryProbe memory)
    {
        var options = Objective(objective);
        var trainable = LoraAdapters.Parameters(model).Select(p => p.Parameter).ToList();
        if (trainable.Count == 0) throw new ArgumentException("Attach a LoRA adapter to the model before benchmarking.", nameof(model));
        using var step = options.CreateStep(new ObjectiveContext(model, trainable, Seed: 0));
        using var optimizer = new AdamW(trainable, flatten: true);
        model.train();
        var times = new List<double>();
        for (int i = 0; i < warmup + steps; i++)
        {
            using var scope = NewDisposeScope();
            var main = RandomBatch(model, batch, sequence, seed: i);
            var ascent = options.Cost.NeedsAscentBatch ? RandomBatch(model, batch, sequence, seed: AscentSeedOffset + i) : null;
            Synchronize(model);
            var clock = Stopwatch.StartNew();
            foreach (var p in trainable) p.grad = null;
            step.AccumulateOnDevice(main, ascent, 1.0); // no host read inside the timed step
            optimizer.Step(LearningRate);
            Synchronize(model);
            if (i >= warmup) times.Add(clock.Elapsed.TotalSeconds);
            memory.Sample();
        }
        times.Sort();
        double median = times[times.Count / 2];
        return new BenchmarkResult(objective, median, batch * sequence / median, memory.PeakBytes, StepFlops(model.Config, options, batch, sequence));
    }

    static void Synchronize(CausalLM model)
    {
        if (model.Device.type == DeviceType.CUDA) cuda.synchronize();
    }

    static TokenBatch RandomBatch(CausalLM model, int batch, int sequence, int seed)
    {
        using var generator = SeededRandom.Create(seed);
        var ids = SeededRandom.Integers(0, model.Config.VocabSize, new long[] { batch, sequence }, model.Device, generator); // (B, T)
        var labels = ids.clone();
        labels[.., ..(sequence / PromptFraction)] = tensor((long)TrainingExample.IgnoreIndex);
        return new TokenBatch(ids, ones_like(ids), labels);
    }

    /// <summary>
    /// Estimated matmul FLOPs of one LoRA training step. A forward pass costs F = tokens · (2·P + 4·L·T·H), with P the
    /// weights of every block projection plus the output head (counted even when tied), L layers, T the sequence
    /// length and H = heads · head_dim (the QKᵀ and attention-times-V products over the full T×T score matrix, as SDPA
    /// with a mask computes them). With frozen base weights a backward pass needs only input gradients: ≈ 1·F (a full
    /// fine-tuning backward would be ≈ 2·F). SFT runs 1 forward + 1 backward, LfU same-batch and RepS 2 + 2, LfU with
    /// an independent ascent batch 3 + 3. The adapters' own FLOPs (rank 8) are ignored.
    /// </summary>
    public static double StepFlops(ModelConfig c, TrainingObjective objective, int batch, int sequence)
    {
        double perLayer = (double)c.HiddenSize * c.NumAttentionHeads * c.HeadDim * 2        // q, o
                        + (double)c.HiddenSize * c.NumKeyValueHeads * c.HeadDim * 2         // k, v
                        + 3.0 * c.HiddenSize * c.IntermediateSize;                         // gate, up, down
        double projections = perLayer * c.NumHiddenLayers + (double)c.HiddenSize * c.VocabSize;
        double tokens = (double)batch * sequence;
        double forward = tokens * (2 * projections + 4.0 * c.NumHiddenLayers * sequence * c.NumAttentionHeads * c.HeadDim);
        int passes = objective.Cost.ForwardPasses;
        return passes * (forward + forward);
    }
}
