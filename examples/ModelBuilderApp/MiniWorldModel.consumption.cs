// Shaped like Model Builder's <Name>.consumption.cs: input/output classes, the model path and a static Predict.
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ModelBuilderApp;

public partial class MiniWorldModel
{
    /// <summary>What the model is given: the instruction, in the transformer's prompt column (LfUOptions.PromptColumnName).</summary>
    /// <remarks>No response column: with one, the transformer would also score it, which a prediction does not need.</remarks>
    public class ModelInput
    {
        [ColumnName("Prompt")]
        public string Prompt { get; set; } = "";
    }

    /// <summary>What the model adds: the generated text (LfUOptions.GeneratedColumnName, default "Generated").</summary>
    public class ModelOutput
    {
        [ColumnName("Generated")]
        public string Generated { get; set; } = "";
    }

    static string _mlNetModelPath = Path.GetFullPath(RepositoryPaths.Root is { } root
        ? Path.Combine(root, "artifacts", "model-builder-app", "MiniWorldModel.mlnet")
        : "MiniWorldModel.mlnet");

    /// <summary>
    /// The saved model zip <see cref="Predict"/> loads (Model Builder's MLNetModelPath): artifacts/model-builder-app/MiniWorldModel.mlnet
    /// in this repository, else MiniWorldModel.mlnet in the working directory. Set it before the first prediction.
    /// </summary>
    public static string MLNetModelPath
    {
        get => _mlNetModelPath;
        set
        {
            if (PredictEngine.IsValueCreated)
                throw new InvalidOperationException($"MLNetModelPath cannot change after the first prediction: the model of '{_mlNetModelPath}' is already loaded.");
            _mlNetModelPath = Path.GetFullPath(value ?? throw new ArgumentNullException(nameof(value)));
        }
    }

    /// <summary>Created on first use. A PredictionEngine is not thread-safe: call <see cref="Predict"/> from one thread at a
    /// time (the web endpoint uses a pool of engines instead, see PooledPredictor).</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);

    /// <summary>Generates the answer to one prompt with the model at <see cref="MLNetModelPath"/>.</summary>
    public static ModelOutput Predict(ModelInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (string.IsNullOrWhiteSpace(input.Prompt))
            throw new ArgumentException("ModelInput.Prompt must contain text to answer.", nameof(input));
        return PredictEngine.Value.Predict(input);
    }

    /// <summary>Loads a saved model zip; the caller disposes the transformer (it holds the language model's weights).</summary>
    public static ITransformer LoadModel(MLContext mlContext, string modelPath)
    {
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"No trained model at '{modelPath}'. Train one first: dotnet run --project examples/ModelBuilderApp -c Release -- train", modelPath);
        return mlContext.Model.Load(modelPath, out _);
    }

    static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        // The transformer lives as long as the process, like the engine that uses it.
        ITransformer mlModel = LoadModel(mlContext, MLNetModelPath);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }
}
