using System.Globalization;

namespace LfU.MLNet.Objectives;

/// <summary>
/// LfU whose auxiliary model moves the LoRA adapter weights one normalised ascent step: the trainable adapter under
/// LoRA fine-tuning, or a fresh zero-B auxiliary LoRA on every block projection under full fine-tuning.
/// </summary>
public sealed record LfULoraObjective : LfUObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "lfu-lora";
    /// <summary>The LfU paper's consistency weight for the LoRA kind.</summary>
    public const double DefaultLambda = 5.0;

    /// <summary>The consistency weight λ. Default 5 (the paper's for LoRA).</summary>
    public override double Lambda { get; init; } = DefaultLambda;

    /// <summary>Batch of the ascent gradient. Default <see cref="AscentBatchMode.SameBatch"/>.</summary>
    public AscentBatchMode AscentBatch { get; init; } = AscentBatchMode.SameBatch;

    /// <inheritdoc/>
    public override string Name => RegistryName;

    /// <inheritdoc/>
    public override ObjectiveCost Cost => AscentBatch == AscentBatchMode.IndependentBatch
        ? new(ForwardPasses: 3, NeedsAscentBatch: true)
        : new(ForwardPasses: 2);

    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"LfU (LoRA, {DescribeAlphaLambda()}{(AscentBatch == AscentBatchMode.IndependentBatch ? ", independent ascent batch" : "")})");

    internal override ObjectiveStep CreateStep(ObjectiveContext context) => new LfULoraStep(context, this, AscentBatch, ascentSteps: 1);

    internal static TrainingObjective FromParameters(ObjectiveParameters p) =>
        WithSharedParameters(new LfULoraObjective { AscentBatch = p.AscentBatch ?? AscentBatchMode.SameBatch }, p);
}
