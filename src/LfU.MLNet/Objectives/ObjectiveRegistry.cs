namespace LfU.MLNet.Objectives;

/// <summary>
/// Every objective by name: the one list the estimator, the CLI, the forgetting benchmark and the step benchmark use.
/// Adding an objective is its own file (a <see cref="TrainingObjective"/> record and its step) plus one line here.
/// </summary>
public static class ObjectiveRegistry
{
    static readonly ObjectiveEntry[] Entries =
    [
        new(SftObjective.RegistryName, "plain supervised fine-tuning", SftObjective.FromParameters),
        new(LfULoraObjective.RegistryName, "LfU, perturbing the LoRA adapter weights (α, λ)", LfULoraObjective.FromParameters),
        new(LfULoraMultiStepObjective.RegistryName, "LfU-LoRA with k ascent steps of α / k (α, λ, k)", LfULoraMultiStepObjective.FromParameters),
        new(LfURepsObjective.RegistryName, "LfU, steering each layer's output (α, λ)", LfURepsObjective.FromParameters),
        new(LfURepsRelativeObjective.RegistryName, "LfU, turning each MLP output by a relative step (α, λ), the official code's form", LfURepsRelativeObjective.FromParameters),
        new(NEFTuneObjective.RegistryName, "noisy input embeddings (noise α)", NEFTuneObjective.FromParameters),
        new(L2Objective.RegistryName, "SFT + weight · Σ‖θ − θ₀‖²", L2Objective.FromParameters),
        new(L1Objective.RegistryName, "SFT + weight · Σ|θ − θ₀|", L1Objective.FromParameters),
    ];

    /// <summary>Every registered objective, in the order help texts list them.</summary>
    public static IReadOnlyList<ObjectiveEntry> All => Entries;

    /// <summary>The registered names.</summary>
    public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    /// <summary>The entry named <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No objective has that name; the message lists the names.</exception>
    public static ObjectiveEntry Find(string name) =>
        Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown objective '{name}'; choose from {string.Join(", ", Names)}.", nameof(name));

    /// <summary>The names of the objectives that use <paramref name="setting"/>, in registry order.</summary>
    public static IReadOnlyList<string> Reading(ObjectiveSetting setting) => Entries.Where(e => e.Reads(setting)).Select(e => e.Name).ToArray();

    /// <summary>The objective named <paramref name="name"/> with <paramref name="parameters"/> (null: its defaults).</summary>
    public static TrainingObjective Create(string name, ObjectiveParameters? parameters = null) => Find(name).Create(parameters ?? new ObjectiveParameters());
}
