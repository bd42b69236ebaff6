using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LfU.MLNet.Evaluation;

/// <summary>Answer extraction and normalisation shared by the evaluators.</summary>
internal static partial class AnswerNormalization
{
    private const string FinalAnswerMarker = "####";

    // A number: optional sign, optional '$', digits with well-formed thousands separators (or none), optional
    // decimals. A trailing sentence period is not part of it ("is 5." -> "5").
    [GeneratedRegex(@"(?:(?<!\w)(?<sign>[-+]))?\$?(?<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?<frac>\.\d+)?", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>
    /// The final numeric answer of <paramref name="text"/>, normalised (GSM8K convention): the first number after the
    /// last <c>####</c> when the text has that marker, otherwise the last number in the text; null when there is none.
    /// </summary>
    public static string? ExtractFinalNumber(string text)
    {
        int marker = text.LastIndexOf(FinalAnswerMarker, StringComparison.Ordinal);
        if (marker >= 0)
        {
            var first = NumberPattern().Match(text, marker + FinalAnswerMarker.Length);
            return first.Success ? Normalize(first) : null;
        }
        Match? last = null;
        for (var m = NumberPattern().Match(text); m.Success; m = m.NextMatch())
            last = m;
        return last is null ? null : Normalize(last);
    }

    /// <summary>Canonical form of a matched number: no '+', '$' or separators, no trailing decimal zeros ("1,234.50" -> "1234.5").</summary>
    private static string Normalize(Match number)
    {
        string digits = number.Groups["int"].Value.Replace(",", "", StringComparison.Ordinal);
        string fraction = number.Groups["frac"].Value.TrimEnd('0');
        if (fraction == ".")
            fraction = "";
        digits = digits.TrimStart('0');
        if (digits.Length == 0)
            digits = "0";
        bool negative = number.Groups["sign"].Value == "-" && (digits != "0" || fraction.Length > 0);
        return (negative ? "-" : "") + digits + fraction;
    }

    /// <summary>Case-folded, trimmed, whitespace runs collapsed to one space, trailing punctuation removed.</summary>
    public static string NormalizeText(string text)
    {
        string collapsed = Whitespace().Replace(text.Trim(), " ").ToLowerInvariant();
        int end = collapsed.Length;
        while (end > 0 && (char.IsPunctuation(collapsed[end - 1]) || char.IsWhiteSpace(collapsed[end - 1])))
            end--;
        return collapsed[..end];
    }
}
