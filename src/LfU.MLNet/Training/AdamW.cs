using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// AdamW (decoupled weight decay) exactly as <c>torch.optim.AdamW</c>'s single-tensor path computes it, written out
/// so that its state (moments, step, master weights) can be checkpointed and restored bit for bit.
/// Parameters in half precision get a float32 master copy: the update happens on the master and is copied back.
/// </summary>
internal sealed class AdamW : IDisposable
{
    readonly IReadOnlyList<Parameter> _parameters;
    readonly Tensor[] _expAvg, _expAvgSq;
    readonly Tensor?[] _master;
    readonly double _beta1, _beta2, _epsilon, _weightDecay;

    /// <summary>Optimizer steps taken (PyTorch's <c>state["step"]</c>; the bias corrections use it).</summary>
    public long StepCount { get; private set; }

    public AdamW(IReadOnlyList<Parameter> parameters, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    {
        _parameters = parameters;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _weightDecay = weightDecay;
        using var _ = no_grad();
        _master = parameters.Select(p => IsHalf(p.dtype) ? p.detach().to(ScalarType.Float32).DetachFromDisposeScope() : null).ToArray();
        _expAvg = parameters.Select((p, i) => zeros_like(_master[i] ?? p).DetachFromDisposeScope()).ToArray();
        _expAvgSq = parameters.Select((p, i) => zeros_like(_master[i] ?? p).DetachFromDisposeScope()).ToArray();
    }

    static bool IsHalf(ScalarType t) => t is ScalarType.BFloat16 or ScalarType.Float16;

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> from the parameters' current gradients.</summary>
    public void Step(double learningRate)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        StepCount++;
        double biasCorrection1 = 1 - Math.Pow(_beta1, StepCount);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(_beta2, StepCount));
        double stepSize = learningRate / biasCorrection1;
        for (int i = 0; i < _parameters.Count; i++)
        {
            var parameter = _parameters[i];
            var grad = parameter.grad;
            if (grad is null || grad.IsInvalid) continue;
            var target = _master[i] ?? parameter;
            if (grad.dtype != target.dtype) grad = grad.to(target.dtype);
            if (_weightDecay != 0) target.mul_(1 - learningRate * _weightDecay);
            _expAvg[i].lerp_(grad, 1 - _beta1);
            _expAvgSq[i].mul_(_beta2).addcmul_(grad, grad, 1 - _beta2);
            var denominator = (_expAvgSq[i].sqrt() / biasCorrection2Sqrt).add_(_epsilon);
            target.addcdiv_(_expAvg[i], denominator, -stepSize);
            if (_master[i] is not null) parameter.copy_(target);
        }
    }

    /// <summary>The state tensors, keyed by <paramref name="names"/>[i] + ".exp_avg" / ".exp_avg_sq" / ".master".</summary>
    public IEnumerable<(string Name, Tensor Tensor)> State(IReadOnlyList<string> names)
    {
        for (int i = 0; i < _parameters.Count; i++)
        {
            yield return (names[i] + ".exp_avg", _expAvg[i]);
            yield return (names[i] + ".exp_avg_sq", _expAvgSq[i]);
            if (_master[i] is not null) yield return (names[i] + ".master", _master[i]!);
        }
    }

    /// <summary>Restores what <see cref="State"/> listed, through <paramref name="read"/> (name → tensor), and the step count.</summary>
    public void Load(IReadOnlyList<string> names, Func<string, Tensor> read, long stepCount)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, tensor) in State(names)) tensor.copy_(read(name));
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var t in _expAvg.Concat(_expAvgSq)) t.Dispose();
        foreach (var t in _master) t?.Dispose();
    }
}
