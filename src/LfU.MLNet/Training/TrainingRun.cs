using LfU.MLNet.Tokenization;

namespace LfU.MLNet.Training;

/// <summary>
/// One call of <see cref="Trainer.Train"/>: its inputs, its plan (the step it starts at, how many steps of how many
/// micro-batches) and the records it has so far (those of a resumed checkpoint included).
/// </summary>
internal sealed class TrainingRun
{
    public required IReadOnlyList<TrainingExample> Train { get; init; }
    public IReadOnlyList<TrainingExample>? Validation { get; init; }
    public IProgress<TrainingProgress>? Progress { get; init; }
    public CancellationToken CancellationToken { get; init; }

    /// <summary>SHA-256 of the training examples (see <see cref="TrainerState.DataFingerprint"/>).</summary>
    public required string DataFingerprint { get; init; }

    /// <summary>Optimizer steps already done: 0, or the step of the checkpoint resumed from.</summary>
    public required int StartStep { get; init; }
    public required int TotalSteps { get; init; }
    public required int StepsPerEpoch { get; init; }
    public required int MicroBatchesPerEpoch { get; init; }
    public required int WarmupSteps { get; init; }

    /// <summary>The checkpoint this run resumed from, if any.</summary>
    public string? ResumedFrom { get; init; }

    public List<StepMetrics> History { get; } = new();
    public List<ValidationResult> Validations { get; } = new();

    /// <summary>The newest checkpoint of the run (at first the one resumed from).</summary>
    public string? LastCheckpoint { get; set; }
}
