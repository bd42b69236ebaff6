using LfU.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Tokenization;

/// <summary>
/// Pads variable-length examples into batches: to the longest sequence rounded up to a multiple of
/// <c>padMultiple</c> (8 by default, which suits tensor cores). Right padding for training; left padding for batched
/// generation, so every prompt ends at the last position.
/// </summary>
public sealed class Collator
{
    readonly int _padId;
    readonly int _padMultiple;

    /// <param name="padId">Id written into padded positions (masked out, so any valid id works).</param>
    /// <param name="padMultiple">Round the padded length up to a multiple of this (1 = no rounding).</param>
    public Collator(int padId, int padMultiple = 8)
    {
        if (padId < 0) throw new ArgumentOutOfRangeException(nameof(padId), padId, "The pad id must be a valid (non-negative) token id.");
        if (padMultiple < 1) throw new ArgumentOutOfRangeException(nameof(padMultiple), padMultiple, "padMultiple must be at least 1.");
        _padId = padId;
        _padMultiple = padMultiple;
    }

    /// <summary>A collator padding with the tokenizer's <see cref="HfTokenizer.PadId"/>.</summary>
    public Collator(HfTokenizer tokenizer, int padMultiple = 8) : this(tokenizer.PadId, padMultiple) { }

    /// <summary>
    /// Right-padded training batch with input_ids, attention_mask and labels, and position_ids when the rows are packed
    /// (padding then gets position 0, so it belongs to no example).
    /// </summary>
    public TokenBatch CollateForTraining(IReadOnlyList<TrainingExample> examples)
    {
        RequireNonEmpty(examples.Select(e => e.InputIds).ToList(), nameof(examples));
        int length = PaddedLength(examples.Max(e => e.InputIds.Length));
        bool packed = examples.Any(e => e.PositionIds is not null);
        var ids = new long[examples.Count * length];
        var mask = new long[ids.Length];
        var labels = new long[ids.Length];
        var positions = packed ? new long[ids.Length] : null;
        Array.Fill(ids, _padId);
        Array.Fill(labels, TrainingExample.IgnoreIndex);
        for (int b = 0; b < examples.Count; b++)
        {
            TrainingExample e = examples[b];
            if (e.Labels.Length != e.InputIds.Length)
                throw new ArgumentException($"Example {b} has {e.InputIds.Length} input ids but {e.Labels.Length} labels.", nameof(examples));
            if (e.PositionIds is { } p && p.Length != e.InputIds.Length)
                throw new ArgumentException($"Example {b} has {e.InputIds.Length} input ids but {p.Length} position ids.", nameof(examples));
            for (int t = 0; t < e.InputIds.Length; t++)
            {
                int at = b * length + t;
                ids[at] = e.InputIds[t];
                mask[at] = 1;
                labels[at] = e.Labels[t];
                if (positions is not null) positions[at] = e.PositionIds?[t] ?? t;
            }
        }
        return MakeBatch(ids, mask, labels, examples.Count, length, positions);
    }

    /// <summary>Left-padded prompts for batched generation: input_ids and attention_mask, no labels.</summary>
    public TokenBatch CollatePrompts(IReadOnlyList<int[]> prompts)
    {
        RequireNonEmpty(prompts, nameof(prompts));
        int length = PaddedLength(prompts.Max(p => p.Length));
        var ids = new long[prompts.Count * length];
        var mask = new long[ids.Length];
        Array.Fill(ids, _padId);
        for (int b = 0; b < prompts.Count; b++)
        {
            int offset = b * length + length - prompts[b].Length;
            for (int t = 0; t < prompts[b].Length; t++)
            {
                ids[offset + t] = prompts[b][t];
                mask[offset + t] = 1;
            }
        }
        return MakeBatch(ids, mask, null, prompts.Count, length);
    }

    int PaddedLength(int longest) => (longest + _padMultiple - 1) / _padMultiple * _padMultiple;

    static void RequireNonEmpty(IReadOnlyList<int[]> sequences, string name)
    {
        if (sequences.Count == 0) throw new ArgumentException("Cannot collate an empty batch.", name);
        for (int i = 0; i < sequences.Count; i++)
            if (sequences[i].Length == 0) throw new ArgumentException($"Sequence {i} of the batch is empty.", name);
    }

    static TokenBatch MakeBatch(long[] ids, long[] mask, long[]? labels, int batch, int length, long[]? positions = null)
    {
        TorchRuntime.EnsureInitialized();
        long[] shape = [batch, length];  // (B, T)
        return new TokenBatch(
            torch.tensor(ids, shape, ScalarType.Int64),
            torch.tensor(mask, shape, ScalarType.Int64),
            labels is null ? null : torch.tensor(labels, shape, ScalarType.Int64),
            positions is null ? null : torch.tensor(positions, shape, ScalarType.Int64));
    }
}
