namespace LfU.MLNet;

/// <summary>
/// The language model behind an <see cref="LfUTransformer"/>: generation, scoring and the state needed to rebuild it.
/// Implementations need not be thread-safe: the transformer serialises calls.
/// </summary>
internal interface ITextModel : IDisposable
{
    /// <summary>
    /// Names the <see cref="TextModelLoader"/> registration that rebuilds this model from <see cref="SaveState"/>;
    /// it is written into saved models.
    /// </summary>
    string Kind { get; }

    /// <summary>Batched generation; one output per prompt, in order.</summary>
    IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationSettings settings);

    /// <summary>Mean and total log-probability of each response given its prompt, in order.</summary>
    IReadOnlyList<(double Mean, double Total)> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses);

    /// <summary>
    /// Serialised state to embed in the model zip: named byte blobs (adapter safetensors, options json, tokenizer
    /// files...). Names are opaque keys, never file paths.
    /// </summary>
    IReadOnlyDictionary<string, byte[]> SaveState();
}
