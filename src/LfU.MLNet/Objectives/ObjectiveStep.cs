using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// Computes one (micro-)batch's gradient of an objective and adds it, weighted, into the trainable parameters'
/// <c>.grad</c>. The loop owns the optimizer; a step owns the maths. Subclasses implement <see cref="Compute"/>.
/// </summary>
internal abstract class ObjectiveStep : IDisposable
{
    protected readonly CausalLM Model;
    protected readonly IReadOnlyList<Parameter> Trainable;
    readonly Generator _rng;

    protected ObjectiveStep(ObjectiveContext context)
    {
        Model = context.Model;
        Trainable = context.Trainable;
        _rng = SeededRandom.Create(context.Seed);
    }

    /// <summary>The generator behind the objective's own randomness (its state is checkpointed).</summary>
    internal Generator Random => _rng;

    /// <summary>The steering perturbation of the last step, for objectives that steer representations (inspection and tests).</summary>
    internal virtual Tensor[]? LastSteering => null;

    /// <summary>State the objective carries from step to step besides its generator (null: none), for checkpoints.</summary>
    internal virtual Tensor? State => null;

    /// <summary>Restores <see cref="State"/> from a checkpoint.</summary>
    internal virtual void LoadState(Tensor state) =>
        throw new InvalidDataException($"The checkpoint holds objective state, but {GetType().Name} keeps none.");

    /// <summary>
    /// Adds <paramref name="weight"/> × ∇(objective on <paramref name="batch"/>) into the trainable parameters' gradients.
    /// <paramref name="ascentBatch"/> is used by objectives whose <see cref="ObjectiveCost.NeedsAscentBatch"/> is set.
    /// </summary>
    public StepLosses Accumulate(TokenBatch batch, TokenBatch? ascentBatch, double weight)
    {
        using var scope = NewDisposeScope();
        return AccumulateOnDevice(batch, ascentBatch, weight).Read();
    }

    /// <summary>
    /// As <see cref="Accumulate"/>, without waiting for the device: the losses stay device tensors (in the caller's
    /// dispose scope) until the caller reads them.
    /// </summary>
    public StepLossTensors AccumulateOnDevice(TokenBatch batch, TokenBatch? ascentBatch, double weight)
    {
        if (batch.Labels is null || (ascentBatch is not null && ascentBatch.Labels is null))
            throw new ArgumentException("Training batches need labels (-100 where nothing is learnt); collate them with Collator.CollateForTraining.", nameof(batch));
        using var scope = NewDisposeScope();
        return Compute(batch, ascentBatch, weight).MoveToOuterDisposeScope();
    }

    /// <summary>The objective's gradient, weighted, into the trainable parameters; returns the step's losses on the device.</summary>
    protected abstract StepLossTensors Compute(TokenBatch batch, TokenBatch? ascentBatch, double weight);

    // ---- gradient plumbing shared by every objective ----

    protected static Tensor[] Grad(Tensor loss, IReadOnlyList<Tensor> inputs)
    {
        var grads = torch.autograd.grad(new[] { loss }, inputs.ToArray(), allow_unused: true);
        return grads.Select((g, i) => g is null || g.IsInvalid ? zeros_like(inputs[i]) : g).ToArray();
    }

    protected static void AddGradients(Tensor loss, IReadOnlyList<Parameter> parameters, double weight) =>
        AccumulateInto(parameters, Grad(loss, parameters.Cast<Tensor>().ToList()), weight);

    protected static void AccumulateInto(IReadOnlyList<Parameter> parameters, Tensor[] grads, double weight)
    {
        using var _ = no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            var g = grads[i].to(parameters[i].dtype);
            var existing = parameters[i].grad;
            if (existing is null || existing.IsInvalid) parameters[i].grad = g.mul(weight);
            else existing.add_(g, alpha: weight);
        }
    }

    /// <summary>
    /// ‖g‖₂ over all tensors together, as a float64 scalar tensor (no host sync). Each tensor's float64 square is freed
    /// before the next is made: under full fine-tuning they would otherwise hold 8 bytes per weight until the step ends.
    /// </summary>
    internal static Tensor GlobalNorm(IReadOnlyList<Tensor> tensors)
    {
        var squares = new Tensor[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            using var scope = NewDisposeScope();
            squares[i] = tensors[i].to(ScalarType.Float64).pow(2).sum().MoveToOuterDisposeScope();
        }
        return stack(squares).sum().sqrt();
    }

    public virtual void Dispose() => _rng.Dispose();
}
