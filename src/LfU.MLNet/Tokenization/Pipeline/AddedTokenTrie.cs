namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>
/// Added tokens in a prefix tree, so that finding the longest one at a text position costs the length of the match,
/// not the number of tokens: 200,000 added tokens sharing a first char must not make tokenization quadratic.
/// </summary>
internal sealed class AddedTokenTrie
{
    // Node 0 is the root; an edge is keyed by (node, char). Flat tables keep 10^6 nodes cheap.
    readonly Dictionary<long, int> _children = new();
    readonly List<AddedToken?> _tokenAt = [null];

    public AddedTokenTrie(IEnumerable<AddedToken> tokens)
    {
        foreach (AddedToken token in tokens)
        {
            if (token.Content.Length == 0) continue;
            int node = 0;
            foreach (char c in token.Content)
            {
                long edge = Edge(node, c);
                if (!_children.TryGetValue(edge, out int child))
                {
                    child = _tokenAt.Count;
                    _tokenAt.Add(null);
                    _children.Add(edge, child);
                }
                node = child;
            }
            _tokenAt[node] ??= token;  // of two tokens with the same content, the first listed wins
        }
    }

    public bool IsEmpty => _children.Count == 0;

    /// <summary>
    /// The longest token that starts at <paramref name="start"/> and, when it is <c>single_word</c>, stands as a whole
    /// word there; null when none does.
    /// </summary>
    public AddedToken? LongestAt(string text, int start)
    {
        AddedToken? longest = null;
        int node = 0;
        for (int i = start; i < text.Length && _children.TryGetValue(Edge(node, text[i]), out node); i++)
        {
            if (_tokenAt[node] is { } token && (!token.SingleWord || IsWholeWord(text, start, i + 1 - start)))
                longest = token;
        }
        return longest;
    }

    static long Edge(int node, char c) => ((long)node << 16) | c;

    static bool IsWholeWord(string text, int start, int length)
    {
        bool wordBefore = start > 0 && char.IsLetterOrDigit(text[start - 1]);
        bool wordAfter = start + length < text.Length && char.IsLetterOrDigit(text[start + length]);
        return !wordBefore && !wordAfter;
    }
}
