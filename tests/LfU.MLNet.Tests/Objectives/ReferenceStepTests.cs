using LfU.Cli.GpuCheck;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Objectives;

/// <summary>
/// One LfU training step in float64 against the reference computed from the paper's definition
/// (Fixtures/lfu/README in shared/fixtures): losses, ascent norm and every LoRA gradient to ~1e-9 relative.
/// The measurement is <see cref="ReferenceStepCheck"/>, which <c>lfu gpu-check</c> runs on CUDA.
/// </summary>
public class ReferenceStepTests
{
    [Theory]
    [InlineData("sft")]
    [InlineData("lora_same_batch")]
    [InlineData("lora_independent_batch")]
    [InlineData("reps_same_batch")]
    public void StepMatchesReference(string variant)
    {
        var measured = ReferenceStepCheck.Measure(FixturePaths.Lfu, variant, CPU);
        Assert.Contains(measured.Quantities, q => q.Name == "sft_loss");
        Assert.Equal(variant != "sft", measured.Quantities.Any(q => q.Name == "consistency"));
        Assert.Equal(variant == "reps_same_batch", measured.Quantities.Any(q => q.Name.StartsWith("steering", StringComparison.Ordinal)));
        Assert.All(measured.Quantities, q => Assert.True(q.RelativeDiff < 1e-9, $"{variant} {q.Name}: relative diff {q.RelativeDiff:G3}"));
        // The ascent perturbation must leave the weights exactly as they were.
        Assert.True(measured.WeightsRestored, "the adapter weights were not restored after the ascent step");
    }
}
