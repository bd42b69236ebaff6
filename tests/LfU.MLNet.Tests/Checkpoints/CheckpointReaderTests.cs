using System.Text.Json;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Checkpoints;

public class CheckpointReaderTests
{
    public CheckpointReaderTests() => TorchRuntime.EnsureInitialized();

    /// <summary>Five float32 tensors of 40 bytes each, plus one of 200 bytes, in a deliberate order.</summary>
    static List<(string Name, Tensor Tensor)> Layers() =>
    [
        ("model.layers.0.w", arange(10, dtype: ScalarType.Float32)),
        ("model.layers.0.b", arange(10, 20, dtype: ScalarType.Float32)),
        ("model.layers.1.w", arange(20, 30, dtype: ScalarType.Float32)),
        ("model.big", arange(50, dtype: ScalarType.Float32)),
        ("model.layers.1.b", arange(30, 40, dtype: ScalarType.Float32)),
        ("lm_head.weight", arange(40, 50, dtype: ScalarType.Float32)),
    ];

    [Fact]
    public void OpensTheFixtureFolderAFileOrAnIndex()
    {
        using (var folder = CheckpointReader.OpenFolder(Fixtures.LlamaTiny))
        {
            Assert.Equal(30, folder.Names.Count);
            Assert.Equal(folder.Names.Order(StringComparer.Ordinal), folder.Names);
            Assert.Equal(new long[] { 512, 64 }, folder.Info("lm_head.weight").Shape);
            using var norm = folder.Read("model.norm.weight", ScalarType.Float64);
            Assert.Equal(0.9561943411827087, norm[0].item<double>(), 1e-7);
        }
        using var file = CheckpointReader.OpenFolder(Path.Combine(Fixtures.LlamaTiny, "expected.safetensors"));
        Assert.Contains("input_ids", file.Names);
        Assert.False(file.Contains("model.norm.weight"));
        Assert.Contains("has no tensor named 'nope'", Assert.Throws<KeyNotFoundException>(() => file.Info("nope")).Message);
    }

    [Fact]
    public void ShardedWriteSplitsInOrderAndReadsBack()
    {
        using var scratch = new ScratchFolder();
        var tensors = Layers();
        var written = SafeTensorsWriter.WriteSharded(scratch.Path, tensors, maxShardBytes: 100);

        // 40+40 | 40 then 200 does not fit | 200 alone | 40+40
        Assert.Equal(
            ["model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors",
             "model-00004-of-00004.safetensors", "model.safetensors.index.json"],
            written.Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(scratch.Path, "*.tmp"));

        using (var index = JsonDocument.Parse(File.ReadAllText(scratch.File("model.safetensors.index.json"))))
        {
            Assert.Equal(400, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
            Assert.Equal(map.Keys.Order(StringComparer.Ordinal), map.Keys);
            Assert.Equal("model-00001-of-00004.safetensors", map["model.layers.0.b"]);
            Assert.Equal("model-00002-of-00004.safetensors", map["model.layers.1.w"]);
            Assert.Equal("model-00003-of-00004.safetensors", map["model.big"]);
            Assert.Equal("model-00004-of-00004.safetensors", map["lm_head.weight"]);
        }
        using (var shard = SafeTensorsFile.Open(scratch.File("model-00004-of-00004.safetensors")))
            Assert.Equal("pt", shard.Metadata["format"]);

        using var reader = CheckpointReader.OpenFolder(scratch.Path);
        Assert.Equal(tensors.Select(t => t.Name).Order(StringComparer.Ordinal), reader.Names);
        foreach (var (name, original) in tensors)
        {
            using var read = reader.Read(name);
            Assert.True(SafeTensorsWriterTests.SameValues(original, read), name);
            original.Dispose();
        }
    }

    [Fact]
    public void ALayoutChangeRemovesTheOtherLayoutsFiles()
    {
        using var scratch = new ScratchFolder();
        File.WriteAllText(scratch.File("config.json"), "{}");
        File.WriteAllText(scratch.File("model-00009-of-00009.safetensors"), "stale");
        var tensors = Layers();

        SafeTensorsWriter.WriteSharded(scratch.Path, tensors, maxShardBytes: 1000);
        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(scratch.Path).Select(Path.GetFileName).Order());

        SafeTensorsWriter.WriteSharded(scratch.Path, tensors, maxShardBytes: 300); // 40+40+40 | 200+40+40
        Assert.Equal(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"],
            Directory.GetFiles(scratch.Path).Select(Path.GetFileName).Order());
        using (var reader = CheckpointReader.OpenFolder(scratch.Path)) Assert.Equal(6, reader.Names.Count);
        foreach (var (_, t) in tensors) t.Dispose();
    }

    [Fact]
    public void MissingFolder()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => CheckpointReader.OpenFolder("/nonexistent/model"));
        Assert.Contains("Checkpoint folder not found: /nonexistent/model", e.Message);
    }

    [Fact]
    public void PickleOnlyFolderExplainsHowToConvert()
    {
        using var scratch = new ScratchFolder();
        File.WriteAllText(scratch.File("pytorch_model.bin"), "pickle");
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointReader.OpenFolder(scratch.Path));
        Assert.Contains("No model.safetensors or model.safetensors.index.json in", e.Message);
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("Only safetensors checkpoints are supported", e.Message);
        Assert.Contains("save_pretrained(dst, safe_serialization=True)", e.Message);
    }

    [Fact]
    public void FolderWithOtherSafetensorsFilesSuggestsPassingTheFile()
    {
        using var scratch = new ScratchFolder();
        scratch.Raw("{}", name: "adapter_model.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointReader.OpenFolder(scratch.Path));
        Assert.Contains("adapter_model.safetensors", e.Message);
        Assert.Contains("pass the path of the file", e.Message);
    }

    static string WriteIndex(ScratchFolder scratch, string json)
    {
        string path = scratch.File("model.safetensors.index.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void IndexNamingAMissingShard()
    {
        using var scratch = new ScratchFolder();
        scratch.Raw("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, name: "model-00001-of-00002.safetensors");
        WriteIndex(scratch, """{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}""");
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointReader.OpenFolder(scratch.Path));
        Assert.Contains("assigns 1 tensors (e.g. 'b') to model-00002-of-00002.safetensors, which does not exist", e.Message);
    }

    [Fact]
    public void IndexClaimingATensorTheShardLacks()
    {
        using var scratch = new ScratchFolder();
        scratch.Raw("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, name: "s1.safetensors");
        WriteIndex(scratch, """{"weight_map":{"a":"s1.safetensors","ghost":"s1.safetensors"}}""");
        var e = Assert.Throws<InvalidDataException>(() => CheckpointReader.OpenFolder(scratch.Path));
        Assert.Contains("assigns 1 tensors to s1.safetensors that it does not contain: ghost", e.Message);
    }

    [Theory]
    [InlineData("""{"weight_map":{"a":"../elsewhere.safetensors"}}""", "weight_map entry 'a' must be the file name of a shard next to the index")]
    [InlineData("""{"weight_map":{"a":"/etc/passwd"}}""", "weight_map entry 'a' must be the file name of a shard next to the index")]
    [InlineData("""{"weight_map":{"a":7}}""", "weight_map entry 'a' must be the file name of a shard next to the index, but it is 7")]
    [InlineData("""{"weight_map":{"a":"x","a":"y"}}""", "weight_map lists 'a' twice")]
    [InlineData("""{"weight_map":{}}""", "weight_map is empty")]
    [InlineData("""{"metadata":{}}""", "has no \"weight_map\" object")]
    [InlineData("""[1]""", "has no \"weight_map\" object")]
    [InlineData("""{"weight_map":""", "is not valid JSON")]
    public void MalformedIndex(string json, string expected)
    {
        using var scratch = new ScratchFolder();
        string index = WriteIndex(scratch, json);
        var e = Assert.Throws<InvalidDataException>(() => CheckpointReader.OpenFolder(scratch.Path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(index, e.Message);
    }

    [Fact]
    public void ACorruptShardIsReportedByItsPath()
    {
        using var scratch = new ScratchFolder();
        File.WriteAllBytes(scratch.File("s1.safetensors"), [1, 2]);
        WriteIndex(scratch, """{"weight_map":{"a":"s1.safetensors"}}""");
        var e = Assert.Throws<InvalidDataException>(() => CheckpointReader.OpenFolder(scratch.Path));
        Assert.Contains("s1.safetensors is not a valid safetensors file", e.Message);
    }
}
