using System.Text.Json;
using System.Text.Json.Serialization;

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

/// <summary>
/// What <c>lfu bench --json FILE</c> writes: the run's settings, our rows and, with <c>--pytorch-reference</c>, PyTorch's
/// timings and the ratios (or why PyTorch failed). <c>lfu gpu-check</c> reads it back.
/// </summary>
internal sealed record BenchRecord(
    string Config, string Device, string DType, int Batch, int Sequence, int Steps, int Warmup, long Parameters,
    string MemoryMeasure, double? PeakTflops, IReadOnlyList<BenchObjectiveRow> Objectives,
    IReadOnlyList<PyTorchReference.Timing>? PyTorch = null, IReadOnlyList<PyTorchReference.Comparison>? Comparisons = null,
    string? PyTorchError = null)
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public void Write(string path) => LfU.MLNet.IO.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    public static BenchRecord Read(string path) =>
        JsonSerializer.Deserialize<BenchRecord>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"'{path}' holds no bench record.");
}
