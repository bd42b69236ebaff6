namespace LfU.MLNet.Training;

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
