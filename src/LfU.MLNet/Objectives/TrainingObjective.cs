using System.Text.Json.Serialization;

namespace LfU.MLNet.Objectives;

/// <summary>
/// A training objective: the gradient one batch contributes. Each objective is a record of its own settings (with
/// documented defaults) in its own file, and is known by name through <see cref="ObjectiveRegistry"/>, which the
/// estimator, <c>lfu train</c>, <c>lfu bench</c> and the forgetting benchmark all use. All share one training loop.
/// </summary>
[JsonConverter(typeof(TrainingObjectiveJsonConverter))]
public abstract record TrainingObjective
{
    /// <summary>The registry name (e.g. <c>lfu-lora</c>).</summary>
    [JsonIgnore]
    public abstract string Name { get; }

    /// <summary>What one micro-batch costs and needs.</summary>
    [JsonIgnore]
    public abstract ObjectiveCost Cost { get; }

    /// <summary>Checks the settings against a model with <paramref name="layers"/> decoder layers, naming the bad one.</summary>
    public virtual void Validate(int layers) { }

    /// <summary>One line for logs and charts, e.g. <c>LfU (LoRA, α=0.1, λ=5)</c>.</summary>
    public abstract string Describe();

    /// <summary>The per-run state that computes this objective's gradients on <paramref name="context"/>'s model.</summary>
    internal abstract ObjectiveStep CreateStep(ObjectiveContext context);
}
