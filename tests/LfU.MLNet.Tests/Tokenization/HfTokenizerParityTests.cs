using System.Text.Json;
using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

/// <summary>Every fixture case must match Hugging Face tokenizers exactly, for Llama 3 and Qwen3.</summary>
public class HfTokenizerParityTests
{
    public static IEnumerable<object[]> AllCases() => TokenizerFixtures.Cases("llama3").Concat(TokenizerFixtures.Cases("qwen3"));

    [Theory]
    [MemberData(nameof(AllCases))]
    public void EncodesAndDecodesLikeHuggingFace(string tokenizerName, int caseIndex)
    {
        JsonElement c = TokenizerFixtures.Fixture(tokenizerName).GetProperty("cases")[caseIndex];
        HfTokenizer tokenizer = TokenizerFixtures.Tokenizer(tokenizerName);
        string text = c.GetProperty("text").GetString()!;

        int[] withSpecial = tokenizer.Encode(text, addSpecialTokens: true);
        Assert.Equal(TokenizerFixtures.Ints(c.GetProperty("ids_no_special")), tokenizer.Encode(text, addSpecialTokens: false));
        Assert.Equal(TokenizerFixtures.Ints(c.GetProperty("ids_with_special")), withSpecial);
        Assert.Equal(c.GetProperty("decoded").GetString(), tokenizer.Decode(withSpecial, skipSpecialTokens: true));
    }

    [Fact]
    public void Llama3SpecialTokensAndSizes()
    {
        HfTokenizer llama = TokenizerFixtures.Tokenizer("llama3");
        Assert.Equal(128256, llama.VocabularySize);
        Assert.Equal(128000, llama.BosId);
        Assert.Equal(128001, llama.EosId);
        Assert.Contains(128009, llama.EosIds);  // <|eot_id|> ends a chat turn
        Assert.Equal(128001, llama.PadId);      // no pad_token: falls back to EOS and says so
        Assert.Contains(llama.Warnings, w => w.Contains("pad_token"));
        Assert.Equal(128009, llama.TokenToId("<|eot_id|>"));
        Assert.Equal("Ġthe", llama.IdToToken(279));
    }

    [Fact]
    public void Qwen3SpecialTokensAndSizes()
    {
        HfTokenizer qwen = TokenizerFixtures.Tokenizer("qwen3");
        Assert.Equal(151669, qwen.VocabularySize);
        Assert.Null(qwen.BosId);
        Assert.Equal(151645, qwen.EosId);
        Assert.Equal(151643, qwen.PadId);
        Assert.Empty(qwen.Warnings);
    }

    [Theory]
    [InlineData("llama3", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", new[] { 128006, 882, 128007, 271, 13347, 128009 })]
    [InlineData("qwen3", "<|im_start|>user\nHi<|im_end|>", new[] { 151644, 872, 198, 13048, 151645 })]
    public void SpecialTokensInTextAreSingleTokensAndSkippedOnDecode(string name, string text, int[] expected)
    {
        HfTokenizer tokenizer = TokenizerFixtures.Tokenizer(name);
        int[] ids = tokenizer.Encode(text, addSpecialTokens: false);
        Assert.Equal(expected, ids);
        Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: false));
        Assert.DoesNotContain("<|", tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void DecodingASplitMultibyteCharGivesTheReplacementCharLikeHuggingFace()
    {
        HfTokenizer qwen = TokenizerFixtures.Tokenizer("qwen3");
        int[] ids = qwen.Encode("😀", addSpecialTokens: false);
        Assert.True(ids.Length >= 1);
        Assert.Equal("😀", qwen.Decode(ids));
        // The first byte-level token of "é" alone (0xC3) is not valid UTF-8.
        Assert.Equal("\uFFFD", qwen.Decode([qwen.TokenToId("Ã")!.Value]));
    }
}
