using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using LfU.MLNet.Objectives;
using LfU.MLNet;
using LfU.MLNet.Adapters;
using LfU.MLNet.Benchmark;
using LfU.MLNet.Generation;
using LfU.MLNet.Training;
using static TorchSharp.torch;

namespace LfU.Cli.GpuCheck;

/// <summary>One short fine-tune of the bundled model and its evaluation.</summary>
internal sealed record FineTuneRun(string Label, IReadOnlyList<double> SftLosses, IReadOnlyList<double> TotalLosses,
    double InDomain, double OodKnowledge, double OodMath, double OodReasoning, double TrainSeconds, double EvalSeconds)
{
    public double OodAverage => (OodKnowledge + OodMath + OodReasoning) / 3;
}

/// <summary>
/// Step d: the same short LfU-LoRA fine-tune of data/models/mini-world (same seed, data order and adapter
/// initialisation) on the CPU in float32 and on the device with bfloat16 compute over float32 weights, then greedy
/// evaluation of both on the new task and the three old skills.
/// </summary>
internal static class FineTuneCheck
{
    public static CheckStep Step { get; } = new("d", "Short LfU fine-tune of the bundled model: CUDA bf16 beside CPU float32", GpuCheckSettings.FineTuneBudget, Run);

    /// <summary>
    /// Per step, |SFT loss (device, bf16) − SFT loss (CPU, float32)| ≤ this × the CPU loss. The first step differs only
    /// by bf16 rounding of the forward pass (measured ≈ 0.3 % on the CPU); later steps also carry the trajectory's
    /// drift (the bf16 gradients differ by the same order, and Adam normalises their size away, so each update moves
    /// the weights by a similar but not equal amount). 5 % bounds that over 30 steps with room to spare, while a
    /// broken bf16 path (a wrong cast, a lost gradient) changes the loss curve by far more.
    /// </summary>
    public const double LossTolerance = 0.05;

    static CheckOutcome Run(GpuCheckContext context, CancellationToken cancellationToken)
    {
        var s = context.Settings;
        var data = BenchmarkData.Load(s.MiniWorldData, s.EvalInDomain, s.EvalPerOodSet, paraphraseLimit: 0);
        var reference = Train(s, data, CPU, precision: null, "CPU float32", cancellationToken);
        var device = Train(s, data, context.Device, "bf16", s.DryRun ? "CPU bf16 (dry run)" : "CUDA bf16", cancellationToken);

        var relative = reference.SftLosses.Zip(device.SftLosses, (r, d) => Math.Abs(d - r) / Math.Abs(r)).ToList();
        double worst = relative.Max();
        bool pass = worst <= LossTolerance && device.SftLosses.All(double.IsFinite);

        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"LfU-LoRA (α 0.1, λ 5, r 8), {s.FineTuneSteps} steps of batch {s.FineTuneBatch}, lr 3e-3 cosine, seed 0; greedy evaluation on {data.InDomain.Count} new-task and 3 × {s.EvalPerOodSet} old-skill prompts."));
        text.AppendLine();
        text.AppendLine("| run | first SFT loss | last SFT loss | last total loss | in-domain | OOD knowledge | OOD math | OOD reasoning | OOD avg | train (s) | eval (s) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in new[] { reference, device })
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Label} | {r.SftLosses[0]:F4} | {r.SftLosses[^1]:F4} | {r.TotalLosses[^1]:F4} | {r.InDomain:F3} | {r.OodKnowledge:F3} | {r.OodMath:F3} | {r.OodReasoning:F3} | {r.OodAverage:F3} | {r.TrainSeconds:F1} | {r.EvalSeconds:F1} |"));
        text.AppendLine();
        text.AppendLine("| step | SFT loss CPU float32 | SFT loss device bf16 | relative diff |");
        text.AppendLine("|---:|---:|---:|---:|");
        for (int i = 0; i < relative.Count; i++)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {i + 1} | {reference.SftLosses[i]:F5} | {device.SftLosses[i]:F5} | {relative[i]:G3} |"));
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Tolerance: every step's SFT loss within {LossTolerance:P0} of the CPU float32 run. bf16 rounds activations by up to 2⁻⁹ ≈ 0.2 %; the first step differs by that rounding alone, later steps also by the drift of two slightly different trajectories. Accuracies are reported, not required to match: greedy decoding amplifies small differences."));

        JsonObject Json(FineTuneRun r) => new()
        {
            ["label"] = r.Label, ["sft_losses"] = new JsonArray(r.SftLosses.Select(x => (JsonNode)x).ToArray()),
            ["total_losses"] = new JsonArray(r.TotalLosses.Select(x => (JsonNode)x).ToArray()),
            ["in_domain"] = r.InDomain, ["ood_knowledge"] = r.OodKnowledge, ["ood_math"] = r.OodMath, ["ood_reasoning"] = r.OodReasoning,
            ["ood_average"] = r.OodAverage, ["train_seconds"] = r.TrainSeconds, ["eval_seconds"] = r.EvalSeconds,
        };
        return new CheckOutcome(pass ? CheckStatus.Pass : CheckStatus.Fail,
            string.Create(CultureInfo.InvariantCulture,
                $"losses within {worst:P2} (≤ {LossTolerance:P0}); in-domain {reference.InDomain:F2} / {device.InDomain:F2}, OOD avg {reference.OodAverage:F2} / {device.OodAverage:F2} (CPU / device)"),
            text.ToString(),
            new JsonObject
            {
                ["steps"] = s.FineTuneSteps, ["batch"] = s.FineTuneBatch, ["loss_tolerance"] = LossTolerance, ["worst_relative_loss_diff"] = worst,
                ["cpu"] = Json(reference), ["device"] = Json(device),
            });
    }

    static FineTuneRun Train(GpuCheckSettings s, BenchmarkData data, Device device, string? precision, string label, CancellationToken cancellationToken)
    {
        var baseModel = BaseModel.Load(s.MiniWorldModel, template: null, ScalarType.Float32, device);
        using var network = baseModel.Network;
        var job = new FineTuningJob(baseModel, new TrainerOptions
        {
            Objective = new LfULoraObjective { Alpha = 0.1, Lambda = 5 },
            LearningRate = 3e-3,
            Schedule = LearningRateSchedule.Cosine,
            WarmupRatio = 0.1,
            MaxSteps = s.FineTuneSteps,
            BatchSize = s.FineTuneBatch,
            Seed = 0,
            Precision = precision,
        });
        var examples = job.BuildExamples(data.Train.Select(item => (item.Prompt, item.Response)));
        var train = Stopwatch.StartNew();
        var result = job.Train(examples, cancellationToken: cancellationToken).Training;
        double trainSeconds = train.Elapsed.TotalSeconds;

        var evaluation = Stopwatch.StartNew();
        LoraAdapters.MergeAll(network);
        network.ComputeDType = job.ComputeDType; // evaluate in the precision that was trained
        var tests = data.InDomain.Concat(data.OodKnowledge).Concat(data.OodMath).Concat(data.OodReasoning).ToList();
        var settings = new GenerationSettings { MaxNewTokens = s.EvalMaxNewTokens, Temperature = 0, StopStrings = ForgettingBenchmark.StopStrings };
        var outputs = new TextGenerator(network, baseModel.Tokenizer, baseModel.Template)
            .Generate(tests.Select(t => t.Prompt).ToList(), settings, batchSize: 32, cancellationToken);
        int offset = 0;
        double Accuracy(IReadOnlyList<MiniWorldItem> items)
        {
            double a = BenchmarkMetrics.Accuracy(items, outputs.Skip(offset).Take(items.Count).ToList());
            offset += items.Count;
            return a;
        }
        double inDomain = Accuracy(data.InDomain), knowledge = Accuracy(data.OodKnowledge), math = Accuracy(data.OodMath), reasoning = Accuracy(data.OodReasoning);
        return new FineTuneRun(label, result.History.Select(h => h.Sft).ToList(), result.History.Select(h => h.Total).ToList(),
            inDomain, knowledge, math, reasoning, trainSeconds, evaluation.Elapsed.TotalSeconds);
    }
}
