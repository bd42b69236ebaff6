using System.Text.Json;
using System.Text.Json.Serialization;

namespace LfU.Cli.Commands;

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
