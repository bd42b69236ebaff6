using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.Cli.Commands;

namespace LfU.Cli.GpuCheck;

/// <summary>
/// Step e: <c>lfu bench</c> on a real model shape beside shared/bench/pt_lfu_bench.py, in one child process per shape
/// (a clean device memory pool for each, and a hard kill at the budget): step times, peak memory, MFU against step a's
/// measured matmul rate, our / PyTorch ratios and, for the 8B shape, the issue's speed and memory targets.
/// </summary>
internal static class BenchCheck
{
    /// <summary>The step for one shape.</summary>
    public static CheckStep StepFor(BenchShape shape, int index) =>
        new($"e{index + 1}", $"lfu bench beside PyTorch: {shape.Label} shape", shape.Budget, (context, token) => Run(context, shape, token));

    /// <summary>A target of the issue (8B shape, same card, same call) and whether it held.</summary>
    internal sealed record Target(string What, double Value, double Limit, bool Met);

    static CheckOutcome Run(GpuCheckContext context, BenchShape shape, CancellationToken cancellationToken)
    {
        var s = context.Settings;
        string json = Path.Combine(Path.GetTempPath(), $"lfu-gpu-check-{Environment.ProcessId}-{shape.PyTorchShape}.json");
        File.Delete(json);
        var args = new List<string>
        {
            "bench", "--config", shape.ConfigFile, "--device", s.DryRun ? "cpu" : "cuda",
            "--dtype", "bfloat16", "--batch", Invariant(s.BenchBatch), "--seq", Invariant(s.BenchSequence),
            "--steps", Invariant(s.BenchSteps), "--warmup", Invariant(s.BenchWarmup), "--json", json,
        };
        if (context.MatmulTflops is double peak) args.AddRange(["--peak-tflops", Invariant(peak)]);
        bool withPyTorch = !s.DryRun;
        if (withPyTorch)
        {
            if (s.PyTorchScript is null || !File.Exists(s.PyTorchScript))
                throw new FileNotFoundException($"The PyTorch reference script '{s.PyTorchScript}' does not exist; scripts/gpu-check.sh packs shared/bench/pt_lfu_bench.py as pt_lfu_bench.py next to the program.");
            args.AddRange(["--pytorch-reference", s.PyTorchScript, "--pytorch-shape", shape.PyTorchShape]);
        }

        SelfProcess.Result? child = null;
        bool timedOut = false;
        try
        {
            child = SelfProcess.Run(args, cancellationToken);
        }
        catch (OperationCanceledException) when (File.Exists(json))
        {
            timedOut = true; // our side finished and wrote its numbers; the PyTorch reference ran out of time
        }
        if (!File.Exists(json))
            throw new InvalidOperationException($"lfu bench exited with {child!.ExitCode} before measuring: {PyTorchReference.LastLine(child.Error)}");
        var record = BenchRecord.Read(json);
        File.Delete(json);

        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"`{Path.GetRelativePath(s.Root, shape.ConfigFile)}`: {record.Parameters / 1e6:F1} M parameters, {record.DType} on {record.Device}, batch {record.Batch} × {record.Sequence}, LoRA r 8 on all block linears; median of {record.Steps} steps after {record.Warmup} warm-up."));
        text.AppendLine();
        text.AppendLine("| objective | median step (ms) | tokens/s | peak memory (GiB) | matmul TFLOP/s | MFU (vs step a) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        static string Peak(double? gib) => gib is double g ? g.ToString("F2", CultureInfo.InvariantCulture) : "n/a";
        foreach (var r in record.Objectives)
            text.AppendLine(r.Error is not null ? $"| {r.Objective} | out of memory | | {Peak(r.PeakGiB)} | | |" : string.Create(CultureInfo.InvariantCulture,
                $"| {r.Objective} | {r.MedianMs:F1} | {r.TokensPerSecond:F0} | {Peak(r.PeakGiB)} | {r.Tflops:F2} | {(r.Mfu is double m ? $"{100 * m:F1}%" : "n/a")} |"));
        text.AppendLine();
        text.AppendLine($"Our peak memory: {record.MemoryMeasure}. PyTorch's: torch.cuda.max_memory_allocated per variant.");
        text.AppendLine();

        var data = JsonSerializer.SerializeToNode(record, BenchRecord.Json)!.AsObject();
        data["label"] = shape.Label;
        string summary = string.Join(", ", record.Objectives.Select(r => r.Error is not null ? $"{r.Objective} out of memory" : string.Create(CultureInfo.InvariantCulture, $"{r.Objective} {r.MedianMs:F0} ms")));
        var status = CheckStatus.Pass;
        foreach (var r in record.Objectives.Where(r => r.Error is not null))
        {
            text.AppendLine($"{r.Objective}: {r.Error}");
            text.AppendLine();
            status = CheckStatus.Fail; // PyTorch runs every objective at this shape on the same card
        }
        if (!withPyTorch)
        {
            text.AppendLine("PyTorch: not run (dry run: no GPU, no PyTorch); the comparison table and the targets appear here on the GPU machine.");
            summary += "; PyTorch not run (dry run)";
        }
        else if (timedOut)
        {
            text.AppendLine("PyTorch reference: killed at the step's budget, before it finished.");
            summary += "; PyTorch reference ran out of time";
            status = CheckStatus.Timeout;
        }
        else if (record.PyTorchError is not null || record.Comparisons is null || record.PyTorch is null)
        {
            string why = record.PyTorchError ?? PyTorchReference.LastLine(child!.Error);
            text.AppendLine($"PyTorch reference failed: {why}");
            summary += $"; PyTorch reference failed: {why}";
            status = CheckStatus.Fail;
        }
        else
        {
            text.AppendLine("| comparison | ours (ms) | PyTorch (ms) | ours / PyTorch |");
            text.AppendLine("|---|---:|---:|---:|");
            foreach (var c in record.Comparisons)
                text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {c.Label} | {c.OursMs:F1} | {c.TheirsMs:F1} | {c.Ratio:F2} |"));
            text.AppendLine();
            text.AppendLine("PyTorch peak memory: " + string.Join(", ", record.PyTorch.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Variant} {t.PeakGiB:F2} GiB"))) + ".");
            summary += "; ours/PyTorch " + string.Join(", ", record.Comparisons.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Ours}:{c.Theirs} {c.Ratio:F2}")));
            if (shape.PyTorchShape == "8b")
            {
                var targets = Targets(record);
                text.AppendLine();
                text.AppendLine("Targets of the issue (8B shape, same card, same call):");
                text.AppendLine();
                text.AppendLine("| target | value | limit | met |");
                text.AppendLine("|---|---:|---:|---|");
                foreach (var t in targets)
                    text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {t.What} | {t.Value:F2} | {t.Limit:F2} | {(t.Met ? "yes" : "NO")} |"));
                data["targets"] = JsonSerializer.SerializeToNode(targets, BenchRecord.Json);
                summary += $"; targets met {targets.Count(t => t.Met)}/{targets.Count}";
                if (!targets.All(t => t.Met)) status = CheckStatus.Fail;
            }
        }
        return new CheckOutcome(status, summary, text.ToString(), data);
    }

    /// <summary>The issue's targets, from one 8B record: ratios of step times and of peak memory.</summary>
    internal static IReadOnlyList<Target> Targets(BenchRecord record)
    {
        var targets = new List<Target>();
        double? Ratio(string ours, string theirs) => record.Comparisons?.FirstOrDefault(c => c.Ours == ours && c.Theirs == theirs)?.Ratio;
        void Add(string what, double? value, double limit)
        {
            if (value is double v) targets.Add(new Target(what, v, limit, v <= limit));
        }
        Add("LfU-LoRA same batch / PyTorch official step", Ratio("lfu-lora", "lfu_official_3f3b"), 0.5);
        Add("LfU-LoRA same batch / PyTorch same-batch step", Ratio("lfu-lora", "lfu_same_batch_2f2b"), 0.8);
        Add("SFT / PyTorch+peft SFT step", Ratio("sft", "sft"), 1.0);
        double? sftPeak = record.Objectives.FirstOrDefault(o => o.Objective == "sft" && o.Error is null)?.PeakGiB;
        double? lfuPeak = record.Objectives.FirstOrDefault(o => o.Objective == "lfu-lora" && o.Error is null)?.PeakGiB;
        if (sftPeak is double sp && lfuPeak is double lp && sp > 0) Add("LfU-LoRA peak / our SFT peak", lp / sp, 1.1);
        return targets;
    }

    static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
