using System.Text.Json;

namespace LfU.MLNet.Training;

/// <summary>The loop's position and records, stored as <c>trainer_state.json</c> in each checkpoint.</summary>
/// <param name="Step">Optimizer steps completed.</param>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="Epoch">Epoch the next step reads from (the data position is a pure function of the step).</param>
/// <param name="DataFingerprint">SHA-256 of the training examples, so a resume on different data is refused.</param>
/// <param name="Options">The run's options (those that shape the trajectory), as JSON.</param>
/// <param name="History">Metrics of every step so far.</param>
/// <param name="Validations">Evaluations so far.</param>
/// <param name="LearningRateChanges">Resumes that lowered the learning rate (after a divergence), oldest first; null in older files.</param>
internal sealed record TrainerState(int Step, int TotalSteps, int Epoch, string DataFingerprint, JsonElement Options,
    List<StepMetrics> History, List<ValidationResult> Validations, List<LearningRateChange>? LearningRateChanges = null);
