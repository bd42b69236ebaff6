using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>SFT + weight · Σ‖θ − θ₀‖² over the trainable weights (θ₀: their values when training starts).</summary>
public sealed record L2Objective : WeightPenaltyObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "l2";

    /// <inheritdoc/>
    public override string Name => RegistryName;

    private protected override string PenaltyName => "L2";

    private protected override Tensor Elementwise(Tensor difference) => difference.pow(2);

    internal static TrainingObjective FromParameters(ObjectiveParameters parameters) => new L2Objective { Weight = parameters.PenaltyWeight ?? DefaultWeight };
}
