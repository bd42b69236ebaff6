namespace LfU.Cli.Commands;

/// <summary>One objective's row of <c>lfu bench</c>.</summary>
/// <param name="PeakGiB">Peak memory up to this objective (see MemoryProbe), or null where the device offers no measure.</param>
/// <param name="Mfu">Matmul TFLOP/s over the given peak, as a fraction; null without <c>--peak-tflops</c>.</param>
/// <param name="Error">Why the objective has no timings (it ran out of device memory at this shape), else null; its numbers are then NaN.</param>
internal sealed record BenchObjectiveRow(string Objective, double MedianMs, double TokensPerSecond, double? PeakGiB, double Tflops, double? Mfu, string? Error = null)
{
    /// <summary>A row for an objective that did not fit in memory.</summary>
    public static BenchObjectiveRow OutOfMemory(string objective, double? peakGiB, string error) =>
        new(objective, double.NaN, double.NaN, peakGiB, double.NaN, null, error);
}
