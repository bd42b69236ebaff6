using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>
/// Runs a Rust (<c>regex</c>/<c>fancy-regex</c>) pattern, as Hugging Face tokenizers do, on .NET's regex engine.
/// Two differences matter for tokenizer patterns and are bridged here:
/// <list type="bullet">
/// <item>Rust matches code points, .NET matches UTF-16 units: a supplementary char (emoji, CJK extension B,
/// math letters) would be two "chars" that <c>\p{L}</c> or <c>[^\s\p{L}\p{N}]?</c> see separately. The text is
/// therefore matched in a folded form where each supplementary code point becomes one BMP stand-in char of the
/// same Unicode general category, and match spans are mapped back to the original text.</item>
/// <item>Syntax: possessive quantifiers (<c>x++</c>) become atomic groups, <c>$</c> (end of text in Rust) becomes
/// <c>\z</c>, <c>\x{…}</c> escapes become UTF-16 literals, and <c>\w</c> uses Rust's wider Unicode definition.</item>
/// </list>
/// Tokenizer patterns need lookahead (<c>\s+(?!\S)</c>) and atomic groups, which .NET's non-backtracking engine does
/// not support, so they run on the backtracking engine under <see cref="MatchTimeout"/>: a pattern from a file that
/// backtracks catastrophically (<c>(a+)+$</c>) fails within seconds, naming the pattern and the file. The timeout
/// check costs about a quarter of the matching time, so the well-known patterns in <see cref="VettedPatterns"/>
/// (quantifiers only on single classes, each alternative linear) run without it.
/// </summary>
internal sealed class RustRegex
{
    /// <summary>Far above what a tokenizer pattern needs for one match (microseconds), far below a hang.</summary>
    internal static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    /// <summary>GPT-2 (the ByteLevel pre-tokenizer's own), Llama 3, and Qwen2/2.5/3.</summary>
    internal static readonly HashSet<string> VettedPatterns = new(StringComparer.Ordinal)
    {
        ByteLevelPreTokenizer.Gpt2Pattern,
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    };

    readonly Regex _regex;
    readonly string _fieldPath;

    public string Pattern { get; }

    public RustRegex(string rustPattern, string fieldPath)
    {
        Pattern = rustPattern;
        _fieldPath = fieldPath;
        string translated = Translate(rustPattern, fieldPath);
        try
        {
            _regex = new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.Compiled,
                VettedPatterns.Contains(rustPattern) ? Regex.InfiniteMatchTimeout : MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{fieldPath}: the regex '{rustPattern}' is not supported here ({e.Message}).");
        }
    }

    /// <summary>Non-overlapping, non-empty matches as (start, length) in UTF-16 units of <paramref name="text"/>.</summary>
    public List<(int Start, int Length)> Matches(string text)
    {
        try
        {
            return MatchesUnbounded(text);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new InvalidDataException(
                $"{_fieldPath}: the regex '{Pattern}' took over {MatchTimeout.TotalSeconds:0} s on a text of {text.Length} characters " +
                "(catastrophic backtracking); fix the pattern in the tokenizer file, e.g. with possessive quantifiers or atomic groups.");
        }
    }

    List<(int Start, int Length)> MatchesUnbounded(string text)
    {
        var result = new List<(int, int)>();
        if (!HasSurrogates(text))
        {
            foreach (Match m in _regex.Matches(text))
                if (m.Length > 0) result.Add((m.Index, m.Length));
            return result;
        }

        // Fold supplementary code points to one stand-in char each; foldedToOriginal[i] is where folded char i begins.
        var folded = new StringBuilder(text.Length);
        var foldedToOriginal = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            foldedToOriginal.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                folded.Append(StandIn(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))));
                i++;
            }
            else folded.Append(text[i]);
        }
        foldedToOriginal.Add(text.Length);

        foreach (Match m in _regex.Matches(folded.ToString()))
        {
            if (m.Length == 0) continue;
            int start = foldedToOriginal[m.Index];
            result.Add((start, foldedToOriginal[m.Index + m.Length] - start));
        }
        return result;
    }

    static bool HasSurrogates(string text)
    {
        foreach (char c in text) if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>
    /// A BMP char of the given category, chosen from blocks that tokenizer patterns do not name literally, so that a
    /// folded supplementary char matches exactly the classes the original code point matches.
    /// </summary>
    static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u10A0',      // Georgian capital An
        UnicodeCategory.LowercaseLetter => '\u0561',      // Armenian small ayb
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u0800',          // Samaritan letter alaf
        UnicodeCategory.NonSpacingMark => '\u0816',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0966',   // Devanagari digit zero
        UnicodeCategory.LetterNumber => '\u16EE',
        UnicodeCategory.OtherNumber => '\u09F4',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u058A',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u2E02',
        UnicodeCategory.FinalQuotePunctuation => '\u2E03',
        UnicodeCategory.OtherPunctuation => '\u055A',
        UnicodeCategory.MathSymbol => '\u2A00',
        UnicodeCategory.CurrencySymbol => '\u058F',
        UnicodeCategory.ModifierSymbol => '\u02C2',
        UnicodeCategory.OtherSymbol => '\u058D',
        UnicodeCategory.Format => '\u0600',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378',                                     // unassigned
    };

    /// <summary>Rewrites the Rust syntax that .NET reads differently; see the class remarks.</summary>
    internal static string Translate(string pattern, string fieldPath)
    {
        const string RustWordClassBody = @"\p{L}\p{M}\p{Nd}\p{Pc}\p{Nl}\u200C\u200D";
        var output = new StringBuilder(pattern.Length + 16);
        var groupStarts = new Stack<int>();
        int lastAtomStart = -1;
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            int atomStart = output.Length;
            switch (c)
            {
                case '\\':
                {
                    if (i + 1 >= pattern.Length) throw Bad("ends with a lone backslash");
                    char e = pattern[i + 1];
                    if (e == 'x' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                    {
                        int close = pattern.IndexOf('}', i + 3);
                        if (close < 0) throw Bad("has an unterminated \\x{...} escape");
                        int codePoint = int.Parse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        foreach (char unit in char.ConvertFromUtf32(codePoint)) output.Append($"\\u{(int)unit:X4}");
                        i = close + 1;
                    }
                    else if (e == 'w') { output.Append('[').Append(RustWordClassBody).Append(']'); i += 2; }
                    else if (e == 'W') { output.Append("[^").Append(RustWordClassBody).Append(']'); i += 2; }
                    else if (e is 'p' or 'P' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                    {
                        int close = pattern.IndexOf('}', i + 3);
                        if (close < 0) throw Bad("has an unterminated \\p{...} class");
                        output.Append(pattern, i, close + 1 - i);
                        i = close + 1;
                    }
                    else { output.Append(c).Append(e); i += 2; }
                    lastAtomStart = atomStart;
                    continue;
                }
                case '[':
                {
                    int end = CopyClass(pattern, i, output, RustWordClassBody, fieldPath);
                    i = end;
                    lastAtomStart = atomStart;
                    continue;
                }
                case '(':
                {
                    int prefixEnd = GroupPrefixEnd(pattern, i);
                    string prefix = pattern[i..prefixEnd];
                    i = prefixEnd;
                    if (prefix.EndsWith(')'))
                    {
                        output.Append(prefix);  // a flag setting such as (?i), not a group
                        lastAtomStart = -1;
                        continue;
                    }
                    groupStarts.Push(output.Length);
                    output.Append(prefix.StartsWith("(?P<", StringComparison.Ordinal) ? "(?<" + prefix[4..] : prefix);
                    lastAtomStart = -1;
                    continue;
                }
                case ')':
                    if (groupStarts.Count == 0) throw Bad("has an unbalanced ')'");
                    output.Append(c);
                    i++;
                    lastAtomStart = groupStarts.Pop();
                    continue;
                case '$':
                    output.Append(@"\z");
                    i++;
                    lastAtomStart = -1;
                    continue;
                case '*' or '+' or '?' or '{':
                {
                    int quantifierEnd = c == '{' ? pattern.IndexOf('}', i) + 1 : i + 1;
                    if (quantifierEnd <= 0) throw Bad("has an unterminated {n,m} quantifier");
                    string quantifier = pattern[i..quantifierEnd];
                    if (quantifierEnd < pattern.Length && pattern[quantifierEnd] == '+')
                    {
                        if (lastAtomStart < 0) throw Bad($"has a possessive quantifier '{quantifier}+' with nothing before it");
                        output.Insert(lastAtomStart, "(?>").Append(quantifier).Append(')');
                        i = quantifierEnd + 1;
                    }
                    else
                    {
                        output.Append(quantifier);
                        i = quantifierEnd;
                        if (i < pattern.Length && pattern[i] == '?') { output.Append('?'); i++; }  // lazy
                    }
                    lastAtomStart = -1;
                    continue;
                }
                case '|':
                    output.Append(c);
                    i++;
                    lastAtomStart = -1;
                    continue;
                default:
                    output.Append(c);
                    i++;
                    lastAtomStart = atomStart;
                    continue;
            }
        }
        return output.ToString();

        InvalidDataException Bad(string what) => new($"{fieldPath}: the regex '{pattern}' {what}.");
    }

    /// <summary>
    /// The end of a group's opening: "(" alone, "(?:", "(?=", "(?!", "(?&lt;=", "(?&lt;!", "(?P&lt;name&gt;", "(?i:" or a
    /// bare flag setting "(?i)".
    /// </summary>
    static int GroupPrefixEnd(string pattern, int open)
    {
        if (open + 1 >= pattern.Length || pattern[open + 1] != '?') return open + 1;
        int i = open + 2;
        if (i < pattern.Length && pattern[i] is '=' or '!' or ':') return i + 1;
        if (i + 1 < pattern.Length && pattern[i] == '<' && pattern[i + 1] is '=' or '!') return i + 2;
        if (pattern.AsSpan(i).StartsWith("P<") || (i < pattern.Length && pattern[i] == '<'))
        {
            int close = pattern.IndexOf('>', i);
            return close < 0 ? pattern.Length : close + 1;
        }
        while (i < pattern.Length && pattern[i] != ':' && pattern[i] != ')') i++;
        return Math.Min(i + 1, pattern.Length);
    }

    /// <summary>Copies a bracket class starting at <paramref name="start"/>; returns the index after its ']'.</summary>
    static int CopyClass(string pattern, int start, StringBuilder output, string wordClassBody, string fieldPath)
    {
        int i = start + 1;
        output.Append('[');
        if (i < pattern.Length && pattern[i] == '^') { output.Append('^'); i++; }
        if (i < pattern.Length && pattern[i] == ']') { output.Append(@"\]"); i++; }  // a leading ']' is literal
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == ']') { output.Append(']'); return i + 1; }
            if (c == '[')
                throw new InvalidDataException($"{fieldPath}: the regex '{pattern}' uses a nested character class, which is not supported.");
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char e = pattern[i + 1];
                if (e == 'w') { output.Append(wordClassBody); i += 2; continue; }
                if (e == 'x' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    int close = pattern.IndexOf('}', i + 3);
                    if (close < 0) break;
                    int codePoint = int.Parse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    if (codePoint > 0xFFFF)
                        throw new InvalidDataException($"{fieldPath}: the regex '{pattern}' puts a supplementary code point in a character class, which is not supported.");
                    output.Append($"\\u{codePoint:X4}");
                    i = close + 1;
                    continue;
                }
                output.Append(c).Append(e);
                i += 2;
                continue;
            }
            output.Append(c);
            i++;
        }
        throw new InvalidDataException($"{fieldPath}: the regex '{pattern}' has an unterminated character class.");
    }
}
