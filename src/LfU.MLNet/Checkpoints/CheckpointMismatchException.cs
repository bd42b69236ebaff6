using System.Text;

namespace LfU.MLNet.Checkpoints;

/// <summary>
/// A checkpoint does not fit a model: tensors the model needs are missing, the checkpoint has tensors the model does
/// not know, or shapes differ. All problems are collected before anything is loaded and reported together.
/// </summary>
public sealed class CheckpointMismatchException : Exception
{
    internal CheckpointMismatchException(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<string> shapeMismatches)
        : base(Describe(source, missing, unexpected, shapeMismatches))
    {
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>Names the model has and the checkpoint lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Names the checkpoint has and the model lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>One line per tensor whose shape differs: <c>name: checkpoint [a, b], model [c, d]</c>.</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> shapeMismatches)
    {
        var text = new StringBuilder($"Checkpoint {source} does not match the model");
        if (missing.Count > 0)
            text.Append($"; {missing.Count} tensor(s) missing from the checkpoint: {MismatchReport.List(missing)}");
        if (unexpected.Count > 0)
            text.Append($"; {unexpected.Count} unexpected tensor(s) the model does not have: {MismatchReport.List(unexpected)}");
        if (shapeMismatches.Count > 0)
            text.Append($"; {shapeMismatches.Count} shape mismatch(es): {MismatchReport.List(shapeMismatches)}");
        text.Append(". Check that the model's config.json matches the checkpoint (architecture, sizes, tie_word_embeddings).");
        return text.ToString();
    }
}
