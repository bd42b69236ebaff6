using System.Text.Json;

namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>The parts of <c>tokenizer_config.json</c> that change tokenization or name special tokens.</summary>
internal sealed record TokenizerConfig(
    string? BosToken, string? EosToken, string? PadToken, bool? AddBosToken, bool? AddEosToken,
    string? ChatTemplate, IReadOnlyList<AddedToken> AddedTokens)
{
    public static TokenizerConfig Parse(JsonDocument? document)
    {
        if (document is null) return new TokenizerConfig(null, null, null, null, null, null, []);
        var root = new JsonFields("tokenizer_config.json", "", document.RootElement);
        if (root.Element.ValueKind != JsonValueKind.Object) throw root.Error("must be a JSON object");

        var added = new List<AddedToken>();
        if (root.TryField("added_tokens_decoder") is { } decoder)
        {
            foreach (var (idText, token) in decoder.Properties())
            {
                if (!int.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) || id == int.MaxValue)
                    throw token.Error($"has the key '{idText}', which is not a token id (an integer from 0 to {int.MaxValue - 1})");
                added.Add(new AddedToken(id, token.String("content"), token.Bool("special", false), token.Bool("normalized", false),
                                         token.Bool("lstrip", false), token.Bool("rstrip", false), token.Bool("single_word", false)));
            }
        }

        return new TokenizerConfig(
            TokenContent(root, "bos_token"), TokenContent(root, "eos_token"), TokenContent(root, "pad_token"),
            root.TryField("add_bos_token") is null ? null : root.Bool("add_bos_token", false),
            root.TryField("add_eos_token") is null ? null : root.Bool("add_eos_token", false),
            ChatTemplateOf(root), added);
    }

    /// <summary>A special token given as a string or as an AddedToken object <c>{"content": ...}</c>.</summary>
    static string? TokenContent(JsonFields root, string name)
    {
        if (root.TryField(name) is not { } field) return null;
        return field.Element.ValueKind switch
        {
            JsonValueKind.String => field.Element.GetString(),
            JsonValueKind.Object => field.String("content"),
            _ => throw field.Error("must be a string or an object with \"content\""),
        };
    }

    /// <summary>The chat template: a string, or a list of named templates of which "default" is used.</summary>
    static string? ChatTemplateOf(JsonFields root)
    {
        if (root.TryField("chat_template") is not { } field) return null;
        if (field.Element.ValueKind == JsonValueKind.String) return field.Element.GetString();
        foreach (JsonFields named in field.Items())
            if (named.String("name") == "default") return named.String("template");
        return null;
    }
}
