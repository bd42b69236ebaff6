namespace LfU.MLNet.Training;

/// <summary>Which weights training updates; also how a trained model was adapted (<c>LfUModel.Mode</c>).</summary>
public enum FineTuning
{
    /// <summary>A LoRA adapter on the block projections; the base weights stay frozen.</summary>
    Lora,
    /// <summary>Every base weight (float32 master copies are kept when the model is in half precision).</summary>
    Full,
}
