using LfU.MLNet.Adapters;
using LfU.MLNet.Objectives;

namespace LfU.MLNet.Training;

/// <summary>Which weights training updates.</summary>
public enum FineTuning
{
    /// <summary>A LoRA adapter on the block projections; the base weights stay frozen.</summary>
    Lora,
    /// <summary>Every base weight (float32 master copies are kept when the model is in half precision).</summary>
    Full,
}
