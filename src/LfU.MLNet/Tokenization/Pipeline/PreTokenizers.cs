namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>A piece of a text segment; <see cref="AtTextStart"/> whether it begins the whole input (Hugging Face: "original offset is 0").</summary>
internal readonly record struct Piece(string Text, bool AtTextStart);

/// <summary>A Hugging Face pre-tokenizer: splits (and may rewrite) pieces before the model sees them.</summary>
internal abstract class TextPreTokenizer
{
    public abstract void Split(Piece piece, List<Piece> output);

    const string Supported = "Split, ByteLevel, Metaspace, Digits, Sequence";

    public static TextPreTokenizer? FromJson(JsonFields? json)
    {
        if (json is not { } p) return null;
        switch (p.Type)
        {
            case "Split":
                if (p.Bool("invert", false)) throw p.Field("invert").Error("true is not supported");
                return new SplitPreTokenizer(StringOrRegex.FromJson(p.Field("pattern")), ParseBehavior(p.Field("behavior")));
            case "ByteLevel":
                return new ByteLevelPreTokenizer(p.Bool("add_prefix_space", true), p.Bool("use_regex", true), p.File);
            case "Metaspace":
                return new MetaspacePreTokenizer(MetaspaceReplacement(p), MetaspacePrependScheme(p), p.Bool("split", true));
            case "Digits":
                return new DigitsPreTokenizer(p.Bool("individual_digits", false));
            case "Sequence":
                return new SequencePreTokenizer(p.Field("pretokenizers").Items().Select(item => FromJson(item)!).ToArray());
            default:
                throw p.Unsupported("pre-tokenizers", p.Type, Supported);
        }
    }

    internal static char MetaspaceReplacement(JsonFields json)
    {
        string replacement = json.String("replacement");
        return replacement.Length == 1 ? replacement[0] : throw json.Field("replacement").Error("must be a single character");
    }

    internal static MetaspacePrepend MetaspacePrependScheme(JsonFields json)
    {
        if (json.OptionalString("prepend_scheme") is { } scheme)
        {
            return scheme switch
            {
                "always" => MetaspacePrepend.Always,
                "first" => MetaspacePrepend.First,
                "never" => MetaspacePrepend.Never,
                _ => throw json.Field("prepend_scheme").Error($"'{scheme}' is not one of always, first, never"),
            };
        }
        return json.Bool("add_prefix_space", true) ? MetaspacePrepend.Always : MetaspacePrepend.Never;  // older files
    }

    static SplitBehavior ParseBehavior(JsonFields behavior) => (behavior.Element.ValueKind == System.Text.Json.JsonValueKind.String ? behavior.Element.GetString() : behavior.Shown) switch
    {
        "Isolated" => SplitBehavior.Isolated,
        "Removed" => SplitBehavior.Removed,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        var other => throw behavior.Error($"'{other}' is not supported (supported: Isolated, Removed, MergedWithPrevious, MergedWithNext)"),
    };

    /// <summary>Cuts a piece at the given delimiter matches, treating the delimiters as <paramref name="behavior"/> says.</summary>
    internal static void SplitAt(Piece piece, List<(int Start, int Length)> matches, SplitBehavior behavior, List<Piece> output)
    {
        string text = piece.Text;
        var spans = new List<(int Start, int End)>();
        int last = 0;
        foreach (var (start, length) in matches)
        {
            int end = start + length;
            switch (behavior)
            {
                case SplitBehavior.Isolated:
                    if (start > last) spans.Add((last, start));
                    spans.Add((start, end));
                    last = end;
                    break;
                case SplitBehavior.Removed:
                    if (start > last) spans.Add((last, start));
                    last = end;
                    break;
                case SplitBehavior.MergedWithPrevious:
                    spans.Add((last, end));
                    last = end;
                    break;
                case SplitBehavior.MergedWithNext:
                    if (start > last) spans.Add((last, start));
                    last = start;
                    break;
            }
        }
        if (last < text.Length) spans.Add((last, text.Length));
        foreach (var (start, end) in spans)
            if (end > start) output.Add(new Piece(text[start..end], piece.AtTextStart && start == 0));
    }
}

internal enum SplitBehavior { Isolated, Removed, MergedWithPrevious, MergedWithNext }

internal enum MetaspacePrepend { Always, First, Never }

sealed class SplitPreTokenizer(StringOrRegex pattern, SplitBehavior behavior) : TextPreTokenizer
{
    public override void Split(Piece piece, List<Piece> output) => SplitAt(piece, pattern.Matches(piece.Text), behavior, output);
}

/// <summary>Byte-level: optional GPT-2 regex split, then every piece rewritten in the byte-level alphabet.</summary>
sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, string file) : TextPreTokenizer
{
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    readonly RustRegex? _regex = useRegex ? new RustRegex(Gpt2Pattern, $"{file}: ByteLevel pre-tokenizer") : null;

    public override void Split(Piece piece, List<Piece> output)
    {
        string text = addPrefixSpace && !piece.Text.StartsWith(' ') ? " " + piece.Text : piece.Text;
        var pieces = new List<Piece>();
        if (_regex is null) pieces.Add(piece with { Text = text });
        else SplitAt(piece with { Text = text }, _regex.Matches(text), SplitBehavior.Isolated, pieces);
        foreach (Piece p in pieces) output.Add(p with { Text = ByteLevelAlphabet.Encode(p.Text) });
    }
}

/// <summary>SentencePiece convention: spaces become '▁', a '▁' is prepended as the scheme says, optional split.</summary>
sealed class MetaspacePreTokenizer(char replacement, MetaspacePrepend prepend, bool split) : TextPreTokenizer
{
    public override void Split(Piece piece, List<Piece> output)
    {
        string text = piece.Text.Replace(' ', replacement);
        bool needsPrefix = !text.StartsWith(replacement);
        if (needsPrefix && (prepend == MetaspacePrepend.Always || (prepend == MetaspacePrepend.First && piece.AtTextStart)))
            text = replacement + text;
        if (!split) { output.Add(piece with { Text = text }); return; }
        var matches = new List<(int, int)>();
        for (int i = 0; i < text.Length; i++) if (text[i] == replacement) matches.Add((i, 1));
        SplitAt(piece with { Text = text }, matches, SplitBehavior.MergedWithNext, output);
    }
}

sealed class DigitsPreTokenizer(bool individualDigits) : TextPreTokenizer
{
    public override void Split(Piece piece, List<Piece> output)
    {
        var matches = new List<(int, int)>();
        string text = piece.Text;
        for (int i = 0; i < text.Length;)
        {
            if (!char.IsAsciiDigit(text[i]) && !char.IsDigit(text[i])) { i++; continue; }
            int end = i + 1;
            if (!individualDigits) while (end < text.Length && char.IsDigit(text[end])) end++;
            matches.Add((i, end - i));
            i = end;
        }
        SplitAt(piece, matches, SplitBehavior.Isolated, output);
    }
}

sealed class SequencePreTokenizer(TextPreTokenizer[] steps) : TextPreTokenizer
{
    public override void Split(Piece piece, List<Piece> output)
    {
        var current = new List<Piece> { piece };
        foreach (TextPreTokenizer step in steps)
        {
            var next = new List<Piece>();
            foreach (Piece p in current) step.Split(p, next);
            current = next;
        }
        output.AddRange(current);
    }
}
