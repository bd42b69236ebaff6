using LfU.MLNet.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// AdamW (decoupled weight decay) exactly as <c>torch.optim.AdamW</c>'s single-tensor path computes it, written out
/// so that its state (moments, step, master weights) can be checkpointed and restored bit for bit.
/// Parameters in half precision get a float32 master copy: the update happens on the master and is copied back.
/// </summary>
/// <remarks>
/// With <c>flatten</c> (the trainer's LoRA adapters: hundreds of small tensors of one dtype), the parameters are
/// re-pointed at views of one contiguous buffer and the moments live in two more, so a step is about ten kernel launches
/// over all tensors together instead of seven per tensor, the way torch's foreach/fused AdamW avoids launch overhead.
/// The arithmetic is element-wise and identical, so the results are the same bit for bit.
/// </remarks>
internal sealed class AdamW : IDisposable
{
    readonly IReadOnlyList<Parameter> _parameters;
    readonly Tensor[] _expAvg, _expAvgSq;
    readonly Tensor?[] _master;
    readonly double _beta1, _beta2, _epsilon, _weightDecay;
    readonly Tensor? _flat, _flatExpAvg, _flatExpAvgSq; // set when flattened

    /// <summary>Optimizer steps taken (PyTorch's <c>state["step"]</c>; the bias corrections use it).</summary>
    public long StepCount { get; private set; }

    /// <param name="parameters">The tensors to update, each from its own <c>.grad</c>.</param>
    /// <param name="beta1">First-moment decay.</param>
    /// <param name="beta2">Second-moment decay.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    /// <param name="weightDecay">Decoupled weight decay, multiplied by the learning rate.</param>
    /// <param name="flatten">Put the parameters into one buffer (see remarks); ignored unless they share one
    /// non-half dtype and one device. Their storage changes, their values and identities do not.</param>
    public AdamW(IReadOnlyList<Parameter> parameters, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0, bool flatten = false)
    {
        _parameters = parameters;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _weightDecay = weightDecay;
        using var _ = no_grad();
        if (flatten && parameters.Count > 1 && !ComputeCast.IsHalf(parameters[0].dtype)
            && parameters.All(p => p.dtype == parameters[0].dtype && p.device_type == parameters[0].device_type && p.device_index == parameters[0].device_index))
        {
            _flat = cat(parameters.Select(p => p.detach().reshape(-1)).ToArray()).DetachFromDisposeScope();
            _flatExpAvg = zeros_like(_flat).DetachFromDisposeScope();
            _flatExpAvgSq = zeros_like(_flat).DetachFromDisposeScope();
            _master = new Tensor?[parameters.Count];
            _expAvg = new Tensor[parameters.Count];
            _expAvgSq = new Tensor[parameters.Count];
            long offset = 0;
            for (int i = 0; i < parameters.Count; i++)
            {
                long n = parameters[i].numel();
                parameters[i].set_(Slice(_flat, offset, n, parameters[i].shape));
                _expAvg[i] = Slice(_flatExpAvg, offset, n, parameters[i].shape);
                _expAvgSq[i] = Slice(_flatExpAvgSq, offset, n, parameters[i].shape);
                offset += n;
            }
            return;
        }
        _master = parameters.Select(p => ComputeCast.IsHalf(p.dtype) ? p.detach().to(ScalarType.Float32).DetachFromDisposeScope() : null).ToArray();
        _expAvg = parameters.Select((p, i) => zeros_like(_master[i] ?? p).DetachFromDisposeScope()).ToArray();
        _expAvgSq = parameters.Select((p, i) => zeros_like(_master[i] ?? p).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Whether the parameters live in one buffer (see remarks).</summary>
    internal bool IsFlat => _flat is not null;

    static Tensor Slice(Tensor flat, long offset, long count, long[] shape) => flat.narrow(0, offset, count).view(shape).DetachFromDisposeScope();

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> from the parameters' current gradients.</summary>
    public void Step(double learningRate)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        StepCount++;
        double biasCorrection1 = 1 - Math.Pow(_beta1, StepCount);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(_beta2, StepCount));
        double stepSize = learningRate / biasCorrection1;
        if (_flat is not null && _parameters.All(p => p.grad is { IsInvalid: false }))
        {
            // One update over all tensors: the same element-wise arithmetic as the loop below.
            var grad = cat(_parameters.Select(p => p.grad!.reshape(-1)).ToArray());
            if (grad.dtype != _flat.dtype) grad = grad.to(_flat.dtype);
            Update(_flat, grad, _flatExpAvg!, _flatExpAvgSq!, learningRate, stepSize, biasCorrection2Sqrt);
            return;
        }
        for (int i = 0; i < _parameters.Count; i++)
        {
            var parameter = _parameters[i];
            var grad = parameter.grad;
            if (grad is null || grad.IsInvalid) continue;
            var target = _master[i] ?? parameter;
            if (grad.dtype != target.dtype) grad = grad.to(target.dtype);
            Update(target, grad, _expAvg[i], _expAvgSq[i], learningRate, stepSize, biasCorrection2Sqrt);
            if (_master[i] is not null) parameter.copy_(target);
        }
    }

    /// <summary>torch.optim.AdamW's single-tensor update of <paramref name="target"/> in place.</summary>
    void Update(Tensor target, Tensor grad, Tensor expAvg, Tensor expAvgSq, double learningRate, double stepSize, double biasCorrection2Sqrt)
    {
        if (_weightDecay != 0) target.mul_(1 - learningRate * _weightDecay);
        expAvg.lerp_(grad, 1 - _beta1);
        expAvgSq.mul_(_beta2).addcmul_(grad, grad, 1 - _beta2);
        var denominator = (expAvgSq.sqrt() / biasCorrection2Sqrt).add_(_epsilon);
        target.addcdiv_(expAvg, denominator, -stepSize);
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
        _flat?.Dispose(); // the parameters keep the storage alive
        _flatExpAvg?.Dispose();
        _flatExpAvgSq?.Dispose();
    }
}
