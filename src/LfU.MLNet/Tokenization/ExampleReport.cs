namespace LfU.MLNet.Tokenization;

/// <summary>Why an example was left out.</summary>
public sealed record SkippedExample(int Index, string Reason);

/// <summary>What <see cref="ExampleBuilder"/> did: never drops or cuts an example without counting it here.</summary>
public sealed class ExampleReport
{
    readonly List<SkippedExample> _skipped = new();

    /// <summary>Examples seen.</summary>
    public int Total { get; internal set; }

    /// <summary>Examples kept, truncated or not.</summary>
    public int Kept => Total - _skipped.Count;

    /// <summary>Kept examples that were cut to the cutoff length.</summary>
    public int Truncated { get; internal set; }

    /// <summary>Examples left out, with the reason.</summary>
    public IReadOnlyList<SkippedExample> Skipped => _skipped;

    internal void Skip(int index, string reason) => _skipped.Add(new SkippedExample(index, reason));

    /// <summary>One line for logs, e.g. "100 examples: 97 kept (3 truncated to 512 tokens), 3 skipped (3 empty response)".</summary>
    public string Summary(int cutoffLength)
    {
        string skipped = _skipped.Count == 0 ? "none skipped"
            : $"{_skipped.Count} skipped (" + string.Join(", ", _skipped.GroupBy(s => s.Reason).Select(g => $"{g.Count()} {g.Key}")) + ")";
        return $"{Total} examples: {Kept} kept ({Truncated} truncated to {cutoffLength} tokens), {skipped}";
    }
}
