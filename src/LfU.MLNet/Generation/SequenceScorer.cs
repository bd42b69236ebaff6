using LfU.MLNet.Model;
using static TorchSharp.torch;

namespace LfU.MLNet.Generation;

/// <summary>Log-probability of responses given prompts, under the model.</summary>
public static class SequenceScorer
{
    /// <summary>
    /// Sums and means the log-probabilities of the label tokens of each row (labels -100 are ignored).
    /// inputIds, attentionMask, labels: (B, T), right-padded, as produced for training.
    /// </summary>
    public static (double Mean, double Total)[] Score(CausalLM model, Tensor inputIds, Tensor attentionMask, Tensor labels)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var device = model.Device;
        var logits = model.Forward(inputIds.to(device), new ForwardOptions { AttentionMask = attentionMask.to(device) }).Logits;
        var logp = logits[.., ..^1, ..].to(ScalarType.Float64).log_softmax(-1); // (B, T-1, V)
        var target = labels.to(device)[.., 1..];                                 // (B, T-1)
        var valid = target != -100;
        var picked = logp.gather(-1, target.clamp_min(0).unsqueeze(-1)).squeeze(-1) * valid; // (B, T-1)
        var totals = picked.sum(1).to(CPU).data<double>().ToArray();
        var counts = valid.sum(1).to(CPU).data<long>().ToArray();
        var result = new (double, double)[totals.Length];
        for (int b = 0; b < totals.Length; b++)
            result[b] = (counts[b] > 0 ? totals[b] / counts[b] : double.NaN, totals[b]);
        return result;
    }
}
