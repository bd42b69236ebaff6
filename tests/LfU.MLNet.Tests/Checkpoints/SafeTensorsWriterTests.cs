using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Checkpoints;

public class SafeTensorsWriterTests
{
    public SafeTensorsWriterTests() => TorchRuntime.EnsureInitialized();

    internal static bool SameValues(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        if (a.numel() == 0) return true;
        using var same = a.eq(b);
        using var all = same.all();
        return all.item<bool>();
    }

    static List<(string Name, Tensor Tensor)> OneOfEachKind()
    {
        manual_seed(7);
        return
        [
            ("f64", randn(2, 3, dtype: ScalarType.Float64)),
            ("f32", randn(3, 4)),
            ("f16", randn(5).to_type(ScalarType.Float16)),
            ("bf16", randn(2, 2).to_type(ScalarType.BFloat16)),
            ("i64", tensor(new long[] { long.MinValue, -1, 0, long.MaxValue })),
            ("i32", tensor(new[] { int.MinValue, 7, int.MaxValue })),
            ("i16", tensor(new short[] { short.MinValue, 3, short.MaxValue })),
            ("i8", tensor(new sbyte[] { -128, 0, 127 })),
            ("u8", tensor(new byte[] { 0, 128, 255 })),
            ("bool", tensor(new[] { true, false, true })),
            ("empty", zeros(0, 3)),
            ("scalar", tensor(3.5f)),
        ];
    }

    [Fact]
    public void EveryDtypeEmptyAndScalarRoundTrip()
    {
        using var scratch = new ScratchFolder();
        var tensors = OneOfEachKind();
        string path = scratch.File("all.safetensors");
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" });

        Assert.False(File.Exists(path + ".tmp"));
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("ünïcode \"quoted\"", file.Metadata["note"]);
        foreach (var (name, original) in tensors)
        {
            using var read = file.Read(name);
            Assert.Equal(original.dtype, read.dtype);
            Assert.Equal(original.shape, read.shape);
            Assert.True(SameValues(original, read), $"{name} differs after the round trip");
            Assert.Equal(original.shape, file.Tensors[name].Shape);
        }
        Assert.Empty(file.Tensors["scalar"].Shape);
        foreach (var (_, t) in tensors) t.Dispose();
    }

    [Fact]
    public void TensorsLargerThanOneIoChunkRoundTrip()
    {
        using var scratch = new ScratchFolder();
        using var big = arange(5_000_001, dtype: ScalarType.Float64); // 40 MB: three 16 MB chunks, the last partial
        string path = scratch.File("big.safetensors");
        SafeTensorsWriter.Write(path, [("big", big)]);
        using var file = SafeTensorsFile.Open(path);
        using var read = file.Read("big");
        Assert.True(SameValues(big, read));
    }

    [Fact]
    public void NonContiguousAndNonLeafTensorsAreWrittenAsTheirValues()
    {
        using var scratch = new ScratchFolder();
        using var source = arange(12, dtype: ScalarType.Float32).reshape(3, 4).requires_grad_();
        using var transposed = source.t();
        string path = scratch.File("t.safetensors");
        SafeTensorsWriter.Write(path, [("t", transposed)]);
        using var file = SafeTensorsFile.Open(path);
        using var read = file.Read("t");
        Assert.Equal(new long[] { 4, 3 }, read.shape);
        Assert.True(SameValues(read, transposed.detach()));
    }

    [Fact]
    public void LayoutMatchesThePythonLibraryByteForByte()
    {
        using var scratch = new ScratchFolder();
        // A header that needs no padding: 64 bytes.
        using (var t = arange(6, dtype: ScalarType.Float32).reshape(1, 2, 3))
        {
            string path = scratch.File("one.safetensors");
            SafeTensorsWriter.Write(path, [("attn.0", t)]);
            byte[] expected = [.. Prefix("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}"),
                .. new float[] { 0, 1, 2, 3, 4, 5 }.SelectMany(BitConverter.GetBytes)];
            Assert.Equal(expected, File.ReadAllBytes(path));
        }
        // Headers padded with spaces to a multiple of 8; metadata first.
        string empty = scratch.File("empty.safetensors");
        SafeTensorsWriter.Write(empty, []);
        Assert.Equal(Prefix("{}      "), File.ReadAllBytes(empty));
        SafeTensorsWriter.Write(empty, [], new Dictionary<string, string> { ["framework"] = "pt" });
        Assert.Equal(Prefix("{\"__metadata__\":{\"framework\":\"pt\"}}     "), File.ReadAllBytes(empty));
    }

    static byte[] Prefix(string header)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        return [.. length, .. json];
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("expected.safetensors")] // mixed I64 and F32
    public void RewritingAFixtureReproducesThePythonFileExactly(string fixture)
    {
        using var scratch = new ScratchFolder();
        string original = Path.Combine(Fixtures.LlamaTiny, fixture);
        string copy = scratch.File(fixture);
        using (var file = SafeTensorsFile.Open(original))
        {
            var tensors = file.Tensors.Keys.Select(n => (n, file.Read(n))).ToList();
            SafeTensorsWriter.Write(copy, tensors, file.Metadata.Count > 0 ? file.Metadata : null);
            foreach (var (_, t) in tensors) t.Dispose();
        }
        Assert.Equal(File.ReadAllBytes(original), File.ReadAllBytes(copy));
    }

    [Fact]
    public void DataIsOrderedByDescendingAlignmentThenNameSoEveryTensorIsAligned()
    {
        using var scratch = new ScratchFolder();
        using var i8 = ones(3, dtype: ScalarType.Int8);
        using var f32 = ones(3);
        using var i64 = ones(1, dtype: ScalarType.Int64);
        using var f16b = ones(1, dtype: ScalarType.Float16);
        using var f16a = ones(1, dtype: ScalarType.Float16);
        string path = scratch.File("mixed.safetensors");
        SafeTensorsWriter.Write(path, [("a", i8), ("b", f32), ("c", i64), ("e", f16b), ("d", f16a)]);

        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        Assert.Equal(["c", "b", "d", "e", "a"], header.RootElement.EnumerateObject().Select(p => p.Name));
        using var file = SafeTensorsFile.Open(path);
        foreach (var info in file.Tensors.Values)
            Assert.Equal(0, (8 + headerLength + info.Begin) % (info.ByteLength == 0 ? 1 : info.ByteLength / info.Shape.Aggregate(1L, (a, b) => a * b)));
    }

    [Fact]
    public void RejectsWhatSafetensorsCannotHoldWithoutTouchingTheTarget()
    {
        using var scratch = new ScratchFolder();
        string path = scratch.File("keep.safetensors");
        File.WriteAllText(path, "previous");
        using var t = ones(2);
        using var complex = ones(2, dtype: ScalarType.ComplexFloat32);

        Assert.Contains("'a' is listed twice", Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("a", t), ("a", t)])).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("__metadata__", t)])).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("", t)])).Message);
        Assert.Contains("Tensor 'c' has type ComplexFloat32, which safetensors cannot store",
            Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("c", complex)])).Message);
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.False(File.Exists(path + ".tmp"));
    }
}
