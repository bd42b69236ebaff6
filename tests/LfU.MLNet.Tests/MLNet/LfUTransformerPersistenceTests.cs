using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using Microsoft.ML;
using Xunit;

namespace LfU.MLNet.Tests.MLNet;

public sealed class LfUTransformerPersistenceTests : IDisposable
{
    private readonly MLContext _mlContext = new(seed: 1);
    readonly TempFolder _temp = new("lfu-mlnet-persistence-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    private string SaveModel(ITextModel model, GenerationSettings? settings = null)
    {
        using var transformer = new LfUTransformer(_mlContext, model, new LfUColumnNames(), settings ?? new GenerationSettings { MaxNewTokens = 9 }, batchSize: 3);
        var data = _mlContext.Data.LoadFromEnumerable(TransformerTestData.Rows(1));
        string path = Path.Combine(_dir, "model.zip");
        _mlContext.Model.Save(transformer, data.Schema, path);
        return path;
    }

    [Fact]
    public void SaveThenLoadInANewProcessGivesIdenticalOutputs()
    {
        var rows = TransformerTestData.Rows(7);
        var settings = new GenerationSettings { MaxNewTokens = 9, Temperature = 0.5, TopP = 0.9, TopK = 4, Seed = 3, StopStrings = ["\n"] };
        using var original = new LfUTransformer(_mlContext, new FakeTextModel("~v2", weight: 0.25), new LfUColumnNames(), settings, batchSize: 3);
        var expected = TransformerTestData.Run(_mlContext, original, rows);
        string modelPath = Path.Combine(_dir, "model.zip");
        _mlContext.Model.Save(original, _mlContext.Data.LoadFromEnumerable(rows).Schema, modelPath);
        string rowsPath = Path.Combine(_dir, "rows.json");
        File.WriteAllText(rowsPath, JsonSerializer.Serialize(rows));

        string stdout = RoundTripHost.Run(RoundTripHost.Verb, modelPath, rowsPath);

        using var result = JsonDocument.Parse(stdout);
        Assert.Equal(typeof(LfUTransformer).FullName, result.RootElement.GetProperty("Type").GetString());
        var actual = result.RootElement.GetProperty("Outputs").Deserialize<List<TransformedRow>>()!;
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));
        Assert.Contains("~v29", actual[0].Generated); // the suffix from the saved state and MaxNewTokens from the saved settings
    }

    [Fact]
    public void TheRealMLNetAssembliesLoadAtRunTimeNotThePublicizedCompileReferences()
    {
        var modelLoadContext = typeof(MLContext).Assembly.GetType("Microsoft.ML.ModelLoadContext", throwOnError: false)
            ?? Type.GetType("Microsoft.ML.ModelLoadContext, Microsoft.ML.Core", throwOnError: true)!;

        Assert.False(modelLoadContext.IsPublic);
    }

    [Fact]
    public void LoadRestoresSettingsColumnsAndBatchSize()
    {
        var settings = new GenerationSettings { MaxNewTokens = 5, Temperature = 0.7, TopP = 0.8, TopK = 2, Seed = 11, StopStrings = ["###", "\n\n"] };
        string path = SaveModel(new FakeTextModel("-s", 1), settings);

        using var loaded = (LfUTransformer)_mlContext.Model.Load(path, out var inputSchema);

        var restored = loaded.GenerationSettings;
        Assert.Equal(JsonSerializer.Serialize(settings), JsonSerializer.Serialize(restored));
        Assert.Equal(3, loaded.BatchSize);
        Assert.Equal("Prompt", loaded.PromptColumnName);
        Assert.Equal(["Prompt", "Response"], inputSchema.Select(c => c.Name));
    }

    [Fact]
    public void ATamperedBlobIsReportedByName()
    {
        string path = SaveModel(new FakeTextModel("-suffix", 1));
        RewriteStateEntry(path, state =>
        {
            int at = state.AsSpan().IndexOf("-suffix"u8); // inside blob 'fake/suffix.txt'
            state[at + 1] ^= 0x20;
        });

        var ex = LoadFails<InvalidDataException>(path);

        Assert.Contains("blob 'fake/suffix.txt' fails its SHA-256 check", ex.Message);
        Assert.Contains(LfUTransformer.StateEntryName, ex.Message);
    }

    [Fact]
    public void ATamperedManifestIsReported()
    {
        string path = SaveModel(new FakeTextModel("-s", 1));
        RewriteStateEntry(path, state =>
        {
            int at = state.AsSpan().IndexOf("\"maxNewTokens\":9"u8);
            state[at + "\"maxNewTokens\":".Length] = (byte)'8';
        });

        var ex = LoadFails<InvalidDataException>(path);

        Assert.Contains("manifest fails its SHA-256 check", ex.Message);
    }

    [Fact]
    public void ATruncatedStateEntryIsReported()
    {
        string path = SaveModel(new FakeTextModel("-s", 1));
        byte[]? truncated = null;
        RewriteStateEntry(path, state => truncated = state[..^3], replace: () => truncated!);

        var ex = LoadFails<InvalidDataException>(path);

        Assert.Contains("truncated in blob 'fake/weight.bin' (expected 8 bytes, found 5)", ex.Message);
    }

    [Fact]
    public void AMissingStateEntryIsReported()
    {
        string path = SaveModel(new FakeTextModel("-s", 1));
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
            StateEntry(zip).Delete();

        var ex = LoadFails<InvalidDataException>(path);

        Assert.Contains("has no entry 'TransformerChain/", ex.Message);
        Assert.Contains(LfUTransformer.StateEntryName, ex.Message);
    }

    [Fact]
    public void AModelKindWithoutARegisteredLoaderIsReported()
    {
        string path = SaveModel(new FakeTextModel("-s", 1, kind: "not-registered"));

        var ex = LoadFails<InvalidOperationException>(path);

        Assert.Contains("of kind 'not-registered', for which no loader is registered", ex.Message);
        Assert.Contains(FakeTextModel.KindName, ex.Message);
    }

    /// <summary>
    /// ML.NET calls the loader by reflection, so load errors arrive wrapped in a TargetInvocationException.
    /// </summary>
    private TException LoadFails<TException>(string path) where TException : Exception
    {
        var ex = Assert.Throws<TargetInvocationException>(() => _mlContext.Model.Load(path, out _));
        return Assert.IsType<TException>(ex.InnerException);
    }

    private static ZipArchiveEntry StateEntry(ZipArchive zip) =>
        Assert.Single(zip.Entries, e => e.FullName.EndsWith("/" + LfUTransformer.StateEntryName, StringComparison.Ordinal));

    private static void RewriteStateEntry(string zipPath, Action<byte[]> edit, Func<byte[]>? replace = null)
    {
        using var zip = ZipFile.Open(zipPath, ZipArchiveMode.Update);
        var entry = StateEntry(zip);
        byte[] state;
        using (var stream = entry.Open())
        using (var buffer = new MemoryStream())
        {
            stream.CopyTo(buffer);
            state = buffer.ToArray();
        }
        edit(state);
        byte[] written = replace?.Invoke() ?? state;
        using (var stream = entry.Open())
        {
            stream.SetLength(0);
            stream.Write(written);
        }
    }
}
