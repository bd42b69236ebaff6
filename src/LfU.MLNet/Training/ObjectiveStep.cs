using LfU.MLNet.Tokenization;
using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// Computes one (micro-)batch's gradient of the chosen objective and adds it, weighted, into the trainable
/// parameters' <c>.grad</c>. The loop owns the optimizer; this class owns the maths.
///
/// LfU (same batch) costs two forward and two backward passes: the clean backward yields both the SFT gradient and
/// the ascent direction g; only detached hidden states survive it; then the perturbed pass (δ = α·g/‖g‖ held constant)
/// gives λ·consistency's gradient, and the perturbed weights are restored bit-for-bit from a copy.
/// </summary>
internal sealed class ObjectiveStep : IDisposable
{
    readonly CausalLM _model;
    readonly ObjectiveOptions _options;
    readonly IReadOnlyList<Parameter> _trainable;
    readonly IReadOnlyList<Parameter> _loraPerturbed;   // LfU-LoRA: the tensors the ascent step moves
    readonly bool _auxiliaryLora;                        // full fine-tuning: a fresh LoRA per step, not trained
    readonly Tensor[]? _initialWeights;                  // L1/L2 anchors θ₀
    readonly Generator _rng;
    readonly int _from, _to;

    /// <param name="model">The model, with any trainable LoRA already attached.</param>
    /// <param name="options">Objective settings.</param>
    /// <param name="trainable">Parameters the optimizer updates.</param>
    /// <param name="seed">Seeds NEFTune noise and auxiliary LoRA initialisation.</param>
    public ObjectiveStep(CausalLM model, ObjectiveOptions options, IReadOnlyList<Parameter> trainable, long seed)
    {
        options.Validate(model.LayerCount);
        _model = model;
        _options = options;
        _trainable = trainable;
        _rng = new Generator((ulong)seed, model.Device);
        _from = options.HiddenStateFrom;
        _to = options.HiddenStateTo ?? model.LayerCount;

        if (options.Kind == ObjectiveKind.LfU && options.Perturbation == PerturbationKind.LoRA)
        {
            var lora = LoraAdapters.Parameters(model).Select(p => p.Parameter).ToList();
            if (lora.Count == 0)
            {
                // Full fine-tuning: a zero-B auxiliary LoRA (a no-op until perturbed) on every block projection.
                LoraAdapters.Attach(model, new LoraConfig(), seed, ActivationType);
                lora = LoraAdapters.Parameters(model).Select(p => p.Parameter).ToList();
                foreach (var p in lora) p.requires_grad = true;
                _auxiliaryLora = true;
            }
            _loraPerturbed = lora;
        }
        else _loraPerturbed = Array.Empty<Parameter>();

        if (options.Kind is ObjectiveKind.L1 or ObjectiveKind.L2)
            _initialWeights = trainable.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    ScalarType ActivationType => _model.DType;

    /// <summary>The generator behind NEFTune noise and auxiliary-LoRA re-initialisation (its state is checkpointed).</summary>
    internal Generator Random => _rng;

    /// <summary>
    /// Adds <paramref name="weight"/> × ∇(objective on <paramref name="batch"/>) into the trainable parameters' gradients.
    /// <paramref name="ascentBatch"/> is needed for <see cref="AscentBatchMode.IndependentBatch"/>.
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
        var losses = _options.Kind switch
        {
            ObjectiveKind.LfU when _options.Perturbation == PerturbationKind.RepS => RepS(batch, weight),
            ObjectiveKind.LfU => LoraLfU(batch, ascentBatch, weight),
            _ => Supervised(batch, weight),
        };
        return losses.MoveToOuterDisposeScope();
    }

    // ---- SFT, NEFTune, L1, L2 ----

    StepLossTensors Supervised(TokenBatch batch, double weight)
    {
        Func<Tensor, Tensor>? noise = _options.Kind == ObjectiveKind.NEFTune ? NeftuneNoise : null;
        var output = _model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, Labels = batch.Labels, EmbeddingTransform = noise });
        var sft = output.Loss!;
        Tensor total = sft;
        Tensor? penalty = null;
        if (_initialWeights is not null)
        {
            Tensor sum = zeros(1, dtype: ScalarType.Float64, device: _model.Device);
            for (int i = 0; i < _trainable.Count; i++)
            {
                var d = _trainable[i] - _initialWeights[i];
                sum = sum + (_options.Kind == ObjectiveKind.L2 ? d.pow(2) : d.abs()).sum().to(ScalarType.Float64);
            }
            penalty = (sum * _options.PenaltyWeight).squeeze().to(sft.dtype);
            total = sft + penalty;
        }
        AddGradients(total, _trainable, weight);
        return StepLossTensors.From(sft, null, 0, null, penalty);
    }

    /// <summary>NEFTune: x + U(−1, 1) · α / √(L·d), L the padded length and d the hidden size.</summary>
    Tensor NeftuneNoise(Tensor embeddings)
    {
        double magnitude = _options.NoiseAlpha / Math.Sqrt(embeddings.shape[1] * embeddings.shape[2]);
        var noise = empty_like(embeddings).uniform_(-magnitude, magnitude, _rng);
        return embeddings + noise;
    }

    // ---- LfU with LoRA perturbation ----

    StepLossTensors LoraLfU(TokenBatch batch, TokenBatch? ascentBatch, double weight)
    {
        bool same = _options.AscentBatch == AscentBatchMode.SameBatch;
        if (!same && ascentBatch is null)
            throw new ArgumentNullException(nameof(ascentBatch), "AscentBatchMode.IndependentBatch needs an ascent batch.");
        if (_auxiliaryLora) ResetAuxiliaryLora();

        var response = ResponseMask(batch);
        // Clean pass: SFT loss, its gradient (and, with the same batch, the ascent direction), detached clean states.
        var clean = _model.Forward(batch.InputIds, new ForwardOptions
        {
            AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, Labels = batch.Labels, OutputHiddenStates = NeedsHidden,
        });
        var sft = clean.Loss!;
        var reference = Reference(clean, response);

        Tensor[] ascent;
        if (same)
        {
            // One backward for both: the union of trainable and perturbed tensors (identical under LoRA training).
            var inputs = _trainable.Concat(_loraPerturbed).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().ToList();
            var grads = Grad(sft, inputs);
            var byParam = inputs.Zip(grads).ToDictionary(x => (object)x.First, x => x.Second, ReferenceEqualityComparer.Instance);
            AccumulateInto(_trainable, _trainable.Select(p => byParam[p]).ToArray(), weight);
            ascent = _loraPerturbed.Select(p => byParam[p]).ToArray();
        }
        else
        {
            AccumulateInto(_trainable, Grad(sft, _trainable), weight);
            var other = _model.Forward(ascentBatch!.InputIds, new ForwardOptions { AttentionMask = ascentBatch.AttentionMask, PositionIds = ascentBatch.PositionIds, Labels = ascentBatch.Labels });
            ascent = Grad(other.Loss!, _loraPerturbed);
        }

        var norm = GlobalNorm(ascent);
        var step = StepScale(norm);
        var saved = _loraPerturbed.Select(p => p.detach().clone()).ToArray();
        Tensor consistency;
        try
        {
            using (no_grad())
                for (int i = 0; i < _loraPerturbed.Count; i++)
                    _loraPerturbed[i].add_(ascent[i].to(_loraPerturbed[i].dtype) * step.to(_loraPerturbed[i].dtype));
            var perturbed = _model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, OutputHiddenStates = NeedsHidden });
            consistency = Consistency(perturbed, reference, response);
            AddGradients(consistency * _options.EffectiveLambda, _trainable, weight);
        }
        finally
        {
            using (no_grad())
                for (int i = 0; i < _loraPerturbed.Count; i++)
                    _loraPerturbed[i].copy_(saved[i]);
        }
        return Report(sft, consistency, norm);
    }

    void ResetAuxiliaryLora()
    {
        foreach (var (_, layer) in _model.BlockLinears())
            if (layer.HasLora) layer.ResetLora(_rng);
    }

    // ---- LfU with representation steering ----

    StepLossTensors RepS(TokenBatch batch, double weight)
    {
        var response = ResponseMask(batch);
        var steer = Enumerable.Range(0, _model.LayerCount)
            .Select(_ => zeros(_model.Config.HiddenSize, dtype: ActivationType, device: _model.Device).requires_grad_(true))
            .ToArray();
        var clean = _model.Forward(batch.InputIds, new ForwardOptions
        {
            AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, Labels = batch.Labels, OutputHiddenStates = NeedsHidden, LayerSteering = steer,
        });
        var sft = clean.Loss!;
        var reference = Reference(clean, response);

        var inputs = _trainable.Cast<Tensor>().Concat(steer).ToList();
        var grads = Grad(sft, inputs);
        AccumulateInto(_trainable, grads.Take(_trainable.Count).ToArray(), weight);
        var ascent = grads.Skip(_trainable.Count).ToArray();
        var norm = GlobalNorm(ascent);
        var step = StepScale(norm);
        var delta = ascent.Select(g => (g * step.to(g.dtype)).detach()).ToArray();

        var perturbed = _model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, OutputHiddenStates = NeedsHidden, LayerSteering = delta });
        var consistency = Consistency(perturbed, reference, response);
        AddGradients(consistency * _options.EffectiveLambda, _trainable, weight);
        LastSteering = delta.Select(d => d.clone().DetachFromDisposeScope()).ToArray();
        return Report(sft, consistency, norm);
    }

    Tensor[]? _lastSteering;

    /// <summary>The steering perturbation of the last RepS step (for inspection and tests).</summary>
    internal Tensor[]? LastSteering
    {
        get => _lastSteering;
        private set
        {
            if (_lastSteering is not null) foreach (var t in _lastSteering) t.Dispose();
            _lastSteering = value;
        }
    }

    // ---- consistency ----

    bool NeedsHidden => _options.Consistency != ConsistencyMeasure.LogitKl;

    /// <summary>Response positions: labels != -100, unshifted, as the official code does. (B, T) bool</summary>
    static Tensor ResponseMask(TokenBatch batch) => batch.Labels! != -100;

    /// <summary>The detached clean quantities the consistency compares against: response rows of the chosen states, or logits.</summary>
    Tensor[] Reference(CausalLMOutput clean, Tensor response)
    {
        if (!NeedsHidden) return new[] { clean.Logits[response].detach() }; // (N, V)
        var states = new Tensor[_to - _from + 1];
        for (int i = _from; i <= _to; i++) states[i - _from] = clean.HiddenStates![i][response].detach(); // (N, C)
        return states;
    }

    Tensor Consistency(CausalLMOutput perturbed, Tensor[] reference, Tensor response)
    {
        if (!NeedsHidden)
        {
            var pLog = perturbed.Logits[response].to(Wide(perturbed.Logits)).log_softmax(-1); // (N, V)
            var qLog = reference[0].to(Wide(reference[0])).log_softmax(-1);
            return (qLog.exp() * (qLog - pLog)).sum(-1).mean();
        }
        Tensor total = zeros(1, dtype: Wide(reference[0]), device: _model.Device).squeeze();
        for (int i = _from; i <= _to; i++)
        {
            var p = perturbed.HiddenStates![i][response]; // (N, C)
            var q = reference[i - _from];
            total = total + (_options.Consistency == ConsistencyMeasure.Cosine
                ? 1 - nn.functional.cosine_similarity(p.to(Wide(p)), q.to(Wide(q)), dim: -1).mean()
                : (p - q).to(Wide(p)).pow(2).mean());
        }
        return total / (_to - _from + 1);
    }

    static ScalarType Wide(Tensor t) => t.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    // ---- gradient plumbing ----

    static Tensor[] Grad(Tensor loss, IReadOnlyList<Tensor> inputs)
    {
        var grads = torch.autograd.grad(new[] { loss }, inputs.ToArray(), allow_unused: true);
        return grads.Select((g, i) => g is null || g.IsInvalid ? zeros_like(inputs[i]) : g).ToArray();
    }

    static void AddGradients(Tensor loss, IReadOnlyList<Parameter> parameters, double weight) =>
        AccumulateInto(parameters, Grad(loss, parameters.Cast<Tensor>().ToList()), weight);

    static void AccumulateInto(IReadOnlyList<Parameter> parameters, Tensor[] grads, double weight)
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

    /// <summary>‖g‖₂ over all tensors together, as a float64 scalar tensor (no host sync).</summary>
    internal static Tensor GlobalNorm(IReadOnlyList<Tensor> tensors) =>
        stack(tensors.Select(t => t.to(ScalarType.Float64).pow(2).sum()).ToArray()).sum().sqrt();

    /// <summary>α / ‖g‖, or 0 when the gradient vanishes (then the auxiliary model equals the clean one).</summary>
    Tensor StepScale(Tensor norm) => where(norm > 0, _options.Alpha / norm.clamp_min(double.Epsilon), zeros_like(norm));

    /// <summary>The step's numbers, still on the device.</summary>
    StepLossTensors Report(Tensor sft, Tensor consistency, Tensor norm) => StepLossTensors.From(sft, consistency, _options.EffectiveLambda, norm, null);

    public void Dispose()
    {
        LastSteering = null;
        if (_initialWeights is not null) foreach (var t in _initialWeights) t.Dispose();
        if (_auxiliaryLora) LoraAdapters.RemoveAll(_model);
        _rng.Dispose();
    }
}
