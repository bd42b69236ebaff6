namespace LfU.MLNet.Tokenization;

/// <summary>One tokenized training example: input ids and labels (-100 where no loss is taken), same length.</summary>
public sealed record TrainingExample(int[] InputIds, int[] Labels)
{
    /// <summary>Label value ignored by the loss (PyTorch's cross-entropy ignore_index).</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Positions of a packed row (see <see cref="SequencePacker"/>): each example it holds counts from 0 again; null
    /// for a single example (positions 0, 1, 2, …).
    /// </summary>
    public int[]? PositionIds { get; init; }
}
