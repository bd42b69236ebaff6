using static TorchSharp.torch;

namespace LfU.MLNet.Checkpoints;

/// <summary>Where one tensor lies in a safetensors file and what it holds, as declared (and validated) in the header.</summary>
public sealed class SafeTensorInfo
{
    internal SafeTensorInfo(string name, ScalarType dType, long[] shape, long begin, long end)
    {
        Name = name;
        DType = dType;
        Shape = shape;
        Begin = begin;
        End = end;
    }

    /// <summary>The tensor's key, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The element type stored in the file.</summary>
    public ScalarType DType { get; }

    /// <summary>The dimensions; empty for a scalar.</summary>
    public long[] Shape { get; }

    /// <summary>Start of the tensor's bytes, relative to the start of the data section (after the header).</summary>
    public long Begin { get; }

    /// <summary>End (exclusive) of the tensor's bytes, relative to the start of the data section.</summary>
    public long End { get; }

    /// <summary>The number of bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;

    internal string ShapeText => FormatShape(Shape);

    internal static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {SafeTensorsDType.NameOf(DType)} {ShapeText}";
}
