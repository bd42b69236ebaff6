using System.Text;
using System.Text.RegularExpressions;
using LfU.MLNet.Benchmark;

namespace LfU.MLNet.Tokenization;

/// <summary>
/// Trains a byte-level BPE tokenizer in the GPT-2 / Llama 3 style: text is split by Llama 3's pre-tokenizer regex,
/// each piece's UTF-8 bytes are mapped to printable characters (ByteLevel), and merges are learnt by pair frequency.
/// The result is saved as a Hugging Face <c>tokenizer.json</c> with the structure of Llama 3's.
/// </summary>
internal static partial class BpeTrainer
{
    public const string BeginOfText = "<|begin_of_text|>";
    public const string EndOfText = "<|end_of_text|>";
    public const string Pad = "<|pad|>";

    /// <summary>Special tokens, given the last ids of the vocabulary in this order.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = [BeginOfText, EndOfText, Pad];

    /// <summary>The 256 byte tokens and the special tokens.</summary>
    public static int MinimumVocabSize => ByteToUnicode.Count + SpecialTokens.Count;

    /// <summary>Llama 3's pre-tokenizer pattern (contractions, letter runs, 1-3 digit groups, punctuation, spaces).</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's pattern: Llama 3's with one digit per piece, so that numbers are spelt digit by digit, which
    /// makes arithmetic far easier to learn for a small model.</summary>
    public const string SingleDigitPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Llama3Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Llama3Regex();

    [GeneratedRegex(SingleDigitPattern, RegexOptions.CultureInvariant)]
    private static partial Regex SingleDigitRegex();

    /// <summary>The pre-tokenizer pattern: <see cref="SingleDigitPattern"/> when <paramref name="splitDigits"/>, else <see cref="Llama3Pattern"/>.</summary>
    public static string PreTokenizerPattern(bool splitDigits) => splitDigits ? SingleDigitPattern : Llama3Pattern;

    /// <summary>GPT-2's byte-to-character map: printable Latin-1 bytes map to themselves, the others to U+0100 onwards.</summary>
    public static IReadOnlyList<char> ByteToUnicode { get; } = BuildByteToUnicode();

    static char[] BuildByteToUnicode()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    /// <summary>
    /// Splits text like the tokenizer.json pre-tokenizer: the regex's matches and the text between them (Split with
    /// behavior Isolated), each mapped to byte-level characters.
    /// </summary>
    public static IEnumerable<string> PreTokenize(string text, bool splitDigits = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        int position = 0;
        foreach (Match match in (splitDigits ? SingleDigitRegex() : Llama3Regex()).Matches(text))
        {
            if (match.Index > position) yield return ToByteLevel(text[position..match.Index]);
            if (match.Length > 0) yield return ToByteLevel(match.Value);
            position = match.Index + match.Length;
        }
        if (position < text.Length) yield return ToByteLevel(text[position..]);
    }

    static string ToByteLevel(string piece)
    {
        var builder = new StringBuilder(piece.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(piece)) builder.Append(ByteToUnicode[b]);
        return builder.ToString();
    }

    /// <summary>
    /// Learns merges on <paramref name="documents"/> until the vocabulary, special tokens included, has exactly
    /// <paramref name="vocabSize"/> entries. The most frequent adjacent pair is merged first; ties go to the pair whose
    /// left then right token is smaller in ordinal order, so the result depends on the corpus alone.
    /// </summary>
    /// <param name="documents">The training texts.</param>
    /// <param name="vocabSize">The exact vocabulary size, special tokens included.</param>
    /// <param name="splitDigits">Pre-tokenize digits one by one (<see cref="SingleDigitPattern"/>) instead of in
    /// groups of up to three as Llama 3 does.</param>
    public static TrainedBpe Train(IEnumerable<string> documents, int vocabSize, bool splitDigits = false)
    {
        ArgumentNullException.ThrowIfNull(documents);
        if (vocabSize < MinimumVocabSize)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize,
                $"The vocabulary size must be at least {MinimumVocabSize} (256 bytes and {SpecialTokens.Count} special tokens), got {vocabSize}.");

        var pieceCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string document in documents)
            foreach (string piece in PreTokenize(document ?? throw new ArgumentException("The corpus contains a null document.", nameof(documents)), splitDigits))
                pieceCounts[piece] = pieceCounts.GetValueOrDefault(piece) + 1;

        var tokens = new List<string>(vocabSize);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (char c in ByteToUnicode)
        {
            ids[c.ToString()] = tokens.Count;
            tokens.Add(c.ToString());
        }

        // Pieces sorted so that the word order, and with it every intermediate state, is independent of hashing.
        var words = pieceCounts.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new Word(p.Key.Select(c => ids[c.ToString()]).ToList(), p.Value)).ToList();
        var pairCounts = new Dictionary<(int Left, int Right), long>();
        var pairWords = new Dictionary<(int Left, int Right), HashSet<int>>();
        for (int w = 0; w < words.Count; w++) AddPairs(words[w], w, +1, pairCounts, pairWords);

        var merges = new List<(string Left, string Right)>();
        int targetTokens = vocabSize - SpecialTokens.Count;
        while (tokens.Count < targetTokens)
        {
            (int Left, int Right)? best = null;
            long bestCount = 0;
            foreach (var (pair, count) in pairCounts)
            {
                if (count > bestCount || count == bestCount && count > 0 && ComesFirst(pair, best!.Value, tokens))
                {
                    best = pair;
                    bestCount = count;
                }
            }
            if (best is not { } chosen)
                throw new ArgumentException(
                    $"The corpus is too small for a vocabulary of {vocabSize}: it has no pair left to merge at {tokens.Count + SpecialTokens.Count} tokens. Use a smaller vocabulary size or a larger corpus.",
                    nameof(documents));

            string merged = tokens[chosen.Left] + tokens[chosen.Right];
            if (!ids.TryGetValue(merged, out int mergedId))
            {
                // Two different pairs can spell the same token ("ab"+"c", "a"+"bc"): both merges map to one id.
                mergedId = tokens.Count;
                ids[merged] = mergedId;
                tokens.Add(merged);
            }
            merges.Add((tokens[chosen.Left], tokens[chosen.Right]));

            foreach (int w in pairWords[chosen].Order().ToList())
            {
                var word = words[w];
                if (!word.Contains(chosen)) continue;
                AddPairs(word, w, -1, pairCounts, pairWords);
                word.Merge(chosen, mergedId);
                AddPairs(word, w, +1, pairCounts, pairWords);
            }
            pairCounts.Remove(chosen);
            pairWords.Remove(chosen);
        }
        return new TrainedBpe(tokens, merges, PreTokenizerPattern(splitDigits));
    }

    static bool ComesFirst((int Left, int Right) candidate, (int Left, int Right) current, List<string> tokens)
    {
        int byLeft = string.CompareOrdinal(tokens[candidate.Left], tokens[current.Left]);
        return byLeft < 0 || byLeft == 0 && string.CompareOrdinal(tokens[candidate.Right], tokens[current.Right]) < 0;
    }

    static void AddPairs(Word word, int index, int sign, Dictionary<(int, int), long> pairCounts, Dictionary<(int, int), HashSet<int>> pairWords)
    {
        var symbols = word.Symbols;
        for (int i = 0; i + 1 < symbols.Count; i++)
        {
            var pair = (symbols[i], symbols[i + 1]);
            long count = pairCounts.GetValueOrDefault(pair) + sign * word.Count;
            if (count == 0) pairCounts.Remove(pair);
            else pairCounts[pair] = count;
            if (sign > 0)
            {
                if (!pairWords.TryGetValue(pair, out var set)) pairWords[pair] = set = [];
                set.Add(index);
            }
        }
    }

    /// <summary>A distinct pre-tokenized piece: its current symbols (token ids) and how often it occurs.</summary>
    sealed class Word(List<int> symbols, long count)
    {
        public List<int> Symbols { get; } = symbols;
        public long Count { get; } = count;

        public bool Contains((int Left, int Right) pair)
        {
            for (int i = 0; i + 1 < Symbols.Count; i++)
                if (Symbols[i] == pair.Left && Symbols[i + 1] == pair.Right) return true;
            return false;
        }

        /// <summary>Replaces non-overlapping occurrences from left to right, as encoding by merge rank does.</summary>
        public void Merge((int Left, int Right) pair, int merged)
        {
            for (int i = 0; i + 1 < Symbols.Count; i++)
            {
                if (Symbols[i] == pair.Left && Symbols[i + 1] == pair.Right)
                {
                    Symbols[i] = merged;
                    Symbols.RemoveAt(i + 1);
                }
            }
        }
    }
}
