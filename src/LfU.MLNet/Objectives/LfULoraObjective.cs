using System.Globalization;
using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>Which batch LfU-LoRA's ascent gradient is taken on.</summary>
public enum AscentBatchMode
{
    /// <summary>The training batch itself: the clean backward already gives the direction (2 forward + 2 backward).</summary>
    SameBatch,
    /// <summary>Another batch drawn from the training data, as the official code does (3 forward + 3 backward).</summary>
    IndependentBatch,
}

/// <summary>
/// LfU whose auxiliary model moves the LoRA adapter weights one normalised ascent step: the trainable adapter under
/// LoRA fine-tuning, or a fresh zero-B auxiliary LoRA on every block projection under full fine-tuning.
/// </summary>
/// <remarks>
/// With the same batch it costs two forward and two backward passes: the clean backward yields both the SFT gradient
/// and the ascent direction g; only detached hidden states survive it; then the perturbed pass (δ = α·g/‖g‖ held
/// constant) gives λ·consistency's gradient, and the perturbed weights are restored bit for bit from a copy.
/// </remarks>
public sealed record LfULoraObjective : LfUObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "lfu-lora";
    /// <summary>The LfU paper's consistency weight for the LoRA kind.</summary>
    public const double DefaultLambda = 5.0;

    /// <summary>The consistency weight λ. Default 5 (the paper's for LoRA).</summary>
    public override double Lambda { get; init; } = DefaultLambda;

    /// <summary>Batch of the ascent gradient. Default <see cref="AscentBatchMode.SameBatch"/>.</summary>
    public AscentBatchMode AscentBatch { get; init; } = AscentBatchMode.SameBatch;

    /// <inheritdoc/>
    public override string Name => RegistryName;

    /// <inheritdoc/>
    public override ObjectiveCost Cost => AscentBatch == AscentBatchMode.IndependentBatch
        ? new(ForwardPasses: 3, NeedsAscentBatch: true)
        : new(ForwardPasses: 2);

    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"LfU (LoRA, α={Alpha}, λ={Lambda}{(AscentBatch == AscentBatchMode.IndependentBatch ? ", independent ascent batch" : "")})");

    internal override ObjectiveStep CreateStep(ObjectiveContext context) => new Step(context, this);

    internal static TrainingObjective FromParameters(ObjectiveParameters p) => new LfULoraObjective
    {
        Alpha = p.Alpha ?? DefaultAlpha, Lambda = p.Lambda ?? DefaultLambda, AscentBatch = p.AscentBatch ?? AscentBatchMode.SameBatch,
        Consistency = p.Consistency ?? ConsistencyMeasure.Mse, HiddenStateFrom = p.HiddenStateFrom ?? 0, HiddenStateTo = p.HiddenStateTo,
    };

    sealed class Step : LfUStep
    {
        readonly IReadOnlyList<Parameter> _perturbed;   // the tensors the ascent step moves
        readonly bool _auxiliaryLora;                    // full fine-tuning: a fresh LoRA per step, not trained
        readonly bool _sameBatch;

        public Step(ObjectiveContext context, LfULoraObjective objective) : base(context, objective)
        {
            _sameBatch = objective.AscentBatch == AscentBatchMode.SameBatch;
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
                AccumulateInto(Trainable, Trainable.Select(p => byParam[p]).ToArray(), weight);
                ascent = _perturbed.Select(p => byParam[p]).ToArray();
            }
            else
            {
                AccumulateInto(Trainable, Grad(sft, Trainable.Cast<Tensor>().ToList()), weight);
                var other = Model.Forward(ascentBatch!.InputIds, new ForwardOptions { AttentionMask = ascentBatch.AttentionMask, PositionIds = ascentBatch.PositionIds, Labels = ascentBatch.Labels });
                ascent = Grad(other.Loss!, _perturbed.Cast<Tensor>().ToList());
            }

            var norm = GlobalNorm(ascent);
            var step = StepScale(norm);
            var saved = _perturbed.Select(p => p.detach().clone()).ToArray();
            Tensor consistency;
            try
            {
                using (no_grad())
                    for (int i = 0; i < _perturbed.Count; i++)
                        _perturbed[i].add_(ascent[i].to(_perturbed[i].dtype) * step.to(_perturbed[i].dtype));
                var perturbed = Model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, OutputHiddenStates = Consistency.NeedsHidden });
                consistency = Consistency.Between(perturbed, reference, response, Model.Device);
                AddGradients(consistency * Lambda, Trainable, weight);
            }
            finally
            {
                using (no_grad())
                    for (int i = 0; i < _perturbed.Count; i++)
                        _perturbed[i].copy_(saved[i]);
            }
            return Report(sft, consistency, norm);
        }

        void ResetAuxiliaryLora()
        {
            foreach (var (_, layer) in Model.BlockLinears())
                if (layer.HasLora) layer.ResetLora(Random);
        }

        public override void Dispose()
        {
            if (_auxiliaryLora) LoraAdapters.RemoveAll(Model);
            base.Dispose();
        }
    }
}
