namespace LfU.MLNet.Training;

/// <summary>What one optimizer step did. Losses are token-weighted means over the step's micro-batches.</summary>
/// <param name="Step">1-based optimizer step.</param>
/// <param name="Epoch">Fractional epoch reached after this step.</param>
/// <param name="Sft">Mean cross-entropy over response tokens.</param>
/// <param name="Consistency">LfU's consistency loss (before λ), when the objective has one.</param>
/// <param name="Penalty">The L1/L2 penalty (after its weight), when the objective has one.</param>
/// <param name="Total">The loss whose gradient was taken.</param>
/// <param name="LearningRate">The learning rate applied in this step.</param>
/// <param name="GradNorm">Global L2 norm of the gradient before clipping.</param>
/// <param name="Tokens">Real (non-padding) input tokens processed.</param>
/// <param name="Seconds">Wall-clock time of the step.</param>
public sealed record StepMetrics(int Step, double Epoch, double Sft, double? Consistency, double? Penalty, double Total,
    double LearningRate, double GradNorm, long Tokens, double Seconds)
{
    /// <summary>LfU's ascent step α this step used (calibrated or fixed); null for other objectives.</summary>
    public double? Alpha { get; init; }
    /// <summary>LfU's consistency weight λ this step used (calibrated or fixed); null for other objectives.</summary>
    public double? Lambda { get; init; }
    /// <summary>How far LfU's perturbation moved the compared hidden states, relatively (see <see cref="Objectives.StepLosses.RelativeChange"/>).</summary>
    public double? RelativeChange { get; init; }
    /// <summary>λ·‖∇consistency‖ / ‖∇SFT‖ over the trainable weights, token-weighted over the micro-batches.</summary>
    public double? GradientRatio { get; init; }
}

/// <summary>An evaluation on the validation data.</summary>
/// <param name="Step">The optimizer step after which it ran.</param>
/// <param name="Loss">Mean cross-entropy over all validation response tokens.</param>
/// <param name="Tokens">Number of validation response tokens.</param>
public sealed record ValidationResult(int Step, double Loss, long Tokens);

/// <summary>Reported after every optimizer step.</summary>
/// <param name="Metrics">The step's numbers.</param>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="Elapsed">Time spent training in this session.</param>
/// <param name="Remaining">Estimated time to the end, from this session's mean step time.</param>
/// <param name="TokensPerSecond">Real input tokens per second over this session.</param>
/// <param name="Validation">The evaluation that ran after this step, if any.</param>
/// <param name="PeakMemoryBytes">Peak memory of the training device so far (CUDA) or of the process (CPU), when known.</param>
public sealed record TrainingProgress(StepMetrics Metrics, int TotalSteps, TimeSpan Elapsed, TimeSpan Remaining,
    double TokensPerSecond, ValidationResult? Validation, long? PeakMemoryBytes);

/// <summary>The outcome of <see cref="Trainer.Train"/>. The trained weights live in the model (an attached adapter under LoRA).</summary>
/// <param name="History">Every optimizer step's metrics, from step 1 (including steps run before a resume).</param>
/// <param name="Validations">Every evaluation, in order.</param>
/// <param name="FinalCheckpoint">The last checkpoint written, if checkpoints were enabled.</param>
/// <param name="PeakMemoryBytes">Peak memory of the training device (CUDA) or of the process (CPU), when known.</param>
public sealed record TrainingResult(IReadOnlyList<StepMetrics> History, IReadOnlyList<ValidationResult> Validations,
    string? FinalCheckpoint, long? PeakMemoryBytes)
{
    /// <summary>The last step's metrics.</summary>
    public StepMetrics Final => History[^1];
}

/// <summary>
/// Training met a non-finite loss or gradient. The step that met it was not applied, but the update before it made
/// the weights non-finite in effect: checkpoints holding that update are renamed <c>diverged-checkpoint-N</c>, and
/// <see cref="LastCheckpoint"/> names the newest one from before it.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>The 1-based optimizer step that failed.</summary>
    public int Step { get; }

    /// <summary>The newest checkpoint from before the update that diverged, if any: resume from it with a lower learning rate.</summary>
    public string? LastCheckpoint { get; }

    /// <summary>The metrics of every step that completed before the failure (from step 1, including steps before a resume).</summary>
    public IReadOnlyList<StepMetrics> History { get; }

    /// <summary>The evaluations that ran before the failure.</summary>
    public IReadOnlyList<ValidationResult> Validations { get; }

    internal TrainingDivergedException(int step, string what, string? lastCheckpoint, IReadOnlyList<StepMetrics> history, IReadOnlyList<ValidationResult> validations)
        : base($"Training diverged at step {step}: {what}. " +
               (lastCheckpoint is null ? "No checkpoint from before the diverging update exists" : $"The last good checkpoint is '{lastCheckpoint}'") +
               "; lower the learning rate" + (lastCheckpoint is null ? "" : " and resume from it") + ", enable gradient clipping, or check the data.")
    {
        Step = step;
        LastCheckpoint = lastCheckpoint;
        History = history.ToList();
        Validations = validations.ToList();
    }
}
