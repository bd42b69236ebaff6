using System.Globalization;

namespace LfU.MLNet.Objectives;

/// <summary>SFT + weight · Σ|θ − θ₀| over the trainable weights (θ₀: their values when training starts).</summary>
public sealed record L1Objective : TrainingObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "l1";
    /// <summary>The default penalty weight.</summary>
    public const double DefaultWeight = 0.01;

    /// <summary>The penalty's weight. Default 0.01.</summary>
    public double Weight { get; init; } = DefaultWeight;

    /// <inheritdoc/>
    public override string Name => RegistryName;

    /// <inheritdoc/>
    public override ObjectiveCost Cost { get; } = new(ForwardPasses: 1);

    /// <inheritdoc/>
    public override void Validate(int layers)
    {
        if (!(Weight >= 0)) throw new ArgumentOutOfRangeException(nameof(Weight), Weight, "The L1 penalty weight must be non-negative.");
    }

    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"L1 (weight {Weight})");

    internal override ObjectiveStep CreateStep(ObjectiveContext context) => new WeightPenaltyStep(context, d => d.abs(), Weight);

    internal static TrainingObjective FromParameters(ObjectiveParameters parameters) => new L1Objective { Weight = parameters.PenaltyWeight ?? DefaultWeight };
}
