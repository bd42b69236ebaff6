using LfU.MLNet.Tokenization;

namespace LfU.MLNet.Training;

/// <summary>
/// The one fine-tuning path: the estimator, <c>lfu train</c>, the forgetting benchmark, <c>lfu pretrain</c> and the GPU
/// check all start from a <see cref="BaseModel"/> (loaded from a folder, or built in code), build their examples with
/// <see cref="BuildExamples(IEnumerable{IReadOnlyList{ChatMessage}}, Func{int, ArgumentException, Exception}?)"/> and
/// run <see cref="Train"/>. What is not a user setting comes from the base here, not from the caller: the pad token
/// from the tokenizer.
/// </summary>
/// <example>
/// <code>
/// var baseModel = BaseModel.Load("models/mini");
/// var job = new FineTuningJob(baseModel, new TrainerOptions { Epochs = 1 });
/// var result = job.Train(job.BuildExamples([("What is 2 plus 2?", "#### 4")]));
/// </code>
/// </example>
public sealed class FineTuningJob
{
    /// <summary>Prepares a fine-tuning of <paramref name="baseModel"/>'s network (trained in place).</summary>
    /// <param name="baseModel">The model to train, with its tokenizer and template.</param>
    /// <param name="options">The training settings; <see cref="TrainerOptions.PadTokenId"/> is taken from the tokenizer.</param>
    /// <param name="examples">How rows become examples (cutoff, prompt tokens learnt or not); null = the defaults.</param>
    public FineTuningJob(BaseModel baseModel, TrainerOptions options, ExampleBuilderOptions? examples = null)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(options);
        Base = baseModel;
        ExampleOptions = examples ?? new ExampleBuilderOptions();
        Options = options with { PadTokenId = baseModel.Tokenizer.PadId };
    }

    /// <summary>The model being trained.</summary>
    public BaseModel Base { get; }

    /// <summary>The settings the trainer runs with: the caller's, with the tokenizer's pad token.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The dtype training computes in: <see cref="TrainerOptions.Precision"/> on the network's device; null = the weights' dtype.</summary>
    public TorchSharp.torch.ScalarType? ComputeDType => Options.Precision is { } precision ? ComputePrecision.Resolve(precision, Base.Network.Device) : null;

    /// <summary>How rows become examples.</summary>
    public ExampleBuilderOptions ExampleOptions { get; }

    /// <summary>Receives each warning of the trainer (e.g. a setting that does nothing on this model) before training starts.</summary>
    public Action<string>? Warning { get; init; }

    /// <summary>Runs after the trainer is ready and before the first step (a last cancellation check, say).</summary>
    public Action? BeforeTraining { get; init; }

    /// <summary>
    /// Tokenizes conversations whose last message is the assistant reply to learn; rows with nothing to learn are
    /// skipped and counted in the report (by position).
    /// </summary>
    /// <param name="conversations">The rows, read lazily (so a reader may stop between rows).</param>
    /// <param name="badRow">Turns a conversation the builder rejects (its position and the builder's error) into the
    /// exception to throw; null rethrows the builder's.</param>
    public FineTuningExamples BuildExamples(IEnumerable<IReadOnlyList<ChatMessage>> conversations, Func<int, ArgumentException, Exception>? badRow = null)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        var builder = new ExampleBuilder(Base.Tokenizer, Base.Template, ExampleOptions);
        var examples = new List<TrainingExample>();
        foreach (var conversation in conversations)
        {
            TrainingExample? example;
            try { example = builder.Build(conversation); }
            catch (ArgumentException e) when (badRow is not null) { throw badRow(builder.Report.Total, e); }
            if (example is not null) examples.Add(example);
        }
        return new FineTuningExamples(examples, builder.Report);
    }

    /// <summary>Tokenizes (prompt, response) pairs: each is a user message and the assistant reply to learn.</summary>
    public FineTuningExamples BuildExamples(IEnumerable<(string Prompt, string Response)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return BuildExamples(pairs.Select(p => (IReadOnlyList<ChatMessage>)[new ChatMessage("user", p.Prompt), new ChatMessage("assistant", p.Response)]));
    }

    /// <summary>
    /// Trains the base network on <paramref name="train"/> and leaves it ready for inference (eval mode, no gradients).
    /// </summary>
    /// <param name="train">The training examples.</param>
    /// <param name="validation">Examples whose loss is computed (see <see cref="TrainerOptions.EvaluateEverySteps"/>); null = none.</param>
    /// <param name="progress">Receives every step's metrics, on the training thread.</param>
    /// <param name="resumeFrom">A checkpoint (or folder of checkpoints: the newest) to continue from, with the same data and options.</param>
    /// <param name="cancellationToken">Stops between steps (after writing a checkpoint when <see cref="TrainerOptions.CheckpointFolder"/> is set).</param>
    public FineTuningResult Train(FineTuningExamples train, FineTuningExamples? validation = null, IProgress<TrainingProgress>? progress = null,
        string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        TrainingResult result;
        using (var trainer = new Trainer(Base.Network, Options))
        {
            foreach (string warning in trainer.Warnings) Warning?.Invoke(warning);
            BeforeTraining?.Invoke();
            result = trainer.Train(train.Examples, validation?.Examples, progress, resumeFrom, cancellationToken);
        }
        // Inference must not see training-time behaviour (LoRA dropout) nor build gradients.
        foreach (var p in Base.Network.parameters()) p.requires_grad = false;
        Base.Network.eval();
        return new FineTuningResult(Base, train.Report, validation?.Report, result);
    }
}
