using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// The losses of one (micro-)batch as float64 scalars still on the training device, so that a training step can sum,
/// clip and update without waiting for the device; <see cref="Read"/> brings them to the host in one transfer.
/// </summary>
internal sealed record StepLossTensors(Tensor Sft, Tensor? Consistency, Tensor? AscentGradNorm, Tensor? Penalty, Tensor Total)
{
    /// <summary>Builds the record from the step's losses: detached, in float64, total = SFT + λ·consistency + penalty.</summary>
    public static StepLossTensors From(Tensor sft, Tensor? consistency, double lambda, Tensor? ascentGradNorm, Tensor? penalty)
    {
        var s = sft.detach().to(ScalarType.Float64);
        var c = consistency?.detach().to(ScalarType.Float64);
        var p = penalty?.detach().to(ScalarType.Float64);
        var total = s;
        if (c is not null) total = total + c * lambda;
        if (p is not null) total = total + p;
        return new StepLossTensors(s, c, ascentGradNorm?.detach().to(ScalarType.Float64), p, total);
    }

    /// <summary>Moves every tensor to the enclosing dispose scope (out of the one the step computed them in).</summary>
    public StepLossTensors MoveToOuterDisposeScope()
    {
        foreach (var t in new[] { Sft, Consistency, AscentGradNorm, Penalty, Total }.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor?>())
            t?.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>The numbers on the host, in one device-to-host transfer (this waits for the device).</summary>
    public StepLosses Read()
    {
        var present = new[] { Sft, Total, Consistency, AscentGradNorm, Penalty };
        using var scope = NewDisposeScope();
        double[] values = stack(present.Where(t => t is not null).Select(t => t!.reshape(1)).ToArray()).cpu().data<double>().ToArray();
        int next = 2;
        double? Take(Tensor? t) => t is null ? null : values[next++];
        return new StepLosses(values[0], Take(Consistency), Take(AscentGradNorm), Take(Penalty), values[1]);
    }
}
