using System.Text;

namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>A Hugging Face normalizer: rewrites a text segment before pre-tokenization.</summary>
internal abstract class TextNormalizer
{
    public abstract string Normalize(string text);

    const string Supported = "NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence";

    public static TextNormalizer? FromJson(JsonFields? json)
    {
        if (json is not { } n) return null;
        return n.Type switch
        {
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            "Prepend" => new PrependNormalizer(n.String("prepend")),
            "Replace" => new ReplaceNormalizer(StringOrRegex.FromJson(n.Field("pattern")), n.String("content")),
            "Sequence" => new SequenceNormalizer(n.Field("normalizers").Items().Select(item => FromJson(item)!).ToArray()),
            string other => throw n.Unsupported("normalizers", other, Supported),
        };
    }
}

sealed class UnicodeNormalizer(NormalizationForm form) : TextNormalizer
{
    public override string Normalize(string text) => text.Normalize(form);
}

sealed class LowercaseNormalizer : TextNormalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();
}

/// <summary>Prepends a string to every non-empty segment (legacy Llama 2 files prepend "▁").</summary>
sealed class PrependNormalizer(string prefix) : TextNormalizer
{
    public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}

sealed class ReplaceNormalizer(StringOrRegex pattern, string content) : TextNormalizer
{
    public override string Normalize(string text) => pattern.ReplaceAll(text, content);
}

sealed class SequenceNormalizer(TextNormalizer[] steps) : TextNormalizer
{
    public override string Normalize(string text)
    {
        foreach (TextNormalizer step in steps) text = step.Normalize(text);
        return text;
    }
}

/// <summary>The <c>{"String": ...}</c> or <c>{"Regex": ...}</c> pattern object used by Split and Replace.</summary>
internal sealed class StringOrRegex
{
    readonly string? _literal;
    readonly RustRegex? _regex;

    StringOrRegex(string? literal, RustRegex? regex) { _literal = literal; _regex = regex; }

    public static StringOrRegex FromJson(JsonFields pattern)
    {
        if (pattern.TryField("String") is not null) return new StringOrRegex(pattern.String("String"), null);
        if (pattern.TryField("Regex") is { } regex)
            return new StringOrRegex(null, new RustRegex(pattern.String("Regex"), $"{pattern.File}: {regex.Path}"));
        throw pattern.Error("must be {\"String\": ...} or {\"Regex\": ...}");
    }

    /// <summary>Non-overlapping, non-empty matches as (start, length).</summary>
    public List<(int Start, int Length)> Matches(string text)
    {
        if (_regex is not null) return _regex.Matches(text);
        var result = new List<(int, int)>();
        if (_literal!.Length == 0) return result;
        for (int at = text.IndexOf(_literal, StringComparison.Ordinal); at >= 0; at = text.IndexOf(_literal, at + _literal.Length, StringComparison.Ordinal))
            result.Add((at, _literal.Length));
        return result;
    }

    public string ReplaceAll(string text, string content)
    {
        var output = new StringBuilder(text.Length);
        int last = 0;
        foreach (var (start, length) in Matches(text))
        {
            output.Append(text, last, start - last).Append(content);
            last = start + length;
        }
        return output.Append(text, last, text.Length - last).ToString();
    }
}
