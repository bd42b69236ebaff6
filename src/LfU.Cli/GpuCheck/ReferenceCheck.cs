using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace LfU.Cli.GpuCheck;

/// <summary>Step c: the four variants of the float64 LfU reference step (shared/fixtures/lfu) on the device.</summary>
internal static class ReferenceCheck
{
    public static CheckStep Step { get; } = new("c", "LfU reference step on CUDA in float64 (all four variants)", GpuCheckSettings.ReferenceStepBudget, Run);

    /// <summary>On the CPU, relative to each quantity's scale (the fixtures' README: float64 "to about 1e-9 relative").</summary>
    public const double CpuTolerance = 1e-9;

    /// <summary>
    /// On a GPU. The reference, like transformers, runs RMSNorm statistics and the cross-entropy in float32 even for
    /// float64 weights; the CPU repeats its float32 reductions in the same order (hence ~1e-15), CUDA does not, and
    /// float32's rounding (6e-8 per operation) then moves every downstream quantity by ~1e-7 (measured on an H200:
    /// worst 8e-7, plain SFT's gradients included). 1e-5 leaves that room and still catches any error in the LfU maths,
    /// which moves quantities by percents.
    /// </summary>
    public const double DeviceTolerance = 1e-5;

    static CheckOutcome Run(GpuCheckContext context, CancellationToken cancellationToken)
    {
        var table = new StringBuilder();
        table.AppendLine("| variant | quantities compared | worst quantity | worst relative diff | weights restored | verdict |");
        table.AppendLine("|---|---:|---|---:|---|---|");
        var rows = new JsonArray();
        double tolerance = context.Device.type == TorchSharp.DeviceType.CPU ? CpuTolerance : DeviceTolerance;
        bool allPass = true;
        double worst = 0;
        foreach (string variant in ReferenceStepCheck.Variants)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var m = ReferenceStepCheck.Measure(Path.Combine(context.Settings.Fixtures, "lfu"), variant, context.Device);
            bool pass = m.Worst.RelativeDiff < tolerance && m.WeightsRestored;
            allPass &= pass;
            worst = Math.Max(worst, m.Worst.RelativeDiff);
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {variant} | {m.Quantities.Count} | {m.Worst.Name} | {m.Worst.RelativeDiff:G3} | {(m.WeightsRestored ? "yes" : "NO")} | {(pass ? "pass" : "FAIL")} |"));
            rows.Add(new JsonObject
            {
                ["variant"] = variant, ["quantities"] = m.Quantities.Count, ["worst"] = m.Worst.Name, ["worst_relative_diff"] = m.Worst.RelativeDiff,
                ["sft_loss_relative_diff"] = m.Quantities.First(q => q.Name == "sft_loss").RelativeDiff,
                ["weights_restored"] = m.WeightsRestored, ["pass"] = pass,
            });
        }
        table.AppendLine();
        table.AppendLine("Each quantity: max |ours − reference| over max |reference| (SFT loss, ascent-gradient norm, consistency, total loss, every LoRA gradient, " +
                         "RepS's steering vectors). As transformers does, RMSNorm statistics and the cross-entropy run in float32 even for float64 weights; " +
                         "CUDA reduces those in another order than the CPU, which moves every quantity by ~1e-7 (float32's rounding); hence the tolerance " +
                         string.Create(CultureInfo.InvariantCulture, $"{tolerance:G1} on a GPU, against {CpuTolerance:G1} on the CPU, where the order is the reference's."));
        return new CheckOutcome(allPass ? CheckStatus.Pass : CheckStatus.Fail,
            string.Create(CultureInfo.InvariantCulture, $"4 variants, worst relative diff {worst:G3} (< {tolerance:G1})"), table.ToString(),
            new JsonObject { ["tolerance"] = tolerance, ["rows"] = rows });
    }
}
