using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace LfU.Cli.GpuCheck;

/// <summary>Step c: the four variants of the float64 LfU reference step (shared/fixtures/lfu) on the device.</summary>
internal static class ReferenceCheck
{
    public static CheckStep Step { get; } = new("c", "LfU reference step on CUDA in float64 (all four variants)", GpuCheckSettings.ReferenceStepBudget, Run);

    /// <summary>Relative to each quantity's scale (the fixtures' README: float64 "to about 1e-9 relative").</summary>
    public const double Tolerance = 1e-9;

    static CheckOutcome Run(GpuCheckContext context, CancellationToken cancellationToken)
    {
        var table = new StringBuilder();
        table.AppendLine("| variant | quantities compared | worst quantity | worst relative diff | weights restored | verdict |");
        table.AppendLine("|---|---:|---|---:|---|---|");
        var rows = new JsonArray();
        bool allPass = true;
        double worst = 0;
        foreach (string variant in ReferenceStepCheck.Variants)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var m = ReferenceStepCheck.Measure(Path.Combine(context.Settings.Fixtures, "lfu"), variant, context.Device);
            bool pass = m.Worst.RelativeDiff < Tolerance && m.WeightsRestored;
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
                         "a float32 reduction in a different order (CUDA's) can move those by ~1e-7, so a failure confined to them points there, not at the LfU maths.");
        return new CheckOutcome(allPass ? CheckStatus.Pass : CheckStatus.Fail,
            string.Create(CultureInfo.InvariantCulture, $"4 variants, worst relative diff {worst:G3} (< {Tolerance:G1})"), table.ToString(),
            new JsonObject { ["tolerance"] = Tolerance, ["rows"] = rows });
    }
}
