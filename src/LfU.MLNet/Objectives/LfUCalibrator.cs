using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// The rules of <see cref="LfUCalibration"/> and their running state, α and how many relative changes it has seen,
/// as one float64 tensor on the training device (no host sync per step; checkpointed as is).
/// </summary>
internal sealed class LfUCalibrator : IDisposable
{
    /// <summary>α moves by (target / measured)^gain per step: half the log error, damping the batch-to-batch noise.</summary>
    const double AlphaGain = 0.5;
    /// <summary>After the first step, α changes by at most this factor per step.</summary>
    const double MaxAlphaFactor = 2.0;
    /// <summary>The first step's full correction is bounded too, for a degenerate first batch.</summary>
    const double MaxFirstAlphaFactor = 1000.0;

    const int AlphaSlot = 0, AlphaObservations = 1;

    readonly LfUCalibration _settings;
    readonly Tensor _state; // (2) float64

    /// <param name="settings">The targets.</param>
    /// <param name="startAlpha">α of the first step.</param>
    /// <param name="device">Where the state lives.</param>
    public LfUCalibrator(LfUCalibration settings, double startAlpha, Device device)
    {
        _settings = settings;
        _state = tensor(new[] { startAlpha, 0 }, ScalarType.Float64, device).DetachFromDisposeScope();
    }

    public LfUCalibration Settings => _settings;

    /// <summary>The α the next step uses (a float64 scalar).</summary>
    public Tensor Alpha() => _state[AlphaSlot].clone();

    /// <summary>
    /// λ for a micro-batch whose perturbation moved the states by <paramref name="relativeChange"/> with this
    /// <paramref name="consistency"/>: weight · ρ̂² / consistency (0 where nothing moved), a float64 scalar.
    /// </summary>
    public Tensor Lambda(Tensor consistency, Tensor relativeChange)
    {
        using var _ = no_grad();
        var c = consistency.detach().to(ScalarType.Float64);
        var r = relativeChange.to(ScalarType.Float64);
        return where(c > 0, r.pow(2) * _settings.ConsistencyWeight / c.clamp_min(double.Epsilon), zeros_like(c));
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
