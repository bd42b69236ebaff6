using System.Text.Json.Serialization;

namespace LfU.MLNet;

/// <summary>
/// How text is generated (<see cref="Generation.TextGenerator"/>, and so <c>LfUModel</c> and <c>LfUTransformer</c>, which saves it with the model).
/// </summary>
public sealed class GenerationSettings
{
    /// <summary>Maximum number of tokens generated after the prompt. Default 128; must be at least 1.</summary>
    public int MaxNewTokens { get; set; } = 128;

    /// <summary>
    /// Sampling temperature. 0 (the default) decodes greedily; larger values sample from the softmax of
    /// logits / temperature. Must not be negative.
    /// </summary>
    public double Temperature { get; set; }

    /// <summary>
    /// Nucleus sampling: sample only among the most likely tokens whose probabilities add up to this value.
    /// In (0, 1]; 1 (the default) disables it. Ignored when <see cref="Temperature"/> is 0.
    /// </summary>
    public double TopP { get; set; } = 1.0;

    /// <summary>
    /// Sample only among the this many most likely tokens; 0 (the default) disables it. Must not be negative.
    /// Ignored when <see cref="Temperature"/> is 0.
    /// </summary>
    public int TopK { get; set; }

    /// <summary>
    /// Seed of the sampler, for reproducible sampling: the same prompts, in the same batches, with the same seed give the
    /// same text (each batch starts from this seed). Null (the default) picks a random seed per batch.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>
    /// Generation of a sequence stops when its output ends with one of these strings; the stop string is not
    /// included in the output. Generation also stops at the model's end-of-sequence token. Empty by default.
    /// </summary>
    public IReadOnlyList<string> StopStrings { get; set; } = [];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    internal void Validate()
    {
        if (MaxNewTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "MaxNewTokens must be at least 1.");
        if (!(Temperature >= 0) || double.IsInfinity(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a finite number >= 0 (0 = greedy).");
        if (!(TopP > 0 && TopP <= 1))
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1] (1 = disabled).");
        if (TopK < 0)
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be >= 0 (0 = disabled).");
        if (StopStrings is null || StopStrings.Any(string.IsNullOrEmpty))
            throw new ArgumentOutOfRangeException(nameof(StopStrings), "StopStrings must not be null or contain null or empty strings.");
    }

    /// <summary>A deep copy, so that a transformer's settings cannot change behind its back.</summary>
    internal GenerationSettings Clone() => new()
    {
        MaxNewTokens = MaxNewTokens,
        Temperature = Temperature,
        TopP = TopP,
        TopK = TopK,
        Seed = Seed,
        StopStrings = StopStrings.ToArray(),
    };
}
