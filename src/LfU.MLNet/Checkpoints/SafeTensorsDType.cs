using static TorchSharp.torch;

namespace LfU.MLNet.Checkpoints;

/// <summary>The safetensors dtype names, their element sizes, and the TorchSharp types they map to.</summary>
internal static class SafeTensorsDType
{
    /// <summary>
    /// Supported dtypes. <c>Rank</c> is the position in the Rust crate's <c>Dtype</c> enum, which orders by increasing
    /// alignment; the Python/Rust writer lays tensors out by descending rank, then by name, and so do we.
    /// </summary>
    static readonly (string Name, ScalarType Type, int Size, int Rank)[] Supported =
    [
        ("BOOL", ScalarType.Bool, 1, 0),
        ("U8", ScalarType.Byte, 1, 1),
        ("I8", ScalarType.Int8, 1, 2),
        ("I16", ScalarType.Int16, 2, 5),
        ("F16", ScalarType.Float16, 2, 7),
        ("BF16", ScalarType.BFloat16, 2, 8),
        ("I32", ScalarType.Int32, 4, 9),
        ("F32", ScalarType.Float32, 4, 11),
        ("F64", ScalarType.Float64, 8, 12),
        ("I64", ScalarType.Int64, 8, 13),
    ];

    /// <summary>Dtypes the safetensors format defines but TorchSharp 0.107 has no tensor type for.</summary>
    static readonly HashSet<string> KnownButUnsupported =
        ["F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "U16", "U32", "U64", "C64"];

    internal static string SupportedNames => string.Join(", ", Supported.Select(d => d.Name));

    /// <summary>Maps a header dtype to a TorchSharp type, or explains why it cannot be read.</summary>
    internal static bool TryParse(string name, out ScalarType type, out string? whyNot)
    {
        foreach (var d in Supported)
            if (d.Name == name)
            {
                type = d.Type;
                whyNot = null;
                return true;
            }
        type = default;
        whyNot = KnownButUnsupported.Contains(name)
            ? $"dtype {name}, which TorchSharp cannot represent; convert the checkpoint to BF16, F16 or F32 in Python first " +
              "(e.g. load it with transformers and save_pretrained with torch_dtype=torch.bfloat16)"
            : $"unknown dtype '{name}' (supported: {SupportedNames})";
        return false;
    }

    internal static bool IsSupported(ScalarType type) => Supported.Any(d => d.Type == type);

    internal static string NameOf(ScalarType type) => Find(type).Name;

    internal static int SizeOf(ScalarType type) => Find(type).Size;

    internal static int RankOf(ScalarType type) => Find(type).Rank;

    static (string Name, ScalarType Type, int Size, int Rank) Find(ScalarType type)
    {
        foreach (var d in Supported)
            if (d.Type == type) return d;
        throw new ArgumentException($"TorchSharp type {type} cannot be stored in safetensors (supported: {SupportedNames}).");
    }
}
