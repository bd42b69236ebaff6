namespace LfU.MLNet.Generation;

/// <summary>How the next token is chosen.</summary>
public sealed record SamplingOptions
{
    /// <summary>0 (default) picks the most likely token (greedy); higher values flatten the distribution.</summary>
    public double Temperature { get; init; }
    /// <summary>Keep the smallest set of tokens whose probabilities sum to at least this (1 = off).</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Keep only the k most likely tokens (0 = off).</summary>
    public int TopK { get; init; }
    /// <summary>Seed of the sampling random generator, for reproducible samples.</summary>
    public long Seed { get; init; } = 42;

    internal bool IsGreedy => Temperature <= 0;
}
