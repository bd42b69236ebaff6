namespace LfU.MLNet.Objectives;

/// <summary>Plain supervised fine-tuning: the mean cross-entropy over response tokens (1 forward + 1 backward pass).</summary>
public sealed record SftObjective : TrainingObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "sft";

    /// <inheritdoc/>
    public override string Name => RegistryName;

    /// <inheritdoc/>
    public override ObjectiveCost Cost { get; } = new(ForwardPasses: 1);

    /// <inheritdoc/>
    public override string Describe() => "SFT";

    internal override ObjectiveStep CreateStep(ObjectiveContext context) => new SupervisedStep(context);

    internal static TrainingObjective FromParameters(ObjectiveParameters parameters) => new SftObjective();
}
