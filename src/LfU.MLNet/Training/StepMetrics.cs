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
