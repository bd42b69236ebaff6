using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace LfU.MLNet.Tests.MLNet;

/// <summary>
/// Generation, scoring and export of the real model (<see cref="LfUModel"/>), directly and through the transformer.
/// The untrained tiny model is enough for decoding behaviour; exports use a fitted one, so the adapter is not zero.
/// </summary>
public sealed class LfUModelTests : IDisposable
{
    readonly MLContext _ml = new(seed: 1);
    readonly TempFolder _temp = new("lfu-model-");
    string _dir => _temp.Path;
    readonly List<string> _prompts = ["What is 2 plus 2?", "Hi", "A longer prompt, so that the batch needs left padding for the others."];

    public void Dispose() => _temp.Dispose();

    static GenerationSettings Sampling(int? seed) => new() { MaxNewTokens = 8, Temperature = 1.5, TopP = 0.95, TopK = 50, Seed = seed };

    [Fact]
    public void SamplingWithASeedIsReproducibleAndAnotherSeedGivesOtherText()
    {
        using var model = LfUModel.Load(TinyTextModel.Path);

        var first = model.Generate(_prompts, Sampling(5));
        var again = model.Generate(_prompts, Sampling(5));
        var other = model.Generate(_prompts, Sampling(6));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.NotEqual(first, model.Generate(_prompts, new GenerationSettings { MaxNewTokens = 8 })); // not greedy
    }

    [Fact]
    public void MaxNewTokensBoundsTheOutputAndGreedyOutputsExtendEachOther()
    {
        using var model = LfUModel.Load(TinyTextModel.Path);

        string shorter = model.Generate(_prompts[0], new GenerationSettings { MaxNewTokens = 3 });
        string longer = model.Generate(_prompts[0], new GenerationSettings { MaxNewTokens = 8 });

        Assert.StartsWith(shorter, longer);
        Assert.True(shorter.Length < longer.Length, $"'{shorter}' should be shorter than '{longer}'");
    }

    [Fact]
    public void AStopStringCutsTheOutputBeforeIt()
    {
        using var model = LfUModel.Load(TinyTextModel.Path);
        string full = model.Generate(_prompts[0], new GenerationSettings { MaxNewTokens = 8 });
        string stop = full[^2..];
        int at = full.IndexOf(stop, StringComparison.Ordinal);
        Assert.True(at > 0, $"stop '{stop}' should occur after the start of '{full}'");

        string cut = model.Generate(_prompts[0], new GenerationSettings { MaxNewTokens = 8, StopStrings = ["\u0001never", stop] });

        Assert.Equal(full[..at], cut);
    }

    [Fact]
    public void BatchedAndOneAtATimeGreedyGenerationAgreeInTheTransformerAndThePredictionEngine()
    {
        var settings = new GenerationSettings { MaxNewTokens = 6 };
        using var transformer = new LfUTransformer(_ml, LfUModel.Load(TinyTextModel.Path), new LfUColumnNames(), settings, batchSize: 3);
        var rows = _prompts.Select(p => new PromptResponseRow { Prompt = p, Response = "#### 4" }).ToList();

        var batched = TransformerTestData.Run(_ml, transformer, rows);
        var engine = _ml.Model.CreatePredictionEngine<PromptResponseRow, TransformedRow>(transformer);
        var single = rows.Select(engine.Predict).ToList();

        Assert.Equal(batched.Select(r => r.Generated), single.Select(r => r.Generated));
        Assert.All(batched.Zip(single), p => Assert.Equal(p.First.ScoreTotal, p.Second.ScoreTotal, 4));
        Assert.Equal(batched.Select(r => r.Generated), transformer.Model!.Generate(_prompts, settings, batchSize: 1));
    }

    [Fact]
    public void GenerateRejectsABatchSizeBelowOne()
    {
        using var model = LfUModel.Load(TinyTextModel.Path);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate(_prompts, batchSize: 0));
        Assert.Equal("batchSize", ex.ParamName);
    }

    [Fact]
    public void TheExportedAdapterAndMergedCheckpointLoadBackWithTheSameGenerationsAndScores()
    {
        var options = TinyFineTuning.Options();
        options.Training = options.Training with { MaxSteps = 2 };
        using var fitted = _ml.Transforms.Text.FineTuneWithLfU(options).Fit(_ml.Data.LoadFromEnumerable(TinyFineTuning.Rows()));
        var model = fitted.Model!;
        var settings = new GenerationSettings { MaxNewTokens = 6 };
        var responses = _prompts.Select(_ => "#### 4").ToList();
        var expected = model.Generate(_prompts, settings);
        var expectedScores = model.Score(_prompts, responses);
        using (var untrained = LfUModel.Load(TinyTextModel.Path))
            Assert.NotEqual(expectedScores, untrained.Score(_prompts, responses)); // the adapter matters

        string adapterFolder = Path.Combine(_dir, "adapter");
        model.SaveAdapter(adapterFolder);
        using (var withAdapter = LfUModel.Load(TinyTextModel.Path, adapterFolder))
        {
            Assert.Equal(expected, withAdapter.Generate(_prompts, settings));
            Assert.Equal(expectedScores, withAdapter.Score(_prompts, responses));
        }

        string mergedFolder = Path.Combine(_dir, "merged");
        model.SaveMerged(mergedFolder);
        Assert.True(File.Exists(Path.Combine(mergedFolder, "tokenizer.json")));
        using (var merged = LfUModel.Load(mergedFolder))
        {
            Assert.Null(merged.Lora);
            Assert.Equal(expected, merged.Generate(_prompts, settings));
            Assert.All(expectedScores.Zip(merged.Score(_prompts, responses)), p => Assert.Equal(p.First.Total, p.Second.Total, 4));
        }
        Assert.Equal(expected, model.Generate(_prompts, settings)); // merging for the export left the adapter as it was
        Assert.Equal(expectedScores, model.Score(_prompts, responses)); // ... and the base weights bit for bit
    }
}
