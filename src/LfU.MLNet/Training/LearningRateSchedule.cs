using LfU.MLNet.Adapters;
using LfU.MLNet.Objectives;

namespace LfU.MLNet.Training;

/// <summary>How the learning rate moves over the optimizer steps (Hugging Face's schedules of the same names).</summary>
public enum LearningRateSchedule
{
    /// <summary>Linear warm-up, then half a cosine period down to zero.</summary>
    Cosine,
    /// <summary>Linear warm-up, then a straight line down to zero.</summary>
    Linear,
    /// <summary>Linear warm-up, then the base rate throughout.</summary>
    Constant,
}
