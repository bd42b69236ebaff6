namespace LfU.MLNet.Objectives;

/// <summary>Which batch LfU-LoRA's ascent gradient is taken on.</summary>
public enum AscentBatchMode
{
    /// <summary>The training batch itself: the clean backward already gives the direction (2 forward + 2 backward).</summary>
    SameBatch,
    /// <summary>Another batch drawn from the training data, as the official code does (3 forward + 3 backward).</summary>
    IndependentBatch,
}
