namespace LfU.MLNet.Objectives;

/// <summary>Losses of one (micro-)batch, as plain numbers.</summary>
/// <param name="Sft">Mean cross-entropy over response tokens.</param>
/// <param name="Consistency">LfU's consistency loss (before λ), when the objective has one.</param>
/// <param name="AscentGradNorm">‖g‖₂ of LfU's ascent gradient.</param>
/// <param name="Penalty">The L1/L2 penalty (after its weight).</param>
/// <param name="Total">The loss whose gradient was taken.</param>
public sealed record StepLosses(double Sft, double? Consistency, double? AscentGradNorm, double? Penalty, double Total)
{
    /// <summary>LfU's ascent step α used (calibrated or fixed).</summary>
    public double? Alpha { get; init; }
    /// <summary>LfU's consistency weight λ used (calibrated or fixed).</summary>
    public double? Lambda { get; init; }
    /// <summary>How far the perturbation moved the compared hidden states, relatively: √(consistency / mean h²) for
    /// MSE, √(2·consistency) for cosine; null for logit KL.</summary>
    public double? RelativeChange { get; init; }
    /// <summary>λ·‖∇consistency‖ / ‖∇SFT‖ over the trainable weights.</summary>
    public double? GradientRatio { get; init; }
}
