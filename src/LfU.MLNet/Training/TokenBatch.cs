using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>A right-padded training batch of token ids. All tensors (B, T) int64.</summary>
/// <param name="InputIds">Token ids.</param>
/// <param name="AttentionMask">1 for real tokens, 0 for padding.</param>
/// <param name="Labels">Targets (unshifted; the loss shifts), -100 where nothing is learnt (prompt, padding).</param>
public sealed record TokenBatch(Tensor InputIds, Tensor AttentionMask, Tensor Labels) : IDisposable
{
    /// <summary>Number of predicted tokens: labels after the shift that are not -100.</summary>
    public long PredictedTokens()
    {
        using var _ = NewDisposeScope();
        return (Labels[.., 1..] != -100).sum().item<long>();
    }

    /// <summary>Copies the batch to a device.</summary>
    public TokenBatch To(Device device) => new(InputIds.to(device), AttentionMask.to(device), Labels.to(device));

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        Labels.Dispose();
    }
}

/// <summary>Losses of one (micro-)batch, as plain numbers.</summary>
/// <param name="Sft">Mean cross-entropy over response tokens.</param>
/// <param name="Consistency">LfU's consistency loss (before λ), when the objective has one.</param>
/// <param name="AscentGradNorm">‖g‖₂ of LfU's ascent gradient.</param>
/// <param name="Penalty">The L1/L2 penalty (after its weight).</param>
/// <param name="Total">The loss whose gradient was taken.</param>
public sealed record StepLosses(double Sft, double? Consistency, double? AscentGradNorm, double? Penalty, double Total);
