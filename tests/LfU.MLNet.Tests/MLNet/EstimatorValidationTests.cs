using System.Reflection;
using System.Text.Json.Nodes;
using LfU.MLNet.Adapters;
using LfU.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Xunit;

namespace LfU.MLNet.Tests.MLNet;

/// <summary>Every way the estimator's input can be wrong fails with a message that says what and where, before training.</summary>
public sealed class EstimatorValidationTests : IDisposable
{
    readonly MLContext _ml = new(seed: 1);
    readonly TempFolder _temp = new("lfu-estimator-validation-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    sealed class PromptOnlyRow { public string Prompt { get; set; } = ""; }
    sealed class ResponseOnlyRow { public string Response { get; set; } = ""; }
    sealed class NumericPromptRow { public float Prompt { get; set; } public string Response { get; set; } = ""; }
    sealed class NumericResponseRow { public string Prompt { get; set; } = ""; public int Response { get; set; } }
    sealed class ChatRow { public string Prompt { get; set; } = ""; public string Messages { get; set; } = ""; }
    sealed class NumericChatRow { public string Prompt { get; set; } = ""; public double Messages { get; set; } }

    /// <summary>SchemaShape.Create is internal to ML.NET (pipelines call it); tests reach it by reflection.</summary>
    static SchemaShape ShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(DataViewSchema)])!
            .Invoke(null, [schema])!;

    LfUEstimator Estimator(LfUOptions? options = null) => new(_ml, options ?? TinyFineTuning.Options());

    /// <summary>Both GetOutputSchema and Fit reject the schema with the same message.</summary>
    string SchemaError<TRow>(IEnumerable<TRow> rows, LfUOptions? options = null) where TRow : class
    {
        var data = _ml.Data.LoadFromEnumerable(rows);
        var estimator = Estimator(options);
        var fromSchema = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(ShapeOf(data.Schema)));
        var fromFit = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.Equal(fromSchema.Message, fromFit.Message);
        return fromSchema.Message;
    }

    [Fact]
    public void MissingPromptColumnIsNamedWithTheColumnsThatExist()
    {
        string message = SchemaError(new[] { new ResponseOnlyRow() });
        Assert.Contains("The prompt column 'Prompt' was not found in the input; expected a text (String) column. Input columns: Response.", message);
    }

    [Fact]
    public void PromptColumnThatIsNotTextIsNamedWithItsType()
    {
        string message = SchemaError(new[] { new NumericPromptRow() });
        Assert.Contains("prompt column 'Prompt' must be a scalar text (String) column, but it is Single", message);
    }

    [Fact]
    public void MissingResponseColumnIsNamed()
    {
        string message = SchemaError(new[] { new PromptOnlyRow() });
        Assert.Contains("The response column 'Response' was not found in the input", message);
    }

    [Fact]
    public void ResponseColumnOfTheWrongTypeIsNamedWithItsType()
    {
        string message = SchemaError(new[] { new NumericResponseRow() });
        Assert.Contains("response column 'Response' must be a scalar text (String) column, but it is Int32", message);
    }

    [Fact]
    public void MessagesColumnReplacesTheResponseColumnAndMustBeText()
    {
        var chat = TinyFineTuning.Options();
        chat.MessagesColumnName = "Messages";
        var shape = Estimator(chat).GetOutputSchema(ShapeOf(_ml.Data.LoadFromEnumerable(new[] { new ChatRow() }).Schema));
        Assert.Equal(["Prompt", "Messages", "Generated"], shape.Select(c => c.Name)); // no response column to score

        Assert.Contains("messages column 'Messages' must be a scalar text (String) column, but it is Double",
            SchemaError(new[] { new NumericChatRow() }, chat));
        chat.MessagesColumnName = "Chat";
        Assert.Contains("messages column 'Chat' was not found", SchemaError(new[] { new ChatRow() }, chat));
    }

    [Fact]
    public void OutputSchemaAddsGeneratedAndScoreColumns()
    {
        var shape = Estimator().GetOutputSchema(ShapeOf(_ml.Data.LoadFromEnumerable(TinyFineTuning.Rows(1)).Schema));
        Assert.Equal(["Prompt", "Response", "Generated", "ScoreMean", "ScoreTotal"], shape.Select(c => c.Name));
    }

    [Fact]
    public void EmptyDataIsAnErrorBeforeTraining()
    {
        var progress = new List<TrainingProgress>();
        var options = TinyFineTuning.Options();
        options.Progress = new SynchronousProgress(progress.Add);
        var ex = Assert.Throws<InvalidOperationException>(() => Estimator(options).Fit(_ml.Data.LoadFromEnumerable(new List<PromptResponseRow>())));
        Assert.Contains("The training data has no rows", ex.Message);
        Assert.Empty(progress);
    }

    [Fact]
    public void AllEmptyResponsesAreAnErrorBeforeTrainingNamingRowsAndColumn()
    {
        var progress = new List<TrainingProgress>();
        var options = TinyFineTuning.Options();
        options.Progress = new SynchronousProgress(progress.Add);
        var rows = Enumerable.Range(0, 3).Select(i => new PromptResponseRow { Prompt = $"q{i}", Response = "" });
        var ex = Assert.Throws<InvalidOperationException>(() => Estimator(options).Fit(_ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("None of the 3 rows has anything to learn (row 0: empty response; row 1: empty response; row 2: empty response)", ex.Message);
        Assert.Contains("check the response column 'Response'", ex.Message);
        Assert.Empty(progress);
    }

    [Fact]
    public void MissingModelFolderIsAnErrorNamingIt()
    {
        string missing = Path.Combine(_dir, "no-such-model");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => Estimator(TinyFineTuning.Options(missing)).Fit(_ml.Data.LoadFromEnumerable(TinyFineTuning.Rows(2))));
        Assert.Contains($"Model folder '{missing}' does not exist", ex.Message);
    }

    [Fact]
    public void ATokenizerLargerThanTheModelsVocabularyIsAnError()
    {
        string model = TinyFineTuning.CopyModel(_dir);
        string configPath = Path.Combine(model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["vocab_size"] = 512;
        File.WriteAllText(configPath, config.ToJsonString());

        var ex = Assert.Throws<InvalidDataException>(() => Estimator(TinyFineTuning.Options(model)).Fit(_ml.Data.LoadFromEnumerable(TinyFineTuning.Rows(2))));
        Assert.Contains($"The tokenizer in '{model}' has", ex.Message);
        Assert.Contains("but the model's vocab_size is 512: they do not belong together", ex.Message);
    }

    public static TheoryData<string, Action<LfUOptions>, string> InvalidOptions => new()
    {
        { "LearningRate", o => o.Training = o.Training with { LearningRate = -1e-4 }, "LearningRate must be a positive number" },
        { "BatchSize", o => o.Training = o.Training with { BatchSize = 0 }, "BatchSize must be at least 1" },
        { "Rank", o => o.Training = o.Training with { Lora = new LoraConfig { Rank = 0 } }, "LoRA rank must be a positive integer" },
        { "Template", o => o.Template = "no-such-template", "LfUOptions.Template: Unknown prompt template 'no-such-template'" },
        { "DType", o => o.DType = "int8", "LfUOptions.DType: Unsupported dtype 'int8'" },
        { "CutoffLength", o => o.CutoffLength = 1, "CutoffLength must be at least 2 tokens" },
        { "ModelFolder", o => o.ModelFolder = " ", "LfUOptions.ModelFolder is required" },
        { "MaxNewTokens", o => o.Generation = new GenerationSettings { MaxNewTokens = 0 }, "MaxNewTokens must be at least 1" },
        { "WarmupRatio", o => o.Training = o.Training with { WarmupRatio = 2 }, "WarmupRatio must be in [0, 1]" },
        { "Lambda", o => o.Training = o.Training with { Objective = new LfU.MLNet.Objectives.LfULoraObjective { Lambda = -1 } }, "consistency weight λ must be non-negative" },
        { "Generation", o => o.Generation = null!, "LfUOptions.Generation must not be null" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidOptionsAreRejectedWhenTheEstimatorIsCreatedNamingTheOption(string option, Action<LfUOptions> spoil, string message)
    {
        var options = TinyFineTuning.Options();
        spoil(options);
        var ex = Assert.ThrowsAny<ArgumentException>(() => _ml.Transforms.Text.FineTuneWithLfU(options));
        Assert.Equal(option, ex.ParamName);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void OptionsChangedAfterConstructionAreCheckedAgainByFit()
    {
        var options = TinyFineTuning.Options();
        var estimator = Estimator(options);
        options.Training = options.Training with { BatchSize = -3 };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(_ml.Data.LoadFromEnumerable(TinyFineTuning.Rows(2))));
        Assert.Equal("BatchSize", ex.ParamName);
    }

    [Fact]
    public void GpuRequestedWithoutCUDAFallsBackToTheCPUWithAWarningWhenAllowed()
    {
        var ml = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = true };
        var log = TinyFineTuning.CaptureLog(ml);
        var options = TinyFineTuning.Options();
        options.Training = options.Training with { MaxSteps = 1 };
        using var model = ml.Transforms.Text.FineTuneWithLfU(options).Fit(ml.Data.LoadFromEnumerable(TinyFineTuning.Rows(4)));

        Assert.Single(model.TrainingResult!.History);
        Assert.Contains(log, m => m.Kind == ChannelMessageKind.Warning
            && m.Message.Contains("MLContext.GpuDeviceId is 0 but CUDA is not available") && m.Message.Contains("training on the CPU"));
        Assert.Contains(log, m => m.Message.Contains("examples, CPU Float32"));
    }

    [Fact]
    public void GpuRequestedWithoutCUDAIsAnErrorWithoutFallback()
    {
        var ml = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = false };
        var ex = Assert.Throws<InvalidOperationException>(() =>
            ml.Transforms.Text.FineTuneWithLfU(TinyFineTuning.Options()).Fit(ml.Data.LoadFromEnumerable(TinyFineTuning.Rows(4))));
        Assert.Contains("MLContext.GpuDeviceId is 0 but CUDA is not available", ex.Message);
        Assert.Contains("MLContext.FallbackToCpu = true", ex.Message);
        Assert.Contains("TorchSharp-cuda-", ex.Message); // what to reference to get CUDA
    }
}
