using LfU.MLNet.Checkpoints;
using LfU.MLNet.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Checkpoints;

public class SafeTensorsFileTests
{
    public SafeTensorsFileTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void FixtureModelListsHuggingFaceNamesShapesAndMetadata()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.LlamaTiny, "model.safetensors"));
        Assert.Equal(30, file.Tensors.Count); // embed, norm, lm_head + 3 layers x 9
        Assert.Equal("pt", file.Metadata["format"]);
        var embed = file.Tensors["model.embed_tokens.weight"];
        Assert.Equal(ScalarType.Float32, embed.DType);
        Assert.Equal(new long[] { 512, 64 }, embed.Shape);
        Assert.Equal((131072L, 262144L), (embed.Begin, embed.End));
        Assert.Equal(new long[] { 32, 64 }, file.Tensors["model.layers.2.self_attn.k_proj.weight"].Shape); // 2 kv heads x 16
        Assert.Equal(new long[] { 64, 160 }, file.Tensors["model.layers.0.mlp.down_proj.weight"].Shape);
    }

    [Fact]
    public void FixtureValuesMatchWhatPythonReads()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.LlamaTiny, "model.safetensors"));
        using var norm = file.Read("model.norm.weight");
        Assert.Equal(new[] { 0.9561943411827087f, 1.0656226873397827f, 0.8906006813049316f, 1.1145597696304321f },
            norm.data<float>().Take(4).ToArray());
        using var embed = file.Read("model.embed_tokens.weight");
        Assert.Equal(-0.221101313829422f, embed[5, 7].item<float>());

        using var expected = SafeTensorsFile.Open(Path.Combine(Fixtures.LlamaTiny, "expected.safetensors"));
        using var ids = expected.Read("input_ids");
        Assert.Equal(ScalarType.Int64, ids.dtype);
        Assert.Equal(new long[] { 2, 12 }, ids.shape);
        Assert.Equal(new long[] { 205, 95, 8, 205, 342, 65, 498, 111, 316, 39, 231, 194, 119, 289, 72, 366, 373, 364, 368, 489, 20, 0, 0, 0 },
            ids.data<long>().ToArray());
    }

    [Fact]
    public void ReadConvertsTypeOnRequest()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.LlamaTiny, "model.safetensors"));
        using var half = file.Read("model.norm.weight", ScalarType.BFloat16, CPU);
        Assert.Equal(ScalarType.BFloat16, half.dtype);
        Assert.Equal(0.9561943411827087f, half[0].to_type(ScalarType.Float32).item<float>(), 0.01f);
    }

    [Fact]
    public void ReadingAnUnknownNameSaysWhichFile()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.LlamaTiny, "model.safetensors"));
        var e = Assert.Throws<KeyNotFoundException>(() => file.Read("model.nope"));
        Assert.Contains("no tensor named 'model.nope'", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void MissingFileIsReportedWithItsPath()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open("/nonexistent/x.safetensors"));
        Assert.Contains("/nonexistent/x.safetensors", e.Message);
    }

    static string Rejects(ScratchFolder scratch, string header, int dataBytes = 0, ulong? declaredLength = null)
    {
        string path = scratch.Raw(header, dataBytes, declaredLength);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        return e.Message;
    }

    [Fact]
    public void FileShorterThanTheLengthPrefix()
    {
        using var scratch = new ScratchFolder();
        string path = scratch.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("5 bytes long, shorter than the 8-byte header length", e.Message);
    }

    [Fact]
    public void HeaderLengthBeyondTheFile()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("header length 1000 runs beyond the end of the file", Rejects(scratch, "{}", declaredLength: 1000));
        Assert.Contains("runs beyond the end of the file", Rejects(scratch, "{}", declaredLength: ulong.MaxValue));
    }

    [Fact]
    public void HeaderLengthOverTheFormatLimit()
    {
        using var scratch = new ScratchFolder();
        string path = scratch.Raw("{}", declaredLength: 100_000_001);
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(100_000_100); // sparse: costs no disk
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("exceeds the 100000000-byte limit", e.Message);
    }

    [Fact]
    public void HeaderNotJson()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("not valid UTF-8 JSON", Rejects(scratch, "hello, world"));
        Assert.Contains("not valid UTF-8 JSON", Rejects(scratch, "{\"a\":"));
    }

    [Fact]
    public void HeaderNotUtf8()
    {
        using var scratch = new ScratchFolder();
        string path = scratch.File("latin1.safetensors");
        byte[] header = [(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        File.WriteAllBytes(path, [8, 0, 0, 0, 0, 0, 0, 0, .. header]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("the header is not valid UTF-8 text", e.Message);
    }

    [Fact]
    public void HeaderNotAnObject()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("must be a JSON object, but it is an array", Rejects(scratch, "[1, 2]"));
        Assert.Contains("must be a JSON object, but it is a string", Rejects(scratch, "\"x\""));
    }

    [Fact]
    public void EntryNotAnObject()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("tensor 'a' must be an object with dtype, shape and data_offsets, but it is a number", Rejects(scratch, "{\"a\": 5}"));
    }

    [Theory]
    [InlineData("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a' has no \"dtype\" field")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "tensor 'a' has no \"shape\" field")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "tensor 'a' has no \"data_offsets\" field")]
    [InlineData("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\" must be a string, but it is a number")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", "\"shape\" must be an array, but it is a number")]
    public void MissingOrMistypedFields(string header, string expected)
    {
        using var scratch = new ScratchFolder();
        Assert.Contains(expected, Rejects(scratch, header, dataBytes: 4));
    }

    [Fact]
    public void UnknownDtype()
    {
        using var scratch = new ScratchFolder();
        string message = Rejects(scratch, "{\"w\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        Assert.Contains("tensor 'w' has unknown dtype 'F17'", message);
        Assert.Contains("BF16", message); // lists what is supported
    }

    [Fact]
    public void Float8DtypeIsNamedAsUnsupportedByTorchSharp()
    {
        using var scratch = new ScratchFolder();
        string message = Rejects(scratch, "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
        Assert.Contains("tensor 'w' has dtype F8_E4M3, which TorchSharp cannot represent", message);
    }

    [Fact]
    public void NegativeDimension()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("tensor 'w': shape[1] is negative (-2)",
            Rejects(scratch, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-2],\"data_offsets\":[0,16]}}", 16));
    }

    [Fact]
    public void NonIntegerDimensionAndOffsets()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("shape[0] must be an integer, but it is 1.5",
            Rejects(scratch, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4));
        Assert.Contains("data_offsets end must be an integer, but it is 99999999999999999999",
            Rejects(scratch, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4));
    }

    [Fact]
    public void ShapeProductOverflow()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("tensor 'w': shape [1099511627776, 1099511627776] is too large",
            Rejects(scratch, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}", 4));
        // Fits in 64 bits as an element count, not once multiplied by the element size.
        Assert.Contains("is too large",
            Rejects(scratch, "{\"w\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", 4));
    }

    [Fact]
    public void SizeAndOffsetsDisagree()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("tensor 'w': shape [2, 2] of F32 needs 16 bytes, but data_offsets [0, 12] span 12",
            Rejects(scratch, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16));
    }

    [Fact]
    public void MalformedOffsets()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("data_offsets must be [begin, end], but it has 3 elements",
            Rejects(scratch, "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 4));
        Assert.Contains("data_offsets [4, 0] end before they begin",
            Rejects(scratch, "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4));
    }

    [Fact]
    public void OffsetsBeyondTheFile()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("tensor 'w': data_offsets [100, 104] run beyond the data section, which has 8 bytes",
            Rejects(scratch, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[100,104]}}", 8));
    }

    [Fact]
    public void TruncatedDataSection()
    {
        using var scratch = new ScratchFolder();
        string path = scratch.File("cut.safetensors");
        using (var t = arange(10, dtype: ScalarType.Float32)) SafeTensorsWriter.Write(path, [("t", t)]);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("tensor 't': data_offsets [0, 40] run beyond the data section, which has 36 bytes; the file is truncated", e.Message);
    }

    [Fact]
    public void FileTruncatedAfterOpeningFailsCleanlyOnRead()
    {
        using var scratch = new ScratchFolder();
        string path = scratch.File("shrinks.safetensors");
        using (var t = arange(1000, dtype: ScalarType.Float32)) SafeTensorsWriter.Write(path, [("t", t)]);
        using var file = SafeTensorsFile.Open(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) stream.SetLength(200);
        var e = Assert.Throws<InvalidDataException>(() => file.Read("t"));
        Assert.Contains("the file ended while reading tensor 't'", e.Message);
    }

    [Fact]
    public void OverlappingTensors()
    {
        using var scratch = new ScratchFolder();
        string message = Rejects(scratch,
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24);
        Assert.Contains("tensors 'a' (bytes [0, 16)) and 'b' (bytes [8, 24)) overlap", message);
    }

    [Fact]
    public void EmptyTensorsMayShareAnOffset()
    {
        using var scratch = new ScratchFolder();
        string path = scratch.Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}}", 4);
        using var file = SafeTensorsFile.Open(path);
        using var empty = file.Read("e");
        Assert.Equal(new long[] { 0, 3 }, empty.shape);
    }

    [Fact]
    public void DuplicateNames()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("declares tensor 'a' twice", Rejects(scratch,
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2));
        Assert.Contains("two \"__metadata__\" entries", Rejects(scratch, "{\"__metadata__\":{},\"__metadata__\":{}}"));
    }

    [Fact]
    public void MetadataMustMapStringsToStrings()
    {
        using var scratch = new ScratchFolder();
        Assert.Contains("\"__metadata__\" entry 'epoch' must be a string, but it is a number", Rejects(scratch, "{\"__metadata__\":{\"epoch\":1}}"));
        Assert.Contains("\"__metadata__\" must be an object of strings, but it is an array", Rejects(scratch, "{\"__metadata__\":[\"pt\"]}"));
        Assert.Contains("\"__metadata__\" declares 'k' twice", Rejects(scratch, "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"));
    }

    [Fact]
    public void NullMetadataAndNoTensorsAreValid()
    {
        using var scratch = new ScratchFolder();
        using var file = SafeTensorsFile.Open(scratch.Raw("{\"__metadata__\":null}  "));
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void BoolBytesAreNormalised()
    {
        using var scratch = new ScratchFolder();
        // Data bytes are 0, 1, 2, 3: anything non-zero is true.
        using var file = SafeTensorsFile.Open(scratch.Raw("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4));
        using var mask = file.Read("m");
        Assert.Equal(ScalarType.Bool, mask.dtype);
        Assert.Equal(new[] { false, true, true, true }, mask.data<bool>().ToArray());
        using var asBytes = mask.to_type(ScalarType.Byte);
        Assert.Equal(new byte[] { 0, 1, 1, 1 }, asBytes.data<byte>().ToArray());
    }

    [Fact]
    public void ReadAfterDisposeThrows()
    {
        var file = SafeTensorsFile.Open(Path.Combine(Fixtures.LlamaTiny, "model.safetensors"));
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Read("model.norm.weight"));
    }
}
