using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// What LfU's kinds share: the normalised ascent step's scale, the consistency and its gradient, the calibration of
/// α and λ (<see cref="LfUCalibration"/>), and the reported losses and readings.
/// </summary>
internal abstract class LfUStep : ObjectiveStep
{
    protected readonly double Alpha, Lambda;
    protected readonly HiddenStateConsistency Consistency;
    readonly LfUCalibrator? _calibrator;
    Tensor? _sftGradNorm;

    protected LfUStep(ObjectiveContext context, LfUObjective objective) : base(context)
    {
        Alpha = objective.Alpha;
        Lambda = objective.Lambda;
        Consistency = objective.ConsistencyFor(context.Model.LayerCount);
        if (objective.Calibration is { } calibration)
            _calibrator = new LfUCalibrator(calibration, objective.Alpha, context.Model.Device);
    }

    /// <summary>(α / <paramref name="steps"/>) / ‖g‖, or 0 when the gradient vanishes (then the auxiliary model equals the clean one).</summary>
    protected Tensor StepScale(Tensor norm, int steps = 1) => where(norm > 0, CurrentAlpha() / steps / norm.clamp_min(double.Epsilon), zeros_like(norm));

    /// <summary>The α of this step (a float64 scalar): the calibrated one, or the objective's.</summary>
    protected Tensor CurrentAlpha() => _calibrator is { Settings.Alpha: true } calibrator ? calibrator.Alpha() : tensor(Alpha, ScalarType.Float64, Model.Device);

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
        AccumulateSft(grads.Take(Trainable.Count).ToArray(), weight);
        return grads.Skip(Trainable.Count).ToArray();
    }

    /// <summary>Adds <paramref name="weight"/> × the SFT gradient <paramref name="grads"/> (one per trainable parameter), noting its norm.</summary>
    protected void AccumulateSft(Tensor[] grads, double weight)
    {
        _sftGradNorm = GlobalNorm(grads);
        AccumulateInto(Trainable, grads, weight);
    }

    /// <summary>
    /// Adds <paramref name="weight"/> × λ∇consistency into the trainable parameters (λ calibrated or fixed), lets the
    /// calibration see how far the perturbation moved the states, and returns the step's numbers.
    /// </summary>
    protected StepLossTensors Finish(Tensor sft, Tensor consistency, Tensor[] reference, Tensor ascentNorm, double weight)
    {
        var relativeChange = Consistency.RelativeChange(consistency, reference);
        var alpha = CurrentAlpha();
        // A calibrated λ comes from this micro-batch's own clean and perturbed states and is held constant, so the
        // gradient is LfU's at (α, λ), the gradient of λ·consistency, whichever way λ was set.
        var lambda = _calibrator is { Settings.Lambda: true } calibrator && relativeChange is not null
            ? calibrator.Lambda(consistency, relativeChange)
            : tensor(Lambda, ScalarType.Float64, Model.Device);
        var consistencyGrads = Grad(consistency * lambda.to(consistency.dtype), Trainable.Cast<Tensor>().ToList());
        AccumulateInto(Trainable, consistencyGrads, weight);
        var weightedNorm = GlobalNorm(consistencyGrads);
        if (_calibrator is { Settings.Alpha: true } && relativeChange is not null) _calibrator.ObserveRelativeChange(relativeChange);
        var ratio = weightedNorm / _sftGradNorm!.clamp_min(double.Epsilon);
        return StepLossTensors.From(sft, consistency, lambda, ascentNorm, null) with
        {
            Alpha = alpha, Lambda = lambda, RelativeChange = relativeChange, GradientRatio = ratio,
        };
    }

    /// <summary>The calibration's state (null without calibration), for checkpoints.</summary>
    internal override Tensor? State => _calibrator?.State;

    internal override void LoadState(Tensor state)
    {
        if (_calibrator is null) throw new InvalidDataException("The checkpoint holds LfU calibration state, but this objective is not calibrated.");
        _calibrator.Load(state);
    }

    public override void Dispose()
    {
        _calibrator?.Dispose();
        base.Dispose();
    }
}
