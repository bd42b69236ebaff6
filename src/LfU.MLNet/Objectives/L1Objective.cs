using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>SFT + weight · Σ|θ − θ₀| over the trainable weights (θ₀: their values when training starts).</summary>
public sealed record L1Objective : WeightPenaltyObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "l1";

    /// <inheritdoc/>
    public override string Name => RegistryName;

    private protected override string PenaltyName => "L1";

    private protected override Tensor Elementwise(Tensor difference) => difference.abs();

    internal static TrainingObjective FromParameters(ObjectiveParameters parameters) => new L1Objective { Weight = parameters.PenaltyWeight ?? DefaultWeight };
}
