using System.Globalization;

namespace LfU.MLNet.Objectives;

/// <summary>
/// LfU's automatic calibration: α and λ set during training by scale-free rules, so that a model needs no sweep.
/// <list type="bullet">
/// <item><b>α</b> keeps the auxiliary model a fixed relative distance from the clean one in representation space: after
/// every micro-batch the measured relative change of the compared hidden states, ρ̂ = √(consistency / mean h²) for
/// MSE (√(2 · consistency), about the angle, for cosine), moves α toward <see cref="RelativeChange"/>
/// (α ← α · (ρ / ρ̂)^½, at most ×2 or ÷2 per step; the first step corrects fully). The size of a perturbation in
/// weight or steering units means nothing across widths, depths, adapter ranks and weight scales; its effect on the
/// hidden states, which is what the consistency penalises, does.</item>
/// <item><b>λ</b> keeps the consistency's pull a fixed fraction of the SFT gradient's:
/// λ = <see cref="GradientRatio"/> · EMA‖∇SFT‖ / EMA‖∇consistency‖ over the trainable weights (exponential averages
/// with factor <see cref="Smoothing"/> of the steps so far, ∇consistency taken before λ; the first step uses the
/// objective's λ). The loss scales of the two terms differ by orders of
/// magnitude between models (the paper needs λ = 0.1, 5 or 500); their gradients' ratio is what trades task for
/// retention.</item>
/// </list>
/// The defaults were chosen once, on the bundled base's λ × α grid, and checked on a second base of half the width
/// (README, "Automatic calibration"). Each step uses the α and λ reached before it, so the gradient of a step is exactly
/// LfU's with those values; both are reported per step (<c>StepMetrics.Alpha</c>, <c>StepMetrics.Lambda</c>).
/// </summary>
public sealed record LfUCalibration
{
    /// <summary>The relative hidden-state change α is steered to, by default.</summary>
    public const double DefaultRelativeChange = 0.035;
    /// <summary>The ratio λ·‖∇consistency‖ / ‖∇SFT‖ λ is set to, by default.</summary>
    public const double DefaultGradientRatio = 2.0;
    /// <summary>The gradient norms' averaging factor, by default.</summary>
    public const double DefaultSmoothing = 0.9;

    /// <summary>Both α and λ calibrated, with the default targets.</summary>
    public static LfUCalibration Auto { get; } = new();

    /// <summary>Calibrate α (the objective's <see cref="LfUObjective.Alpha"/> is then only the first step's). Default true.</summary>
    public bool Alpha { get; init; } = true;

    /// <summary>Calibrate λ (the objective's <see cref="LfUObjective.Lambda"/> is then unused). Default true.</summary>
    public bool Lambda { get; init; } = true;

    /// <summary>Target relative change of the compared hidden states (see the type's summary). Default 0.035.</summary>
    public double RelativeChange { get; init; } = DefaultRelativeChange;

    /// <summary>Target λ·‖∇consistency‖ / ‖∇SFT‖. Default 2.</summary>
    public double GradientRatio { get; init; } = DefaultGradientRatio;

    /// <summary>Exponential-average factor of the gradient norms behind λ, in [0, 1). Default 0.9.</summary>
    public double Smoothing { get; init; } = DefaultSmoothing;

    /// <summary>Checks the settings, naming the bad one.</summary>
    public void Validate(ConsistencyMeasure measure, double startAlpha)
    {
        if (!(RelativeChange > 0) || !double.IsFinite(RelativeChange))
            throw new ArgumentOutOfRangeException(nameof(RelativeChange), RelativeChange, "The calibration's target relative change must be positive (default 0.035).");
        if (!(GradientRatio >= 0) || !double.IsFinite(GradientRatio))
            throw new ArgumentOutOfRangeException(nameof(GradientRatio), GradientRatio, "The calibration's gradient ratio must be non-negative (default 2).");
        if (!(Smoothing >= 0 && Smoothing < 1))
            throw new ArgumentOutOfRangeException(nameof(Smoothing), Smoothing, "The calibration's smoothing must lie in [0, 1) (default 0.9).");
        if (Alpha && measure == ConsistencyMeasure.LogitKl)
            throw new ArgumentException("Calibrating α needs a hidden-state consistency (MSE or cosine): with logit KL there is no relative change of hidden states to steer. Set Consistency to Mse or Cosine, or calibrate λ only (Alpha = false).", nameof(Alpha));
        if (Alpha && !(startAlpha > 0))
            throw new ArgumentOutOfRangeException(nameof(LfUObjective.Alpha), startAlpha, "With α calibrated, the objective's Alpha is the first step's and must be positive.");
    }

    /// <summary>E.g. <c>α auto (ρ 0.05), λ auto (ratio 0.5)</c>.</summary>
    public string Describe(double alpha, double lambda) => string.Create(CultureInfo.InvariantCulture,
        $"α={(Alpha ? $"auto (ρ {RelativeChange})" : alpha.ToString(CultureInfo.InvariantCulture))}, λ={(Lambda ? $"auto (ratio {GradientRatio})" : lambda.ToString(CultureInfo.InvariantCulture))}");
}
