namespace LfU.MLNet;

/// <summary>The transformer's settings as stored in a saved model.</summary>
internal sealed record TransformerManifest
{
    public required string ModelKind { get; init; }
    public required LfUColumnNames Columns { get; init; }
    public required GenerationSettings Generation { get; init; }
    public required int BatchSize { get; init; }
}
