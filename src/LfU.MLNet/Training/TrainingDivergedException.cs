namespace LfU.MLNet.Training;

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
