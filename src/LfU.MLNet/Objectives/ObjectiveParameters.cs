namespace LfU.MLNet.Objectives;

/// <summary>
/// Objective settings by their common names, as a command line or a benchmark grid gives them; null leaves an
/// objective's own default. Each objective reads the ones it has and ignores the rest.
/// </summary>
public sealed record ObjectiveParameters
{
    /// <summary>LfU's ascent step size α.</summary>
    public double? Alpha { get; init; }
    /// <summary>LfU's consistency weight λ.</summary>
    public double? Lambda { get; init; }
    /// <summary>LfU's automatic calibration of α and/or λ.</summary>
    public LfUCalibration? Calibration { get; init; }
    /// <summary>LfU-LoRA's ascent batch.</summary>
    public AscentBatchMode? AscentBatch { get; init; }
    /// <summary>Multi-step LfU's number of ascent steps k.</summary>
    public int? AscentSteps { get; init; }
    /// <summary>LfU's consistency measure.</summary>
    public ConsistencyMeasure? Consistency { get; init; }
    /// <summary>LfU's first compared hidden state.</summary>
    public int? HiddenStateFrom { get; init; }
    /// <summary>LfU's last compared hidden state, inclusive.</summary>
    public int? HiddenStateTo { get; init; }
    /// <summary>NEFTune's noise scale α.</summary>
    public double? NoiseAlpha { get; init; }
    /// <summary>The L1/L2 penalty weight.</summary>
    public double? PenaltyWeight { get; init; }
}
