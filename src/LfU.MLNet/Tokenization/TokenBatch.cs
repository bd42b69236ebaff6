using static TorchSharp.torch;

namespace LfU.MLNet.Tokenization;

/// <summary>A padded batch of int64 tensors, each (B, T). Dispose it to free the tensors.</summary>
public sealed class TokenBatch : IDisposable
{
    /// <summary>Token ids, (B, T); padding holds the pad id.</summary>
    public Tensor InputIds { get; }

    /// <summary>1 on real tokens, 0 on padding, (B, T).</summary>
    public Tensor AttentionMask { get; }

    /// <summary>Labels (B, T) with -100 on prompt and padding; null for generation batches.</summary>
    public Tensor? Labels { get; }

    /// <summary>Positions (B, T) of packed rows, where each example counts from 0; null for one example per row.</summary>
    public Tensor? PositionIds { get; }

    /// <summary>Wraps existing tensors (all (B, T) int64); the batch owns them from now on.</summary>
    public TokenBatch(Tensor inputIds, Tensor attentionMask, Tensor? labels, Tensor? positionIds = null)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        Labels = labels;
        PositionIds = positionIds;
    }

    /// <summary>Number of predicted tokens: labels after the one-position shift that are not -100.</summary>
    public long PredictedTokens()
    {
        if (Labels is null) return 0;
        using var _ = NewDisposeScope();
        return (Labels[.., 1..] != TrainingExample.IgnoreIndex).sum().item<long>();
    }

    /// <summary>A copy of the batch on <paramref name="device"/>.</summary>
    public TokenBatch To(Device device) => new(InputIds.to(device), AttentionMask.to(device), Labels?.to(device), PositionIds?.to(device));

    /// <inheritdoc/>
    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        Labels?.Dispose();
        PositionIds?.Dispose();
    }
}
