namespace LfU.MLNet.Tokenization;

/// <summary>Options of <see cref="ExampleBuilder"/>.</summary>
public sealed record ExampleBuilderOptions
{
    /// <summary>The default <see cref="CutoffLength"/>.</summary>
    public const int DefaultCutoffLength = 512;

    /// <summary>Maximum tokens per example (prompt + response + end token). Default 512.</summary>
    public int CutoffLength { get; init; } = DefaultCutoffLength;

    /// <summary>Also take the loss on prompt tokens (default: only on the response).</summary>
    public bool TrainOnPrompt { get; init; }
}
