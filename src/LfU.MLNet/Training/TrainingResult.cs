namespace LfU.MLNet.Training;

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
