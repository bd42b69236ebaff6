using LfU.MLNet.Adapters;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// LfU-LoRA's step. With the same batch and one ascent step it costs two forward and two backward passes: the clean
/// backward yields both the SFT gradient and the ascent direction g; only detached hidden states survive it; then the
/// perturbed pass (δ = α·g/‖g‖ held constant) gives λ·consistency's gradient, and the perturbed weights are restored
/// bit for bit from a copy. Under full fine-tuning a fresh zero-B auxiliary LoRA is what the ascent moves.
/// </summary>
internal sealed class LfULoraStep : LfUStep
{
    readonly IReadOnlyList<Parameter> _perturbed;   // the tensors the ascent step moves
    readonly bool _auxiliaryLora;                    // full fine-tuning: a fresh LoRA per step, not trained
    readonly bool _sameBatch;
    readonly int _ascentSteps;

    /// <param name="context">The model and its trainable weights.</param>
    /// <param name="objective">α, λ and the consistency.</param>
    /// <param name="ascentBatch">Which batch the ascent gradients are taken on.</param>
    /// <param name="ascentSteps">k: the perturbation is k normalised steps of α / k, each along the SFT gradient at the
    /// weights the previous steps reached (k = 1: LfU's single step α · g / ‖g‖).</param>
    public LfULoraStep(ObjectiveContext context, LfUObjective objective, AscentBatchMode ascentBatch, int ascentSteps) : base(context, objective)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ascentSteps, 1);
        _sameBatch = ascentBatch == AscentBatchMode.SameBatch;
        _ascentSteps = ascentSteps;
        var lora = LoraAdapters.Parameters(Model).Select(p => p.Parameter).ToList();
        if (lora.Count == 0)
        {
            // Full fine-tuning: a zero-B auxiliary LoRA (a no-op until perturbed) on every block projection.
            LoraAdapters.Attach(Model, new LoraConfig(), context.Seed, Model.DType);
            lora = LoraAdapters.Parameters(Model).Select(p => p.Parameter).ToList();
            foreach (var p in lora) p.requires_grad = true;
            _auxiliaryLora = true;
        }
        _perturbed = lora;
    }

    protected override StepLossTensors Compute(TokenBatch batch, TokenBatch? ascentBatch, double weight)
    {
        if (!_sameBatch && ascentBatch is null)
            throw new ArgumentNullException(nameof(ascentBatch), "AscentBatchMode.IndependentBatch needs an ascent batch.");
        if (_auxiliaryLora) ResetAuxiliaryLora();

        var response = HiddenStateConsistency.ResponseMask(batch);
        // Clean pass: SFT loss, its gradient (and, with the same batch, the ascent direction), detached clean states.
        var clean = Model.Forward(batch.InputIds, new ForwardOptions
        {
            AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, Labels = batch.Labels, OutputHiddenStates = Consistency.NeedsHidden,
        });
        var sft = clean.Loss!;
        var reference = Consistency.Reference(clean, response);

        Tensor[] ascent;
        if (_sameBatch)
        {
            // One backward for both: the union of trainable and perturbed tensors (identical under LoRA training).
            var inputs = Trainable.Concat(_perturbed).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().ToList();
            var grads = Grad(sft, inputs);
            var byParam = inputs.Zip(grads).ToDictionary(x => (object)x.First, x => x.Second, ReferenceEqualityComparer.Instance);
            AccumulateSft(Trainable.Select(p => byParam[p]).ToArray(), weight);
            ascent = _perturbed.Select(p => byParam[p]).ToArray();
        }
        else
        {
            AccumulateSft(Grad(sft, Trainable.Cast<Tensor>().ToList()), weight);
            var other = Model.Forward(ascentBatch!.InputIds, new ForwardOptions { AttentionMask = ascentBatch.AttentionMask, PositionIds = ascentBatch.PositionIds, Labels = ascentBatch.Labels });
            ascent = Grad(other.Loss!, _perturbed.Cast<Tensor>().ToList());
        }

        var norm = GlobalNorm(ascent);
        var saved = _perturbed.Select(p => p.detach().clone()).ToArray();
        try
        {
            Move(ascent, StepScale(norm, _ascentSteps));
            // Further steps climb from where the previous ones reached: one more forward and backward each.
            var source = _sameBatch ? batch : ascentBatch!;
            for (int k = 1; k < _ascentSteps; k++)
            {
                var loss = Model.Forward(source.InputIds, new ForwardOptions { AttentionMask = source.AttentionMask, PositionIds = source.PositionIds, Labels = source.Labels }).Loss!;
                var next = Grad(loss, _perturbed.Cast<Tensor>().ToList());
                Move(next, StepScale(GlobalNorm(next), _ascentSteps));
            }
            var perturbed = Model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, OutputHiddenStates = Consistency.NeedsHidden });
            return Finish(sft, Consistency.Between(perturbed, reference, response, Model.Device), reference, norm, weight);
        }
        finally
        {
            using (no_grad())
                for (int i = 0; i < _perturbed.Count; i++)
                    _perturbed[i].copy_(saved[i]);
        }
    }

    /// <summary>Adds scale · direction to the perturbed tensors, outside autograd.</summary>
    void Move(Tensor[] direction, Tensor scale)
    {
        using var _ = no_grad();
        for (int i = 0; i < _perturbed.Count; i++)
            _perturbed[i].add_(direction[i].to(_perturbed[i].dtype) * scale.to(_perturbed[i].dtype));
    }

    void ResetAuxiliaryLora() => LoraAdapters.ResetAll(Model, Random);

    public override void Dispose()
    {
        if (_auxiliaryLora) LoraAdapters.RemoveAll(Model);
        base.Dispose();
    }
}
