using System.Collections.Concurrent;
using System.Text;

namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>
/// Hugging Face's BPE model: a word's chars (code points) become vocabulary symbols, then the adjacent pair with the
/// lowest merge rank (leftmost on ties) is merged until no listed merge applies. Handles <c>ignore_merges</c>
/// (a word already in the vocabulary is one token), <c>byte_fallback</c> (unknown chars become &lt;0xAB&gt; tokens)
/// and <c>unk_token</c>/<c>fuse_unk</c>.
/// </summary>
internal sealed class BpeModel
{
    const int MaxCachedWordLength = 256;
    const int MaxCacheEntries = 100_000;

    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<long, (int Rank, int MergedId)> _merges;
    readonly int? _unknownId;
    readonly bool _fuseUnknown, _byteFallback, _ignoreMerges;
    readonly int[]? _byteTokenIds;
    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    BpeModel(Dictionary<string, int> vocab, Dictionary<long, (int, int)> merges, int? unknownId, bool fuseUnknown, bool byteFallback, bool ignoreMerges)
    {
        _vocab = vocab;
        _merges = merges;
        _unknownId = unknownId;
        _fuseUnknown = fuseUnknown;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
        if (byteFallback)
        {
            _byteTokenIds = new int[256];
            for (int b = 0; b < 256; b++) _byteTokenIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        }
    }

    public static BpeModel FromJson(JsonFields model)
    {
        if (model.Type != "BPE") throw model.Unsupported("model types", model.Type, "BPE");
        if (model.TryField("dropout") is { } dropout && dropout.AsNumber() != 0)
            throw dropout.Error("must be null or 0 for inference (BPE dropout is a training-time augmentation)");
        foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.OptionalString(affix) is { Length: > 0 })
                throw model.Field(affix).Error("is not supported (only byte-level and SentencePiece-style BPE are)");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, value) in model.Field("vocab").Properties())
            vocab[token] = value.AsTokenId();

        var merges = new Dictionary<long, (int, int)>();
        int rank = 0;
        foreach (JsonFields merge in model.Field("merges").Items())
        {
            (string left, string right) = ParseMerge(merge);
            int leftId = vocab.TryGetValue(left, out int l) ? l : throw merge.Error($"names '{left}', which is not in model.vocab");
            int rightId = vocab.TryGetValue(right, out int r) ? r : throw merge.Error($"names '{right}', which is not in model.vocab");
            int mergedId = vocab.TryGetValue(left + right, out int m) ? m : throw merge.Error($"makes '{left + right}', which is not in model.vocab");
            merges.TryAdd(PairKey(leftId, rightId), (rank++, mergedId));
        }

        int? unknownId = null;
        if (model.OptionalString("unk_token") is { } unk)
            unknownId = vocab.TryGetValue(unk, out int u) ? u : throw model.Field("unk_token").Error($"'{unk}' is not in model.vocab");

        return new BpeModel(vocab, merges, unknownId, model.Bool("fuse_unk", false), model.Bool("byte_fallback", false), model.Bool("ignore_merges", false));
    }

    static (string, string) ParseMerge(JsonFields merge)
    {
        if (merge.Element.ValueKind == System.Text.Json.JsonValueKind.String)
        {
            string line = merge.Element.GetString()!;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw merge.Error($"'{line}' must be two tokens separated by one space");
            return (line[..space], line[(space + 1)..]);
        }
        var parts = merge.Items().Select(p => p.Element.ValueKind == System.Text.Json.JsonValueKind.String ? p.Element.GetString()! : throw p.Error("must be a string")).ToArray();
        return parts.Length == 2 ? (parts[0], parts[1]) : throw merge.Error("must be a pair [left, right]");
    }

    static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Appends the ids of one pre-tokenized word.</summary>
    public void EncodeWord(string word, List<int> ids)
    {
        if (word.Length == 0) return;
        if (_ignoreMerges && _vocab.TryGetValue(word, out int whole)) { ids.Add(whole); return; }
        if (_cache.TryGetValue(word, out int[]? cached)) { ids.AddRange(cached); return; }

        List<int> symbols = InitialSymbols(word);
        MergeAll(symbols);
        if (word.Length <= MaxCachedWordLength && _cache.Count < MaxCacheEntries) _cache[word] = symbols.ToArray();
        ids.AddRange(symbols);
    }

    List<int> InitialSymbols(string word)
    {
        var symbols = new List<int>(word.Length);
        bool previousWasUnknown = false;
        for (int i = 0; i < word.Length; i++)
        {
            int length = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            string ch = word.Substring(i, length);
            i += length - 1;
            if (_vocab.TryGetValue(ch, out int id)) { symbols.Add(id); previousWasUnknown = false; continue; }
            if (_byteFallback && TryAddBytes(ch, symbols)) { previousWasUnknown = false; continue; }
            if (_unknownId is int unk)
            {
                if (!(_fuseUnknown && previousWasUnknown)) symbols.Add(unk);
                previousWasUnknown = true;
            }
            // With neither byte fallback nor an unknown token, Hugging Face drops the char; so do we.
        }
        return symbols;
    }

    bool TryAddBytes(string ch, List<int> symbols)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(ch);
        foreach (byte b in bytes) if (_byteTokenIds![b] < 0) return false;
        foreach (byte b in bytes) symbols.Add(_byteTokenIds![b]);
        return true;
    }

    void MergeAll(List<int> symbols)
    {
        while (symbols.Count > 1)
        {
            int bestAt = -1, bestRank = int.MaxValue, bestId = 0;
            for (int i = 0; i + 1 < symbols.Count; i++)
            {
                if (_merges.TryGetValue(PairKey(symbols[i], symbols[i + 1]), out var merge) && merge.Rank < bestRank)
                    (bestAt, bestRank, bestId) = (i, merge.Rank, merge.MergedId);
            }
            if (bestAt < 0) return;
            symbols[bestAt] = bestId;
            symbols.RemoveAt(bestAt + 1);
        }
    }
}
