using System.Globalization;
using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>SFT + weight · Σ f(θ − θ₀) over the trainable weights (θ₀: their values when training starts); L1 and L2 differ in f.</summary>
public abstract record WeightPenaltyObjective : TrainingObjective
{
    /// <summary>The default penalty weight.</summary>
    public const double DefaultWeight = 0.01;

    /// <summary>The penalty's weight. Default 0.01.</summary>
    public double Weight { get; init; } = DefaultWeight;

    /// <summary>The penalty's name in messages: L1 or L2.</summary>
    private protected abstract string PenaltyName { get; }

    /// <summary>f, applied to θ − θ₀ element by element.</summary>
    private protected abstract Tensor Elementwise(Tensor difference);

    /// <inheritdoc/>
    public override ObjectiveCost Cost { get; } = new(ForwardPasses: 1);

    /// <inheritdoc/>
    public override void Validate(int layers)
    {
        if (!(Weight >= 0)) throw new ArgumentOutOfRangeException(nameof(Weight), Weight, $"The {PenaltyName} penalty weight must be non-negative.");
    }

    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"{PenaltyName} (weight {Weight})");

    internal override ObjectiveStep CreateStep(ObjectiveContext context) => new WeightPenaltyStep(context, Elementwise, Weight);
}
