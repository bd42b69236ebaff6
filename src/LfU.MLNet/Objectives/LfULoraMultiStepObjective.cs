using System.Globalization;

namespace LfU.MLNet.Objectives;

/// <summary>
/// LfU-LoRA whose auxiliary model climbs k normalised ascent steps of α / k instead of one step of α: each step
/// follows the SFT gradient at the weights the previous steps reached (projected-gradient style), so the perturbation
/// bends toward where the loss keeps rising. The path length stays α; k = 1 is <see cref="LfULoraObjective"/>'s step,
/// exactly. Each extra step costs one forward and one backward pass.
/// </summary>
public sealed record LfULoraMultiStepObjective : LfUObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "lfu-lora-multistep";
    /// <summary>The default number of ascent steps.</summary>
    public const int DefaultAscentSteps = 3;

    /// <summary>The consistency weight λ. Default 5 (the paper's for LoRA).</summary>
    public override double Lambda { get; init; } = LfULoraObjective.DefaultLambda;

    /// <summary>Batch of the ascent gradients. Default <see cref="AscentBatchMode.SameBatch"/>.</summary>
    public AscentBatchMode AscentBatch { get; init; } = AscentBatchMode.SameBatch;

    /// <summary>k, the number of ascent steps (each of size α / k). Default 3.</summary>
    public int AscentSteps { get; init; } = DefaultAscentSteps;

    /// <inheritdoc/>
    public override string Name => RegistryName;

    /// <inheritdoc/>
    public override ObjectiveCost Cost => AscentBatch == AscentBatchMode.IndependentBatch
        ? new(ForwardPasses: 2 + AscentSteps, NeedsAscentBatch: true)
        : new(ForwardPasses: 1 + AscentSteps);

    /// <inheritdoc/>
    public override void Validate(int layers)
    {
        base.Validate(layers);
        if (AscentSteps < 1) throw new ArgumentOutOfRangeException(nameof(AscentSteps), AscentSteps, "AscentSteps must be at least 1 (1 is LfU's single step).");
    }

    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"LfU (LoRA, {AscentSteps} ascent steps, {DescribeAlphaLambda()}{(AscentBatch == AscentBatchMode.IndependentBatch ? ", independent ascent batch" : "")})");

    internal override ObjectiveStep CreateStep(ObjectiveContext context) => new LfULoraStep(context, this, AscentBatch, AscentSteps);

    internal static TrainingObjective FromParameters(ObjectiveParameters p) => WithSharedParameters(new LfULoraMultiStepObjective
    {
        AscentBatch = p.AscentBatch ?? AscentBatchMode.SameBatch, AscentSteps = p.AscentSteps ?? DefaultAscentSteps,
    }, p);
}
