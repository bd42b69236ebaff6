using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// LfU's consistency term: the detached clean quantities (hidden states <c>From</c>…<c>To</c> at response positions, or
/// logits) and their distance to the perturbed pass's. Over several states it is the mean of the per-state measures,
/// so λ weighs an average layer, not a sum over layers.
/// </summary>
internal sealed record HiddenStateConsistency(ConsistencyMeasure Measure, int From, int To)
{
    /// <summary>Whether the forward passes must return hidden states (all measures but logit KL).</summary>
    public bool NeedsHidden => Measure != ConsistencyMeasure.LogitKl;

    /// <summary>Response positions: labels != -100, unshifted, as the official code does. (B, T) bool</summary>
    public static Tensor ResponseMask(TokenBatch batch) => batch.Labels! != TrainingExample.IgnoreIndex;

    /// <summary>The detached clean quantities the consistency compares against: response rows of the chosen states, or logits.</summary>
    public Tensor[] Reference(CausalLMOutput clean, Tensor response)
    {
        if (!NeedsHidden) return new[] { clean.Logits[response].detach() }; // (N, V)
        var states = new Tensor[To - From + 1];
        for (int i = From; i <= To; i++) states[i - From] = clean.HiddenStates![i][response].detach(); // (N, C)
        return states;
    }

    /// <summary>The consistency of <paramref name="perturbed"/> with <paramref name="reference"/> (a scalar, float32 or float64).</summary>
    public Tensor Between(CausalLMOutput perturbed, Tensor[] reference, Tensor response, Device device)
    {
        if (!NeedsHidden)
        {
            var pLog = perturbed.Logits[response].to(Wide(perturbed.Logits)).log_softmax(-1); // (N, V)
            var qLog = reference[0].to(Wide(reference[0])).log_softmax(-1);
            return (qLog.exp() * (qLog - pLog)).sum(-1).mean();
        }
        Tensor total = zeros(1, dtype: Wide(reference[0]), device: device).squeeze();
        for (int i = From; i <= To; i++)
        {
            var p = perturbed.HiddenStates![i][response]; // (N, C)
            var q = reference[i - From];
            total = total + (Measure == ConsistencyMeasure.Cosine
                ? 1 - nn.functional.cosine_similarity(p.to(Wide(p)), q.to(Wide(q)), dim: -1).mean()
                : (p - q).to(Wide(p)).pow(2).mean());
        }
        return total / (To - From + 1);
    }

    /// <summary>
    /// How far the perturbed states moved, relative to the clean ones (a float64 scalar): √(consistency / mean of the
    /// reference's squares) for MSE, √(2 · consistency) (about the angle) for cosine; null for logit KL.
    /// </summary>
    public Tensor? RelativeChange(Tensor consistency, Tensor[] reference)
    {
        using var _ = no_grad();
        var c = consistency.detach().to(ScalarType.Float64);
        return Measure switch
        {
            ConsistencyMeasure.Mse => (c / stack(reference.Select(q => q.to(Wide(q)).pow(2).mean().to(ScalarType.Float64)).ToArray()).mean()
                .clamp_min(double.Epsilon)).sqrt(),
            ConsistencyMeasure.Cosine => (c * 2).clamp_min(0).sqrt(),
            _ => null,
        };
    }

    static ScalarType Wide(Tensor t) => t.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
}
