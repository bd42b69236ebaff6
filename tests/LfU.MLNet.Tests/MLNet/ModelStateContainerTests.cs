using System.Text;
using Xunit;

namespace LfU.MLNet.Tests.MLNet;

public sealed class ModelStateContainerTests
{
    private static readonly TransformerManifest Manifest = new()
    {
        ModelKind = "k",
        Columns = new LfUColumnNames(),
        Generation = new GenerationSettings(),
        BatchSize = 2,
    };

    private static byte[] Write(IReadOnlyDictionary<string, byte[]> blobs)
    {
        using var stream = new MemoryStream();
        ModelStateContainer.Write(stream, Manifest, blobs);
        return stream.ToArray();
    }

    private static InvalidDataException ReadFails(byte[] bytes) =>
        Assert.Throws<InvalidDataException>(() => ModelStateContainer.Read(new MemoryStream(bytes), "test.bin"));

    [Fact]
    public void RoundTripsBlobsIncludingEmptyOnesAndOddNames()
    {
        var blobs = new Dictionary<string, byte[]> { ["../../etc/passwd"] = [1, 2, 3], ["empty"] = [], ["tokenizer.json"] = Encoding.UTF8.GetBytes("{}") };

        var (manifest, read) = ModelStateContainer.Read(new MemoryStream(Write(blobs)), "test.bin");

        Assert.Equal("k", manifest.ModelKind);
        Assert.Equal(2, manifest.BatchSize);
        Assert.Equal(blobs.Keys.Order(), read.Keys.Order());
        foreach (var (name, data) in blobs)
            Assert.Equal(data, read[name]);
    }

    [Fact]
    public void RejectsAStreamWithoutTheMarker()
    {
        byte[] bytes = Write(new Dictionary<string, byte[]>());
        bytes[0] = (byte)'X';

        Assert.Contains("does not start with the LfU state marker", ReadFails(bytes).Message);
    }

    [Fact]
    public void RejectsAnUnknownFormatVersion()
    {
        byte[] bytes = Write(new Dictionary<string, byte[]>());
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 4), 99);

        var message = ReadFails(bytes).Message;

        Assert.Contains("format version 99", message);
        Assert.Contains("reads only version 1", message);
    }

    [Fact]
    public void RejectsAnAbsurdManifestLength()
    {
        byte[] bytes = Write(new Dictionary<string, byte[]>());
        BitConverter.TryWriteBytes(bytes.AsSpan(12, 4), int.MaxValue);

        Assert.Contains("manifest length 2147483647 is outside", ReadFails(bytes).Message);
    }

    [Fact]
    public void RejectsTrailingDataAndEmptyInput()
    {
        byte[] bytes = [.. Write(new Dictionary<string, byte[]> { ["a"] = [1] }), 0];

        Assert.Contains("data after the last blob", ReadFails(bytes).Message);
        Assert.Contains("truncated in the header", ReadFails([]).Message);
    }
}
