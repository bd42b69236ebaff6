using System.Globalization;

namespace LfU.MLNet.Objectives;

/// <summary>
/// LfU's automatic calibration: α and λ set during training by scale-free rules, so that a model needs no sweep. Both
/// read the perturbation's effect in representation space, the quantity the consistency penalises:
/// <list type="bullet">
/// <item><b>α</b> keeps the auxiliary model a fixed relative distance from the clean one: after every micro-batch the
/// measured relative change of the compared hidden states, ρ̂ = √(consistency / mean h²) for MSE (√(2 · consistency),
/// about the angle, for cosine), moves α toward <see cref="RelativeChange"/> (α ← α · (ρ / ρ̂)^½, at most ×2 or ÷2 per
/// step; the first step corrects fully). A perturbation's size in weight or steering units means nothing across
/// widths, depths, adapter ranks and weight scales; its effect on the hidden states does.</item>
/// <item><b>λ</b> weighs the consistency relative to the clean states' scale: λ = <see cref="ConsistencyWeight"/> ·
/// ρ̂² / consistency, so that λ · consistency = weight · ρ̂² (for MSE, λ = weight / mean h²). The raw MSE grows with the
/// square of the hidden states' scale, which differs 22-fold between our two bases; the paper's λ (0.1, 5 or 500 by
/// model) absorbs that scale.</item>
/// </list>
/// The defaults are the bundled base's best λ × α grid point read this way (λ 1, α 0.3: relative change 0.036, mean
/// h² 16), and were checked on a second base of half the width (README, "Automatic calibration"). A first rule
/// that kept λ·‖∇consistency‖ at a fixed ratio of ‖∇SFT‖ was measured and dropped: early in training the SFT gradient
/// is large, the ratio rule set λ in the hundreds and the second base hardly learnt the task (README). Each step uses
/// the α reached before it and the λ of its own clean pass, so its gradient is exactly LfU's with those values; both
/// are reported per step (<c>StepMetrics.Alpha</c>, <c>StepMetrics.Lambda</c>).
/// </summary>
public sealed record LfUCalibration
{
    /// <summary>The relative hidden-state change α is steered to, by default.</summary>
    public const double DefaultRelativeChange = 0.035;
    /// <summary>The weight of the scale-free consistency (λ · consistency = weight · ρ̂²), by default.</summary>
    public const double DefaultConsistencyWeight = 16;

    /// <summary>Both α and λ calibrated, with the default targets.</summary>
    public static LfUCalibration Auto { get; } = new();

    /// <summary>The calibration of the settings given as <c>auto</c> (default targets), or null when neither is.</summary>
    public static LfUCalibration? ForAuto(bool alpha, bool lambda) => alpha || lambda ? new LfUCalibration { Alpha = alpha, Lambda = lambda } : null;

    /// <summary>Calibrate α (the objective's <see cref="LfUObjective.Alpha"/> is then only the first step's). Default true.</summary>
    public bool Alpha { get; init; } = true;

    /// <summary>Calibrate λ (the objective's <see cref="LfUObjective.Lambda"/> is then unused). Default true.</summary>
    public bool Lambda { get; init; } = true;

    /// <summary>Target relative change of the compared hidden states (see the type's summary). Default 0.035.</summary>
    public double RelativeChange { get; init; } = DefaultRelativeChange;

    /// <summary>λ · consistency = this weight × the squared relative change (see the type's summary). Default 16.</summary>
    public double ConsistencyWeight { get; init; } = DefaultConsistencyWeight;

    /// <summary>Checks the settings, naming the bad one.</summary>
    public void Validate(ConsistencyMeasure measure, double startAlpha)
    {
        if (!(RelativeChange > 0) || !double.IsFinite(RelativeChange))
            throw new ArgumentOutOfRangeException(nameof(RelativeChange), RelativeChange, "The calibration's target relative change must be positive (default 0.035).");
        if (!(ConsistencyWeight >= 0) || !double.IsFinite(ConsistencyWeight))
            throw new ArgumentOutOfRangeException(nameof(ConsistencyWeight), ConsistencyWeight, "The calibration's consistency weight must be non-negative (default 16).");
        if ((Alpha || Lambda) && measure == ConsistencyMeasure.LogitKl)
            throw new ArgumentException("Calibrating α or λ needs a hidden-state consistency (MSE or cosine): with logit KL there is no relative change of hidden states to read. Set Consistency to Mse or Cosine, or give α and λ.", nameof(Alpha));
        if (Alpha && !(startAlpha > 0))
            throw new ArgumentOutOfRangeException(nameof(LfUObjective.Alpha), startAlpha, "With α calibrated, the objective's Alpha is the first step's and must be positive.");
    }

    /// <summary>E.g. <c>α=auto (ρ 0.035), λ=auto (weight 16)</c>.</summary>
    public string Describe(double alpha, double lambda) => string.Create(CultureInfo.InvariantCulture,
        $"α={(Alpha ? $"auto (ρ {RelativeChange})" : alpha.ToString(CultureInfo.InvariantCulture))}, λ={(Lambda ? $"auto (weight {ConsistencyWeight})" : lambda.ToString(CultureInfo.InvariantCulture))}");
}
