using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>What LfU's two kinds share: the normalised ascent step's scale, the consistency, and the reported losses.</summary>
internal abstract class LfUStep : ObjectiveStep
{
    protected readonly double Alpha, Lambda;
    protected readonly HiddenStateConsistency Consistency;

    protected LfUStep(ObjectiveContext context, LfUObjective objective) : base(context)
    {
        Alpha = objective.Alpha;
        Lambda = objective.Lambda;
        Consistency = objective.ConsistencyFor(context.Model.LayerCount);
    }

    /// <summary>(α / <paramref name="steps"/>) / ‖g‖, or 0 when the gradient vanishes (then the auxiliary model equals the clean one).</summary>
    protected Tensor StepScale(Tensor norm, int steps = 1) => where(norm > 0, Alpha / steps / norm.clamp_min(double.Epsilon), zeros_like(norm));

    /// <summary>The step's numbers, still on the device.</summary>
    protected StepLossTensors Report(Tensor sft, Tensor consistency, Tensor norm) => StepLossTensors.From(sft, consistency, Lambda, norm, null);
}
