using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using LfU.MLNet.Training;
using Microsoft.ML;
using Xunit;

namespace LfU.MLNet.Tests.MLNet;

/// <summary>Save and load of transformers fitted on the real (tiny) model: same outputs, clear errors.</summary>
[Collection("ProcessEnvironment")]
public sealed class RealModelPersistenceTests : IDisposable
{
    readonly MLContext _ml = new(seed: 1);
    readonly TempFolder _temp = new("lfu-real-persistence-");
    string _dir => _temp.Path;
    readonly List<PromptResponseRow> _rows = TinyFineTuning.Rows(5);

    public void Dispose() => _temp.Dispose();

    /// <summary>Fits on a private copy of the tiny model (so tests may change it), saves to model.zip.</summary>
    (LfUTransformer Transformer, string ZipPath, string ModelFolder) FitAndSave(Action<LfUOptions>? configure = null)
    {
        string folder = TinyFineTuning.CopyModel(_dir);
        var options = TinyFineTuning.Options(folder);
        configure?.Invoke(options);
        var data = _ml.Data.LoadFromEnumerable(TinyFineTuning.Rows());
        var transformer = _ml.Transforms.Text.FineTuneWithLfU(options).Fit(data);
        string zip = Path.Combine(_dir, "model.zip");
        _ml.Model.Save(transformer, data.Schema, zip);
        return (transformer, zip, folder);
    }

    List<TransformedRow> Outputs(ITransformer transformer) => TransformerTestData.Run(_ml, transformer, _rows);

    static void AssertSameOutputs(List<TransformedRow> expected, List<TransformedRow> actual) =>
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));

    /// <summary>ML.NET calls the loader by reflection: errors arrive wrapped in a TargetInvocationException.</summary>
    TException LoadFails<TException>(string zip) where TException : Exception
    {
        var ex = Assert.Throws<TargetInvocationException>(() => _ml.Model.Load(zip, out _));
        return Assert.IsType<TException>(ex.InnerException);
    }

    [Fact]
    public void AFittedPipelineLoadsInANewProcessWithIdenticalGenerationsAndScores()
    {
        var (transformer, zip, _) = FitAndSave();
        List<TransformedRow> expected;
        using (transformer) expected = Outputs(transformer);
        Assert.All(expected, r => Assert.True(double.IsFinite(r.ScoreMean) && r.ScoreTotal < 0));
        string rowsPath = Path.Combine(_dir, "rows.json");
        File.WriteAllText(rowsPath, JsonSerializer.Serialize(_rows));

        string stdout = RoundTripHost.Run(RoundTripHost.Verb, zip, rowsPath);

        using var result = JsonDocument.Parse(stdout);
        Assert.Equal(typeof(LfUTransformer).FullName, result.RootElement.GetProperty("Type").GetString());
        AssertSameOutputs(expected, result.RootElement.GetProperty("Outputs").Deserialize<List<TransformedRow>>()!);
    }

    [Fact]
    public void LoadingAgainstAModifiedBaseModelIsAnErrorNamingIt()
    {
        var (transformer, zip, folder) = FitAndSave();
        transformer.Dispose();
        string weights = Path.Combine(folder, "model.safetensors");
        byte[] bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0x01; // one bit of the last weight
        File.WriteAllBytes(weights, bytes);

        var ex = LoadFails<InvalidDataException>(zip);

        Assert.Contains($"The base model at '{folder}' changed since this LfU model was saved (model.safetensors changed)", ex.Message);
        Assert.Contains("LfUOptions.EmbedWeightsInSavedModel", ex.Message);
    }

    /// <summary>Every base file that changes answers is covered by the saved fingerprint, not just the weights.</summary>
    [Theory]
    [InlineData("config.json", "rope_theta")]
    [InlineData("config.json", "rms_norm_eps")]
    [InlineData("tokenizer.json", "merges")]
    [InlineData("tokenizer_config.json", "chat_template")]
    [InlineData("generation_config.json", "added")]
    public void LoadingAfterAnAnswerChangingBaseFileChangedIsAnErrorNamingTheFile(string file, string change)
    {
        var (transformer, zip, folder) = FitAndSave();
        transformer.Dispose();
        string path = Path.Combine(folder, file);
        var json = File.Exists(path) ? System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject() : new System.Text.Json.Nodes.JsonObject();
        switch (change)
        {
            case "rope_theta": json["rope_theta"] = 500000.0; break;
            case "rms_norm_eps": json["rms_norm_eps"] = 1e-3; break;
            case "merges": json["model"]!["merges"]!.AsArray().RemoveAt(0); break;
            case "chat_template": json["chat_template"] = "{{ messages[0]['content'] }}"; break;
            default: json["eos_token_id"] = 5; break;
        }
        File.WriteAllText(path, json.ToJsonString());

        var ex = LoadFails<InvalidDataException>(zip);

        Assert.Contains($"The base model at '{folder}' changed since this LfU model was saved ({file} {(change == "added" ? "was added" : "changed")})", ex.Message);
    }

    [Fact]
    public void LoadingWithoutTheBaseModelIsAnErrorNamingIt()
    {
        var (transformer, zip, folder) = FitAndSave();
        transformer.Dispose();
        Directory.Delete(folder, recursive: true);

        var ex = LoadFails<DirectoryNotFoundException>(zip);

        Assert.Contains($"needs its base model at '{folder}', which does not exist", ex.Message);
    }

    [Fact]
    public void AZipMovedTogetherWithItsBaseFindsTheBaseBesideIt()
    {
        var (transformer, zip, folder) = FitAndSave();
        var expected = Outputs(transformer);
        transformer.Dispose();
        string moved = Directory.CreateDirectory(Path.Combine(_dir, "moved")).FullName;
        Directory.Move(folder, Path.Combine(moved, Path.GetFileName(folder)));
        File.Move(zip, Path.Combine(moved, "model.zip"));

        using var loaded = (LfUTransformer)_ml.Model.Load(Path.Combine(moved, "model.zip"), out _);

        Assert.Equal(Path.Combine(moved, Path.GetFileName(folder)), loaded.Model!.BaseModelFolder);
        AssertSameOutputs(expected, Outputs(loaded));
    }

    [Fact]
    public void AZipWhoseBaseMovedElsewhereLoadsWithTheBaseFolderGivenAndStillChecksIt()
    {
        var (transformer, zip, folder) = FitAndSave();
        var expected = Outputs(transformer);
        transformer.Dispose();
        string newBase = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName, "base");
        string newZip = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "models")).FullName, "lfu.zip");
        Directory.Move(folder, newBase);
        File.Move(zip, newZip);

        // Not found where it was saved: the message says how to point at the new place.
        var missing = LoadFails<DirectoryNotFoundException>(newZip);
        Assert.Contains($"needs its base model at '{folder}', which does not exist", missing.Message);
        Assert.Contains("LoadWithBaseModel", missing.Message);
        Assert.Contains("LFU_BASE_MODEL_DIR", missing.Message);

        using (var loaded = (LfUTransformer)_ml.Model.LoadWithBaseModel(newZip, newBase, out var schema))
        {
            Assert.NotNull(schema.GetColumnOrNull("Prompt"));
            AssertSameOutputs(expected, Outputs(loaded));
        }

        Environment.SetEnvironmentVariable("LFU_BASE_MODEL_DIR", newBase);
        try
        {
            using var loaded = (LfUTransformer)_ml.Model.Load(newZip, out _);
            AssertSameOutputs(expected, Outputs(loaded));
        }
        finally { Environment.SetEnvironmentVariable("LFU_BASE_MODEL_DIR", null); }

        // Another base (here: the same weights with one more answer-changing file) is refused, naming what differs.
        File.WriteAllText(Path.Combine(newBase, "special_tokens_map.json"), "{}");
        var other = Assert.Throws<TargetInvocationException>(() => _ml.Model.LoadWithBaseModel(newZip, newBase, out _)).InnerException;
        Assert.IsType<InvalidDataException>(other);
        Assert.Contains($"The base model at '{newBase}' changed since this LfU model was saved (special_tokens_map.json was added)", other!.Message);
        Assert.IsType<DirectoryNotFoundException>(
            Assert.Throws<TargetInvocationException>(() => _ml.Model.LoadWithBaseModel(newZip, Path.Combine(_dir, "nowhere"), out _)).InnerException);
    }

    [Fact]
    public void WithEmbeddedWeightsTheModelLoadsWithoutTheBaseFolder()
    {
        var (transformer, zip, folder) = FitAndSave(o => o.EmbedWeightsInSavedModel = true);
        List<TransformedRow> expected;
        using (transformer) expected = Outputs(transformer);
        Directory.Delete(folder, recursive: true);

        using var loaded = (LfUTransformer)_ml.Model.Load(zip, out _);

        var actual = Outputs(loaded);
        Assert.Equal(expected.Select(r => r.Generated), actual.Select(r => r.Generated));
        // Merging the adapter into the weights changes the rounding, not the model.
        Assert.All(expected.Zip(actual), p => Assert.Equal(p.First.ScoreTotal, p.Second.ScoreTotal, 1e-4));

        // Saving the loaded model again (its base folder is gone) gives a zip that loads too.
        string again = Path.Combine(_dir, "again.zip");
        _ml.Model.Save(loaded, _ml.Data.LoadFromEnumerable(_rows).Schema, again);
        using var reloaded = (LfUTransformer)_ml.Model.Load(again, out _);
        AssertSameOutputs(actual, Outputs(reloaded));
    }

    [Fact]
    public void AFullyFineTunedModelSavesAndReloads()
    {
        var (transformer, zip, _) = FitAndSave(o => o.Training = o.Training with { FineTuning = FineTuning.Full, LearningRate = 1e-3, MaxSteps = 2 });
        List<TransformedRow> expected;
        using (transformer)
        {
            Assert.Equal(FineTuning.Full, transformer.Model!.Mode);
            expected = Outputs(transformer);
        }

        using var loaded = (LfUTransformer)_ml.Model.Load(zip, out _);

        Assert.Equal(FineTuning.Full, loaded.Model!.Mode);
        AssertSameOutputs(expected, Outputs(loaded));
    }

    [Fact]
    public void ATamperedAdapterInARealModelZipIsAnErrorNamingTheBlob()
    {
        var (transformer, zip, _) = FitAndSave();
        transformer.Dispose();
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Update))
        {
            var entry = Assert.Single(archive.Entries, e => e.FullName.EndsWith("/" + LfUTransformer.StateEntryName, StringComparison.Ordinal));
            byte[] state;
            using (var stream = entry.Open()) using (var buffer = new MemoryStream()) { stream.CopyTo(buffer); state = buffer.ToArray(); }
            state[^10] ^= 0x40; // inside the last blob
            using (var stream = entry.Open()) { stream.SetLength(0); stream.Write(state); }
        }

        var ex = LoadFails<InvalidDataException>(zip);

        Assert.Matches("blob '[a-z]+/[a-z_.]+' fails its SHA-256 check", ex.Message);
        Assert.Contains("Save the model again", ex.Message);
    }
}
