namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>
/// Finds added tokens in text the way Hugging Face does: leftmost-longest matching, first for tokens matched on raw
/// text, then (after normalization) for tokens with <c>normalized: true</c>; honours lstrip/rstrip/single_word.
/// </summary>
internal sealed class AddedVocabulary
{
    readonly AddedTokenTrie _raw;
    readonly AddedTokenTrie _normalized;

    public IReadOnlyList<AddedToken> Tokens { get; }

    public AddedVocabulary(IEnumerable<AddedToken> tokens)
    {
        Tokens = tokens.ToList();
        _raw = new AddedTokenTrie(Tokens.Where(t => !t.Normalized));
        _normalized = new AddedTokenTrie(Tokens.Where(t => t.Normalized));
    }

    /// <summary>Splits <paramref name="text"/> around raw-matched added tokens.</summary>
    public List<TextSegment> SplitRaw(string text) => Split(text, _raw, atTextStart: true);

    /// <summary>Splits an already normalized plain segment around normalized-matched added tokens.</summary>
    public List<TextSegment> SplitNormalized(TextSegment segment) =>
        _normalized.IsEmpty ? [segment] : Split(segment.Text, _normalized, segment.AtTextStart);

    static List<TextSegment> Split(string text, AddedTokenTrie tokens, bool atTextStart)
    {
        var segments = new List<TextSegment>();
        if (tokens.IsEmpty) { segments.Add(new TextSegment(text, null, atTextStart)); return segments; }

        int plainStart = 0, i = 0;
        while (i < text.Length)
        {
            AddedToken? found = tokens.LongestAt(text, i);
            if (found is null) { i++; continue; }

            int start = i, end = i + found.Content.Length;
            if (found.LeftStrip) while (start > plainStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (found.RightStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > plainStart) segments.Add(new TextSegment(text[plainStart..start], null, atTextStart && plainStart == 0));
            segments.Add(new TextSegment(found.Content, found.Id, false));
            plainStart = i = end;
        }
        if (plainStart < text.Length) segments.Add(new TextSegment(text[plainStart..], null, atTextStart && plainStart == 0));
        return segments;
    }
}
