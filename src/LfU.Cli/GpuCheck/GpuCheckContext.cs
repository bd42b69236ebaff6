using static TorchSharp.torch;

namespace LfU.Cli.GpuCheck;

/// <summary>
/// What the steps share: the settings, the device under test, and numbers an earlier step measured for a later one
/// (the bf16 matmul rate from step a is the MFU reference of step e).
/// </summary>
internal sealed class GpuCheckContext(GpuCheckSettings settings)
{
    public GpuCheckSettings Settings { get; } = settings;

    /// <summary>CUDA, or the CPU in a dry run.</summary>
    public Device Device => Settings.DryRun ? CPU : CUDA;

    /// <summary>The measured bf16 matmul rate (step a), TFLOP/s.</summary>
    public double? MatmulTflops { get; set; }
}
