using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// The losses of one (micro-)batch as float64 scalars still on the training device, so that a training step can sum,
/// clip and update without waiting for the device; <see cref="Read"/> brings them to the host in one transfer.
/// LfU's steps also report the α and λ they used and how far the perturbation moved the states
/// (<see cref="StepLosses"/> documents each).
/// </summary>
internal sealed record StepLossTensors(Tensor Sft, Tensor? Consistency, Tensor? AscentGradNorm, Tensor? Penalty, Tensor Total)
{
    public Tensor? Alpha { get; init; }
    public Tensor? Lambda { get; init; }
    public Tensor? RelativeChange { get; init; }
    public Tensor? GradientRatio { get; init; }

    /// <summary>Builds the record from the step's losses: detached, in float64, total = SFT + λ·consistency + penalty.</summary>
    public static StepLossTensors From(Tensor sft, Tensor? consistency, Tensor? lambda, Tensor? ascentGradNorm, Tensor? penalty)
    {
        var s = sft.detach().to(ScalarType.Float64);
        var c = consistency?.detach().to(ScalarType.Float64);
        var p = penalty?.detach().to(ScalarType.Float64);
        var total = s;
        if (c is not null) total = total + c * lambda!.detach().to(ScalarType.Float64);
        if (p is not null) total = total + p;
        return new StepLossTensors(s, c, ascentGradNorm?.detach().to(ScalarType.Float64), p, total);
    }

    Tensor?[] All => [Sft, Total, Consistency, AscentGradNorm, Penalty, Alpha, Lambda, RelativeChange, GradientRatio];

    /// <summary>Moves every tensor to the enclosing dispose scope (out of the one the step computed them in).</summary>
    public StepLossTensors MoveToOuterDisposeScope()
    {
        foreach (var t in All.Where(t => t is not null).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
            t.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>The numbers on the host, in one device-to-host transfer (this waits for the device).</summary>
    public StepLosses Read()
    {
        var present = All;
        using var scope = NewDisposeScope();
        double[] values = stack(present.Where(t => t is not null).Select(t => t!.to(ScalarType.Float64).reshape(1)).ToArray()).cpu().data<double>().ToArray();
        int next = 0;
        double? Take(Tensor? t) => t is null ? null : values[next++];
        var taken = present.Select(Take).ToArray();
        return new StepLosses(taken[0]!.Value, taken[2], taken[3], taken[4], taken[1]!.Value)
        {
            Alpha = taken[5], Lambda = taken[6], RelativeChange = taken[7], GradientRatio = taken[8],
        };
    }
}
