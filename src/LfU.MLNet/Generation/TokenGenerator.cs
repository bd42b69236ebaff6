using LfU.MLNet.Model;
using static TorchSharp.torch;

namespace LfU.MLNet.Generation;

/// <summary>
/// Autoregressive decoding with a KV cache: one prefill pass over the (left-padded) prompts, then one position per step.
/// </summary>
public static class TokenGenerator
{
    /// <summary>
    /// Generates up to <paramref name="maxNewTokens"/> tokens for each row of a left-padded batch.
    /// Returns each row's new tokens, stopping after (and excluding) the first end-of-sequence token.
    /// </summary>
    /// <param name="model">The model; run under no_grad.</param>
    /// <param name="inputIds">(B, T) prompt ids, left-padded.</param>
    /// <param name="attentionMask">(B, T) 1 for prompt tokens, 0 for padding.</param>
    /// <param name="maxNewTokens">Most tokens generated per row.</param>
    /// <param name="sampling">Greedy (default) or sampling settings.</param>
    /// <param name="eosIds">Tokens that end a row; empty to always generate <paramref name="maxNewTokens"/>.</param>
    /// <param name="padId">Token fed to rows that have finished.</param>
    /// <param name="shouldStop">Optional check on a row's tokens so far (e.g. a stop string); true ends that row.</param>
    /// <param name="cancellationToken">Checked before every decoding step.</param>
    public static long[][] Generate(CausalLM model, Tensor inputIds, Tensor attentionMask, int maxNewTokens,
        SamplingOptions? sampling = null, IReadOnlyCollection<int>? eosIds = null, long padId = 0,
        Func<int, IReadOnlyList<long>, bool>? shouldStop = null, CancellationToken cancellationToken = default)
    {
        sampling ??= new SamplingOptions();
        eosIds ??= Array.Empty<int>();
        long B = inputIds.shape[0];
        var produced = Enumerable.Range(0, (int)B).Select(_ => new List<long>()).ToArray();
        var done = new bool[B];
        if (maxNewTokens <= 0) return produced.Select(p => p.ToArray()).ToArray();

        using var noGrad = no_grad();
        using var cache = new KvCache(model.LayerCount);
        using var rng = sampling.IsGreedy ? null : SeededRandom.Create(sampling.Seed);
        var device = model.Device;
        var next = inputIds.to(device);
        var mask = attentionMask.to(device);
        for (int step = 0; step < maxNewTokens; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var logits = model.Forward(next, new ForwardOptions { AttentionMask = mask, Cache = cache, LastPositionOnly = true }).Logits[.., -1, ..]; // (B, V)
            var chosen = Choose(logits, sampling, rng);                                   // (B,)
            long[] ids = chosen.to(CPU).data<long>().ToArray();
            for (int b = 0; b < B; b++)
            {
                if (done[b]) { ids[b] = padId; continue; }
                if (eosIds.Contains((int)ids[b])) { done[b] = true; continue; }
                produced[b].Add(ids[b]);
                if (shouldStop?.Invoke(b, produced[b]) == true) done[b] = true;
            }
            if (done.All(d => d)) break;
            next = tensor(ids, new[] { B, 1L }, dtype: ScalarType.Int64, device: device).MoveToOuterDisposeScope();
            mask = ones(B, 1, dtype: ScalarType.Int64, device: device).MoveToOuterDisposeScope();
        }
        return produced.Select(p => p.ToArray()).ToArray();
    }

    /// <summary>Greedy argmax, or temperature / top-k / top-p sampling. logits: (B, V) → (B,)</summary>
    internal static Tensor Choose(Tensor logits, SamplingOptions s, Generator? rng)
    {
        if (s.IsGreedy) return logits.argmax(-1);
        var scaled = logits.to(ScalarType.Float32) / s.Temperature;
        if (s.TopK > 0 && s.TopK < scaled.shape[^1])
        {
            var kth = scaled.topk(s.TopK, -1).values[.., ^1..];  // (B, 1)
            scaled = scaled.masked_fill(scaled < kth, double.NegativeInfinity);
        }
        if (s.TopP < 1.0)
        {
            var (sorted, order) = scaled.sort(-1, descending: true);
            var cumulative = sorted.softmax(-1).cumsum(-1);
            // Drop a token when the tokens before it already reach top_p (the first token always stays).
            var drop = (cumulative - sorted.softmax(-1)) >= s.TopP;
            var dropInOriginalOrder = zeros_like(drop).scatter(-1, order, drop);
            scaled = scaled.masked_fill(dropInOriginalOrder, double.NegativeInfinity);
        }
        return SeededRandom.Multinomial(scaled.softmax(-1), rng!).squeeze(-1); // not greedy, so the caller made a generator
    }
}
