using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>Chooses the compute dtype of training (<see cref="TrainerOptions.ComputeDType"/>) from a user's setting.</summary>
public static class ComputePrecision
{
    /// <summary>The accepted settings: <c>auto</c> (bfloat16 where the device runs it fast, else the weights' dtype), <c>bf16</c>, <c>fp32</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "bf16", "fp32"];

    /// <summary>
    /// The compute dtype for <paramref name="setting"/> on <paramref name="device"/>: null means the weights' own dtype
    /// (<c>fp32</c>, or <c>auto</c> where bfloat16 would be slow or unsupported).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown setting.</exception>
    public static ScalarType? Resolve(string setting, Device device)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return setting.ToLowerInvariant() switch
        {
            "auto" => BFloat16IsFast(device) ? ScalarType.BFloat16 : null,
            "bf16" or "bfloat16" => ScalarType.BFloat16,
            "fp32" or "float32" => null,
            _ => throw new ArgumentException($"Unknown precision '{setting}'; use one of {string.Join(", ", Names)}.", nameof(setting)),
        };
    }

    /// <summary>
    /// True on CUDA, and on CPUs with native bfloat16 dot products (x86 AVX512-BF16 or AMX-BF16, Arm BF16), where
    /// oneDNN's bfloat16 matmuls run about four times faster than float32 ones. Elsewhere bfloat16 is emulated and slower.
    /// </summary>
    public static bool BFloat16IsFast(Device device)
    {
        if (device.type == DeviceType.CUDA) return true;
        return CpuFlags().Overlaps(["avx512_bf16", "amx_bf16", "bf16"]);
    }

    static HashSet<string> CpuFlags()
    {
        const string cpuinfo = "/proc/cpuinfo";
        var flags = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            if (!File.Exists(cpuinfo)) return flags;
            foreach (string line in File.ReadLines(cpuinfo))
            {
                // x86 lists "flags", Arm lists "Features"; every core repeats them, the first is enough.
                if (!line.StartsWith("flags", StringComparison.Ordinal) && !line.StartsWith("Features", StringComparison.Ordinal)) continue;
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                flags.UnionWith(line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
                break;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return flags;
    }
}
