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

    /// <summary>
    /// Zero vectors, one per decoder layer, that a steering kind adds to the clean pass: the SFT loss's gradient with
    /// respect to them is LfU's ascent direction on the layers' states.
    /// </summary>
    protected Tensor[] ZeroSteeringProbes(ScalarType dtype) => Enumerable.Range(0, Model.LayerCount)
        .Select(_ => zeros(Model.Config.HiddenSize, dtype: dtype, device: Model.Device).requires_grad_(true))
        .ToArray();

    /// <summary>
    /// Adds <paramref name="weight"/> × the SFT gradient into the trainable parameters and returns the SFT gradient
    /// with respect to <paramref name="probes"/> (one backward pass for both).
    /// </summary>
    protected Tensor[] AccumulateSftAndProbeGradients(Tensor sft, Tensor[] probes, double weight)
    {
        var grads = Grad(sft, Trainable.Cast<Tensor>().Concat(probes).ToList());
        AccumulateInto(Trainable, grads.Take(Trainable.Count).ToArray(), weight);
        return grads.Skip(Trainable.Count).ToArray();
    }

    /// <summary>The step's numbers, still on the device.</summary>
    protected StepLossTensors Report(Tensor sft, Tensor consistency, Tensor norm) => StepLossTensors.From(sft, consistency, Lambda, norm, null);
}
