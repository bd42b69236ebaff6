using System.Globalization;
using System.Text;

namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>A Hugging Face decoder: turns the token strings of an id sequence back into text pieces.</summary>
internal abstract class TokenDecoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    const string Supported = "ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence";

    public static TokenDecoder? FromJson(JsonFields? json)
    {
        if (json is not { } d) return null;
        return d.Type switch
        {
            "ByteLevel" => new ByteLevelDecoder(),
            "Metaspace" => new MetaspaceDecoder(TextPreTokenizer.MetaspaceReplacement(d), TextPreTokenizer.MetaspacePrependScheme(d)),
            "Replace" => new ReplaceDecoder(StringOrRegex.FromJson(d.Field("pattern")), d.String("content")),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(d.String("content") is { Length: 1 } c ? c[0] : throw d.Field("content").Error("must be a single character"), d.Int("start"), d.Int("stop")),
            "Sequence" => new SequenceDecoder(d.Field("decoders").Items().Select(item => FromJson(item)!).ToArray()),
            string other => throw d.Unsupported("decoders", other, Supported),
        };
    }
}

/// <summary>All tokens' byte-level chars back to bytes, then UTF-8 with U+FFFD for invalid sequences (lossy, as HF).</summary>
sealed class ByteLevelDecoder : TokenDecoder
{
    static readonly UTF8Encoding Lossy = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public override List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (string token in tokens) ByteLevelAlphabet.AppendBytes(token, bytes);
        return [Lossy.GetString(bytes.ToArray())];
    }
}

sealed class MetaspaceDecoder(char replacement, MetaspacePrepend prepend) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            // As HF: in the first token every replacement char is dropped (it can only be the prepended one).
            string spaced = i == 0 && prepend != MetaspacePrepend.Never
                ? tokens[i].Replace(replacement.ToString(), "")
                : tokens[i].Replace(replacement, ' ');
            output.Add(spaced);
        }
        return output;
    }
}

sealed class ReplaceDecoder(StringOrRegex pattern, string content) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(t => pattern.ReplaceAll(t, content)).ToList();
}

/// <summary>Runs of "&lt;0xAB&gt;" tokens become their UTF-8 text, or one U+FFFD per byte token if invalid (as HF).</summary>
sealed class ByteFallbackDecoder : TokenDecoder
{
    static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (string token in tokens)
        {
            if (TryParseByteToken(token, out byte b)) { pending.Add(b); continue; }
            Flush();
            output.Add(token);
        }
        Flush();
        return output;

        void Flush()
        {
            if (pending.Count == 0) return;
            try { output.Add(Strict.GetString(pending.ToArray())); }
            catch (DecoderFallbackException) { for (int i = 0; i < pending.Count; i++) output.Add("\uFFFD"); }
            pending.Clear();
        }
    }

    internal static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }
}

sealed class FuseDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

/// <summary>Removes up to <c>start</c> leading and <c>stop</c> trailing occurrences of a char from each token.</summary>
sealed class StripDecoder(char c, int start, int stop) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        return tokens.Select(token =>
        {
            int from = 0, to = token.Length;
            for (int i = 0; i < start && from < to && token[from] == c; i++) from++;
            for (int i = 0; i < stop && to > from && token[to - 1] == c; i++) to--;
            return token[from..to];
        }).ToList();
    }
}

sealed class SequenceDecoder(TokenDecoder[] steps) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (TokenDecoder step in steps) tokens = step.DecodeChain(tokens);
        return tokens;
    }
}
