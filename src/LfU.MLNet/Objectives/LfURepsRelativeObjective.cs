using System.Globalization;
using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// LfU with representation steering in the official code's form and at its site: each decoder layer's MLP output m is
/// turned toward a direction dₗ, normalize(normalize(m) + α · dₗ/‖dₗ‖) · ‖m‖, keeping its norm. dₗ is LfU's ascent
/// direction: the SFT loss's gradient with respect to a zero vector added to layer l's MLP output. α is therefore a
/// relative size (0.1 turns each state by at most about 6°), unlike <see cref="LfURepsObjective"/>'s absolute one.
/// </summary>
/// <remarks>
/// It differs from the official code in where d comes from: there, persistent randomly initialised vectors are trained
/// by Adam on the negated SFT loss of another batch; here d is one normalised ascent step on the training batch, as the
/// paper defines LfU, so the step costs two forward and two backward passes and keeps no state between steps. Each
/// layer's direction is normalised on its own (the additive form uses one norm over all layers). Defaults are
/// provisional until the forgetting benchmark has measured this form.
/// </remarks>
public sealed record LfURepsRelativeObjective : LfUObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "lfu-reps-relative";
    /// <summary>The default consistency weight (provisional: the LoRA kind's).</summary>
    public const double DefaultLambda = 5.0;

    /// <summary>The consistency weight λ. Default 5 (provisional).</summary>
    public override double Lambda { get; init; } = DefaultLambda;

    /// <inheritdoc/>
    public override string Name => RegistryName;

    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override bool PerturbsRepresentations => true;

    /// <inheritdoc/>
    public override ObjectiveCost Cost { get; } = new(ForwardPasses: 2);

    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"LfU (RepS norm-relative at the MLP output, {DescribeAlphaLambda()})");

    internal override ObjectiveStep CreateStep(ObjectiveContext context) => new Step(context, this);

    internal static TrainingObjective FromParameters(ObjectiveParameters p) => WithSharedParameters(new LfURepsRelativeObjective(), p);

    sealed class Step(ObjectiveContext context, LfURepsRelativeObjective objective) : LfUStep(context, objective)
    {
        protected override StepLossTensors Compute(TokenBatch batch, TokenBatch? ascentBatch, double weight)
        {
            var response = HiddenStateConsistency.ResponseMask(batch);
            // Zero vectors added to each MLP output: the SFT loss's gradient with respect to them is the ascent direction.
            var wide = Model.DType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
            var probes = ZeroSteeringProbes(wide);
            var clean = Model.Forward(batch.InputIds, new ForwardOptions
            {
                AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, Labels = batch.Labels, OutputHiddenStates = Consistency.NeedsHidden,
                MlpOutputTransform = (layer, m) => m + probes[layer].to(m.dtype),
            });
            var sft = clean.Loss!;
            var reference = Consistency.Reference(clean, response);

            var ascent = AccumulateSftAndProbeGradients(sft, probes, weight);
            var norm = GlobalNorm(ascent);
            var directions = ascent.Select(g => NormRelativeSteering.Unit(g).detach()).ToArray();
            var alpha = CurrentAlpha();

            var perturbed = Model.Forward(batch.InputIds, new ForwardOptions
            {
                AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, OutputHiddenStates = Consistency.NeedsHidden,
                MlpOutputTransform = (layer, m) => NormRelativeSteering.Apply(m, directions[layer], alpha),
            });
            var consistency = Consistency.Between(perturbed, reference, response, Model.Device);
            return Finish(sft, consistency, reference, norm, weight);
        }
    }
}
