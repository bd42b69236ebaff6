namespace LfU.MLNet.Objectives;

/// <summary>
/// One of the settings <see cref="ObjectiveParameters"/> names. <see cref="ObjectiveEntry.Reads"/> tells whether an
/// objective uses it, so that a command line or a benchmark grid can refuse (or skip) a setting that would be ignored.
/// </summary>
public enum ObjectiveSetting
{
    /// <summary><see cref="ObjectiveParameters.Alpha"/> (LfU's ascent step α; with <c>auto</c>, its calibration).</summary>
    Alpha,
    /// <summary><see cref="ObjectiveParameters.Lambda"/> (LfU's consistency weight λ; with <c>auto</c>, its calibration).</summary>
    Lambda,
    /// <summary><see cref="ObjectiveParameters.AscentBatch"/>.</summary>
    AscentBatch,
    /// <summary><see cref="ObjectiveParameters.AscentSteps"/>.</summary>
    AscentSteps,
    /// <summary><see cref="ObjectiveParameters.Consistency"/>.</summary>
    Consistency,
    /// <summary><see cref="ObjectiveParameters.HiddenStateFrom"/>.</summary>
    HiddenStateFrom,
    /// <summary><see cref="ObjectiveParameters.HiddenStateTo"/>.</summary>
    HiddenStateTo,
    /// <summary><see cref="ObjectiveParameters.NoiseAlpha"/>.</summary>
    NoiseAlpha,
    /// <summary><see cref="ObjectiveParameters.PenaltyWeight"/>.</summary>
    PenaltyWeight,
}
