using System.Text.Json.Nodes;
using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

/// <summary>
/// A small Llama 2 style (SentencePiece BPE, byte fallback) tokenizer.json, in both the legacy form
/// (Prepend + Replace normalizer) and the newer Metaspace pre-tokenizer form. Expected ids were produced by
/// Hugging Face tokenizers 0.23 on these exact files.
/// </summary>
public sealed class SentencePieceJsonTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-sp-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    internal static JsonObject BuildTokenizerJson(bool legacy)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        foreach (string t in new[] { "▁", "h", "e", "l", "o", "w", "r", "d", "▁h", "el", "lo", "▁hel", "▁hello", "wo", "wor", "worl", "world", "▁world" })
            vocab[t] = vocab.Count;
        var merges = new JsonArray();
        foreach (var (a, b) in new[] { ("▁", "h"), ("e", "l"), ("l", "o"), ("▁h", "el"), ("▁hel", "lo"), ("w", "o"), ("wo", "r"), ("wor", "l"), ("worl", "d"), ("▁", "world") })
            merges.Add(new JsonArray(a, b));
        var added = new JsonArray();
        foreach (var (id, content) in new[] { (0, "<unk>"), (1, "<s>"), (2, "</s>") })
            added.Add(new JsonObject { ["id"] = id, ["content"] = content, ["special"] = true, ["normalized"] = false });
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = legacy
                ? new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }) }
                : null,
            ["pre_tokenizer"] = legacy ? null
                : new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } },
                                           new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["special_tokens"] = new JsonObject { ["<s>"] = new JsonObject { ["id"] = "<s>", ["ids"] = new JsonArray(1), ["tokens"] = new JsonArray("<s>") } },
            },
            ["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = new JsonArray(
                new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                new JsonObject { ["type"] = "ByteFallback" },
                new JsonObject { ["type"] = "Fuse" },
                new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }) },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["unk_token"] = "<unk>", ["fuse_unk"] = true, ["byte_fallback"] = true, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        };
    }

    HfTokenizer Load(bool legacy)
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), BuildTokenizerJson(legacy).ToJsonString());
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}""");
        return HfTokenizer.FromFolder(_dir);
    }

    [Theory]
    [InlineData(true, "hello world", new[] { 271, 276 }, "hello world")]
    [InlineData(false, "hello world", new[] { 271, 276 }, "hello world")]
    [InlineData(true, "hello  world", new[] { 271, 259, 276 }, "hello  world")]
    [InlineData(true, " hello", new[] { 259, 271 }, " hello")]        // legacy: every segment gets "▁"
    [InlineData(false, " hello", new[] { 271 }, "hello")]             // metaspace: no "▁" added before an existing one
    [InlineData(true, "héllo", new[] { 267, 198, 172, 262, 269 }, "héllo")]  // é -> <0xC3><0xA9>
    [InlineData(true, "日", new[] { 259, 233, 154, 168 }, "日")]
    [InlineData(true, "<s>hello world</s>", new[] { 1, 271, 276, 2 }, "hello world")]
    [InlineData(false, "<s>hello world</s>", new[] { 1, 260, 268, 269, 276, 2 }, "hello world")]  // "first": no "▁" after <s>
    [InlineData(false, "hello<s>world", new[] { 271, 1, 275 }, "helloworld")]
    [InlineData(true, "world hello\u0001", new[] { 276, 271, 4 }, "world hello\u0001")]
    public void MatchesHuggingFace(bool legacy, string text, int[] expected, string decoded)
    {
        HfTokenizer tokenizer = Load(legacy);
        Assert.Equal(expected, tokenizer.Encode(text, addSpecialTokens: false));
        int[] withBos = tokenizer.Encode(text, addSpecialTokens: true);
        Assert.Equal([1, .. expected], withBos);
        Assert.Equal(decoded, tokenizer.Decode(withBos, skipSpecialTokens: true));
    }

    [Fact]
    public void SpecialIdsAndVocabulary()
    {
        HfTokenizer tokenizer = Load(legacy: true);
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        Assert.Equal(2, tokenizer.PadId);
        Assert.Equal(277, tokenizer.VocabularySize);
        Assert.Equal("<s>", tokenizer.Decode([1], skipSpecialTokens: false));
    }
}
