// Shaped like Model Builder's <Name>.training.cs: BuildPipeline, Train (load, fit, save) and the retraining data path.
using LfU.MLNet;
using LfU.MLNet.Model;
using Microsoft.ML;

namespace ModelBuilderApp;

public partial class MiniWorldModel
{
    /// <summary>Model Builder's RetrainFilePath: the mini-world task "X buys A items at B dollars each ... What is the change?".</summary>
    public static string RetrainFilePath => RepositoryPaths.InRepository(Path.Combine("data", "mini-world", "finetune_train.jsonl"), "pass the training data path");

    /// <summary>The pretrained model that is fine-tuned: the small Llama bundled with this repository.</summary>
    public static string BaseModelFolder => RepositoryPaths.InRepository(Path.Combine("data", "models", "mini-world"), "pass the base model folder");

    /// <summary>Optimizer steps of a default training run: a demonstration in seconds, not a model that has learnt the task
    /// (examples/QuickStart trains ~10 epochs for that).</summary>
    public const int DefaultMaxSteps = 20;

    /// <summary>How the saved model generates: greedy (deterministic), short, stopping where the alpaca template's next section would start.</summary>
    public static GenerationSettings Generation => new() { MaxNewTokens = 48, StopStrings = ["\n### "] };

    /// <summary>Trains on <paramref name="trainDataPath"/> for <paramref name="maxSteps"/> steps and saves the model zip to <paramref name="outputModelPath"/>.</summary>
    public static void Train(string outputModelPath, string? trainDataPath = null, int maxSteps = DefaultMaxSteps, string? baseModelFolder = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputModelPath);
        var mlContext = new MLContext(seed: 0);
        IDataView data = mlContext.Data.LoadFromEnumerable(TrainingData.Read(trainDataPath ?? RetrainFilePath));
        using var model = (LfUTransformer)RetrainModel(mlContext, data, maxSteps, baseModelFolder);
        SaveModel(mlContext, model, data, outputModelPath);
    }

    /// <summary>Fits the pipeline of <see cref="BuildPipeline"/>; the caller disposes the result.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, int maxSteps = DefaultMaxSteps, string? baseModelFolder = null) =>
        BuildPipeline(mlContext, maxSteps, baseModelFolder).Fit(trainData);

    /// <summary>LoRA fine-tuning with LfU (the paper's objective) on the "Prompt"/"Response" columns; adds "Generated".</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, int maxSteps = DefaultMaxSteps, string? baseModelFolder = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        string folder = Path.GetFullPath(baseModelFolder ?? BaseModelFolder);
        if (!File.Exists(Path.Combine(folder, "config.json")))
            throw new DirectoryNotFoundException($"No model in '{folder}' (config.json missing); pass a Hugging Face model folder (config.json, *.safetensors, tokenizer.json).");
        return mlContext.Transforms.Text.FineTuneWithLfU(new LfUOptions
        {
            ModelFolder = folder,
            Template = "alpaca",
            Training = new()
            {
                MaxSteps = maxSteps,
                BatchSize = 4,
                LearningRate = 3e-3, // the mini model's rate (examples/QuickStart); the paper's 1e-4 barely moves it in a few steps
            },
            Attention = AttentionImplementation.Eager, // faster than SDPA on a CPU for short sequences
            Generation = Generation,
        });
    }

    /// <summary>Saves the model zip; the base model is referenced (by absolute and relative path), not copied.</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath)
    {
        string fullPath = Path.GetFullPath(modelSavePath);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        mlContext.Model.Save(model, data.Schema, fullPath);
    }
}
