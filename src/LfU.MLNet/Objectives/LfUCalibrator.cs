using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// The running state of <see cref="LfUCalibration"/>: α, the two gradient-norm averages and how many relative
/// changes α has seen, as one float64 tensor on the training device (no host sync per step; checkpointed as is).
/// </summary>
internal sealed class LfUCalibrator : IDisposable
{
    /// <summary>α moves by (target / measured)^gain per step: half the log error, damping the batch-to-batch noise.</summary>
    const double AlphaGain = 0.5;
    /// <summary>After the first step, α changes by at most this factor per step.</summary>
    const double MaxAlphaFactor = 2.0;
    /// <summary>The first step's full correction is bounded too, for a degenerate first batch.</summary>
    const double MaxFirstAlphaFactor = 1000.0;

    const int AlphaSlot = 0, SftNormAverage = 1, ConsistencyNormAverage = 2, AlphaObservations = 3;

    readonly LfUCalibration _settings;
    readonly double _startLambda;
    readonly Tensor _state; // (4) float64

    /// <param name="settings">The targets.</param>
    /// <param name="startAlpha">α of the first step.</param>
    /// <param name="startLambda">λ of the first step (before any consistency gradient has been seen).</param>
    /// <param name="device">Where the state lives.</param>
    public LfUCalibrator(LfUCalibration settings, double startAlpha, double startLambda, Device device)
    {
        _settings = settings;
        _startLambda = startLambda;
        _state = tensor(new[] { startAlpha, 0, 0, 0 }, ScalarType.Float64, device).DetachFromDisposeScope();
    }

    public LfUCalibration Settings => _settings;

    /// <summary>The α the next step uses (a float64 scalar).</summary>
    public Tensor Alpha() => _state[AlphaSlot].clone();

    /// <summary>
    /// The λ the next step uses (a float64 scalar): ratio · avg‖∇SFT‖ / avg‖∇consistency‖ over the steps so far, or
    /// the objective's λ until a consistency gradient has been seen. Both averages start at 0 and share the factor,
    /// so their bias cancels in the quotient.
    /// </summary>
    public Tensor Lambda()
    {
        var consistency = _state[ConsistencyNormAverage];
        return where(consistency > 0, _state[SftNormAverage] * _settings.GradientRatio / consistency.clamp_min(double.Epsilon), tensor(_startLambda, ScalarType.Float64, _state.device));
    }

    /// <summary>
    /// Takes in a micro-batch's gradient norms: ‖∇SFT‖, and ‖∇(λ·consistency)‖ at the <paramref name="lambda"/> it used
    /// (a step at λ = 0 shows no consistency gradient and is skipped).
    /// </summary>
    public void ObserveGradients(Tensor sftNorm, Tensor weightedConsistencyNorm, Tensor lambda)
    {
        using var _ = no_grad();
        double beta = _settings.Smoothing;
        var seen = lambda > 0;
        var consistencyNorm = weightedConsistencyNorm.to(ScalarType.Float64) / lambda.clamp_min(double.Epsilon);
        var sft = _state[SftNormAverage] * beta + sftNorm.to(ScalarType.Float64) * (1 - beta);
        var consistency = _state[ConsistencyNormAverage] * beta + consistencyNorm * (1 - beta);
        _state[SftNormAverage].copy_(where(seen, sft, _state[SftNormAverage]));
        _state[ConsistencyNormAverage].copy_(where(seen, consistency, _state[ConsistencyNormAverage]));
    }

    /// <summary>Moves α toward the target after a micro-batch whose hidden states changed by <paramref name="relativeChange"/>.</summary>
    public void ObserveRelativeChange(Tensor relativeChange)
    {
        using var _ = no_grad();
        var r = relativeChange.to(ScalarType.Float64);
        var error = (Math.Log(_settings.RelativeChange) - r.clamp_min(double.Epsilon).log());
        var first = _state[AlphaObservations] == 0;
        var step = where(first, error.clamp(-Math.Log(MaxFirstAlphaFactor), Math.Log(MaxFirstAlphaFactor)),
            (error * AlphaGain).clamp(-Math.Log(MaxAlphaFactor), Math.Log(MaxAlphaFactor)));
        // A perturbation that changed nothing (zero gradient) says nothing about α's scale.
        _state[AlphaSlot].mul_(where(r > 0, step, zeros_like(step)).exp());
        _state[AlphaObservations].add_(1);
    }

    /// <summary>The state, for checkpoints.</summary>
    public Tensor State => _state;

    /// <summary>Restores a checkpoint's state.</summary>
    public void Load(Tensor state)
    {
        if (!state.shape.SequenceEqual(_state.shape))
            throw new InvalidDataException($"The checkpoint's LfU calibration state has shape [{string.Join(", ", state.shape)}]; expected [{string.Join(", ", _state.shape)}].");
        using var _ = no_grad();
        _state.copy_(state);
    }

    public void Dispose() => _state.Dispose();
}
