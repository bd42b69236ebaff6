using LfU.MLNet.Generation;
using LfU.MLNet.Objectives;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;

namespace LfU.MLNet;

/// <summary>
/// Options of <see cref="LfUEstimator"/>. Defaults are the LfU paper's: LoRA r = 8, alpha = 16 on every linear layer,
/// LfU with α = 0.1 and λ = 5, learning rate 1e-4, cosine schedule with 10 % warm-up, 3 epochs, alpaca template.
/// </summary>
public sealed class LfUOptions
{
    /// <summary>Hugging Face model folder: config.json, *.safetensors, tokenizer.json (required).</summary>
    public string ModelFolder { get; set; } = "";

    /// <summary>Prompt template: alpaca, llama3, chatml, or a custom string containing {prompt} (and optionally {system}).
    /// Null picks it from the tokenizer's chat template, else alpaca (the template the paper trains with).</summary>
    public string? Template { get; set; }

    /// <summary>Input text column with the instructions. Default "Prompt".</summary>
    public string PromptColumnName { get; set; } = "Prompt";
    /// <summary>Input text column with the responses to learn (training) or to score. Default "Response".</summary>
    public string ResponseColumnName { get; set; } = "Response";
    /// <summary>
    /// Optional input text column holding a JSON chat (<c>[{"role":"system","content":"..."}, {"role":"user","content":"..."},
    /// {"role":"assistant","content":"..."}]</c>) whose last message, from the assistant, is learnt given the earlier ones
    /// rendered with <see cref="Template"/>. When set, training reads this column instead of the prompt/response columns.
    /// The fitted transformer still generates from <see cref="PromptColumnName"/> (one user message per row), so the
    /// training data must also have that text column (for example the last user message) for the pipeline's schema
    /// check. Null (the default) trains on the prompt/response columns.
    /// </summary>
    public string? MessagesColumnName { get; set; }
    /// <summary>Output text column with the generations. Default "Generated".</summary>
    public string GeneratedColumnName { get; set; } = "Generated";
    /// <summary>Output column with the mean log-probability of the response. Default "ScoreMean".</summary>
    public string ScoreMeanColumnName { get; set; } = "ScoreMean";
    /// <summary>Output column with the total log-probability of the response. Default "ScoreTotal".</summary>
    public string ScoreTotalColumnName { get; set; } = "ScoreTotal";

    /// <summary>
    /// The training settings, shared with the trainer: the objective (<see cref="LfULoraObjective"/>, the paper's α = 0.1,
    /// λ = 5, by default; any <see cref="TrainingObjective"/>, e.g. <c>new LfURepsObjective { Alpha = 1, Lambda = 5 }</c>, or
    /// one by name from <see cref="ObjectiveRegistry"/>), LoRA (r = 8, alpha = 16, all linear layers) or full fine-tuning,
    /// learning rate 1e-4 with a cosine schedule and 10 % warm-up, 3 epochs of batches of 4, gradient clipping at 1.0,
    /// seed 42, checkpoints. Set it as <c>Training = new() { Epochs = 3, LearningRate = 3e-3 }</c>.
    /// The pad token comes from the model's tokenizer; <c>Precision = "auto"</c> computes in bfloat16 where the device runs it natively.
    /// </summary>
    public TrainerOptions Training { get; set; } = new();

    /// <summary>Longest example in tokens; longer ones are cut (prompt first) and counted. Default 512.</summary>
    public int CutoffLength { get; set; } = ExampleBuilderOptions.DefaultCutoffLength;
    /// <summary>Also learn the prompt tokens. Default false (response only).</summary>
    public bool TrainOnPrompt { get; set; }

    /// <summary>Where to run. Default <see cref="ComputeDevice.Auto"/> (honours <c>MLContext.GpuDeviceId</c> and <c>FallbackToCpu</c>).</summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    /// <summary>Weight dtype: float32, bfloat16, float16, float64; null (the default) = float32 on CPU, bfloat16 on CUDA.</summary>
    public string? DType { get; set; }

    /// <summary>Attention kernel: <see cref="Model.AttentionImplementation.Sdpa"/> (the default; fused, best on CUDA) or
    /// <see cref="Model.AttentionImplementation.Eager"/> (explicit matmuls; faster on a CPU for short sequences).</summary>
    public Model.AttentionImplementation Attention { get; set; } = Model.AttentionImplementation.Sdpa;

    /// <summary>Resume training from this checkpoint (or folder of checkpoints: the newest), with the same data and options;
    /// null (the default) starts afresh.</summary>
    public string? ResumeFrom { get; set; }

    /// <summary>Receives every training step's metrics (loss, consistency, learning rate, tokens/s, ETA), on the training
    /// thread; null (the default) = none. Progress is also logged to <c>MLContext.Log</c>.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }
    /// <summary>Cancels <c>Fit</c> between steps with an <see cref="OperationCanceledException"/>; when
    /// <see cref="TrainerOptions.CheckpointFolder"/> (in <see cref="Training"/>) is set, a checkpoint of the last finished step is written first, to continue with
    /// <see cref="ResumeFrom"/>. Default: none.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>How the fitted transformer generates (greedy, 128 new tokens by default); saved with the model.</summary>
    public GenerationSettings Generation { get; set; } = new();
    /// <summary>Rows per generation batch in <c>Transform</c>. Default 8 (<see cref="TextGenerator.DefaultBatchSize"/>).</summary>
    public int InferenceBatchSize { get; set; } = TextGenerator.DefaultBatchSize;
    /// <summary>Embed the merged weights in saved model zips, so they load without the base model folder. Default false.</summary>
    public bool EmbedWeightsInSavedModel { get; set; }

    /// <summary>How rows become training examples.</summary>
    internal ExampleBuilderOptions Examples => new() { CutoffLength = CutoffLength, TrainOnPrompt = TrainOnPrompt };

    internal LfUColumnNames Columns => new()
    {
        Prompt = PromptColumnName, Response = ResponseColumnName, Generated = GeneratedColumnName,
        ScoreMean = ScoreMeanColumnName, ScoreTotal = ScoreTotalColumnName,
    };
}
