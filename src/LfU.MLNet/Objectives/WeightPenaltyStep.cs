using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>SFT plus weight · Σ f(θ − θ₀) over the trainable weights, anchored at their values when training starts.</summary>
internal sealed class WeightPenaltyStep : SupervisedStep
{
    readonly Tensor[] _initialWeights;
    readonly Func<Tensor, Tensor> _elementwise;
    readonly double _weight;

    /// <param name="context">The step's model and trainable weights.</param>
    /// <param name="elementwise">f applied to θ − θ₀ element by element (square for L2, absolute value for L1).</param>
    /// <param name="weight">The penalty's weight.</param>
    public WeightPenaltyStep(ObjectiveContext context, Func<Tensor, Tensor> elementwise, double weight) : base(context)
    {
        _initialWeights = Trainable.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
        _elementwise = elementwise;
        _weight = weight;
    }

    protected override Tensor? Penalty()
    {
        Tensor sum = zeros(1, dtype: ScalarType.Float64, device: Model.Device);
        for (int i = 0; i < Trainable.Count; i++)
            sum = sum + _elementwise(Trainable[i] - _initialWeights[i]).sum().to(ScalarType.Float64);
        return (sum * _weight).squeeze();
    }

    public override void Dispose()
    {
        foreach (var t in _initialWeights) t.Dispose();
        base.Dispose();
    }
}
