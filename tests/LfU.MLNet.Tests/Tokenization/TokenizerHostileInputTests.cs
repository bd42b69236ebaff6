using System.Diagnostics;
using System.Text.Json.Nodes;
using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

/// <summary>Tokenizer files written to hurt: runaway regexes, impossible ids, wrong value types, many added tokens.</summary>
public sealed partial class TokenizerErrorTests
{
    HfTokenizer Load(Action<JsonObject> edit)
    {
        JsonObject json = SentencePieceJsonTests.BuildTokenizerJson(legacy: false);
        edit(json);
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json.ToJsonString());
        return HfTokenizer.FromFolder(_dir);
    }

    static JsonObject RegexPattern(string regex) => new() { ["Regex"] = regex };

    [Theory]
    [InlineData("pre_tokenizer")]
    [InlineData("normalizer")]
    public void CatastrophicRegexFailsWithinSecondsNamingThePatternAndTheFile(string component)
    {
        var tokenizer = Load(j => j[component] = component == "pre_tokenizer"
            ? new JsonObject { ["type"] = "Split", ["pattern"] = RegexPattern("(a+)+$"), ["behavior"] = "Isolated" }
            : new JsonObject { ["type"] = "Replace", ["pattern"] = RegexPattern("(a+)+$"), ["content"] = "b" });
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<InvalidDataException>(() => tokenizer.Encode(new string('a', 40) + "!"));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.StartsWith($"tokenizer.json: {component}.pattern.Regex: the regex '(a+)+$' took over 2 s", error.Message);
        Assert.Contains("catastrophic backtracking", error.Message);
    }

    [Fact]
    public void OrdinaryRegexStillSplitsUnderTheTimeLimit()
    {
        var tokenizer = Load(j => j["pre_tokenizer"] = new JsonObject { ["type"] = "Split", ["pattern"] = RegexPattern(@"\s+(?!\S)|\s+"), ["behavior"] = "Isolated" });
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("hello world")));
    }

    [Theory]
    [InlineData("-3", "must be a token id (an integer from 0 to 2147483646), not -3")]
    [InlineData("2147483647", "not 2147483647")]
    [InlineData("1.5", "not 1.5")]
    [InlineData("\"5\"", "not \"5\"")]
    [InlineData("null", "is missing")]
    public void AddedTokenIdMustBeATokenIdThatKeepsTheVocabularySizeAnInt(string id, string problem)
    {
        string message = LoadError(j => j["added_tokens"]!.AsArray().Add(JsonNode.Parse($$"""{"id": {{id}}, "content": "<x>", "special": true}""")));
        Assert.StartsWith("tokenizer.json: added_tokens[3].id ", message);
        Assert.Contains(problem, message);
    }

    [Theory]
    [InlineData("\"5\"")]
    [InlineData("-1")]
    [InlineData("1e12")]
    public void VocabIdOfTheWrongTypeOrRangeNamesTheToken(string id)
    {
        string message = LoadError(j => j["model"]!["vocab"]!["h"] = JsonNode.Parse(id));
        Assert.Equal($"tokenizer.json: model.vocab.h must be a token id (an integer from 0 to 2147483646), not {id}.", message);
    }

    [Fact]
    public void DropoutThatIsNotANumberIsNamed()
    {
        Assert.Equal("tokenizer.json: model.dropout must be a number, not \"x\".", LoadError(j => j["model"]!["dropout"] = "x"));
    }

    [Fact]
    public void SplitBehaviorThatIsNotAStringIsNamed()
    {
        string message = LoadError(j => j["pre_tokenizer"] = new JsonObject { ["type"] = "Split", ["pattern"] = RegexPattern(" "), ["behavior"] = 3 });
        Assert.StartsWith("tokenizer.json: pre_tokenizer.behavior '3' is not supported", message);
    }

    [Fact]
    public void PostProcessorIdsOutsideTheVocabularyAreRefused()
    {
        string message = LoadError(j => j["post_processor"]!["special_tokens"]!["<s>"]!["ids"] = new JsonArray(99999));
        Assert.StartsWith("tokenizer.json: post_processor adds token id 99999, which is not in the vocabulary", message);
    }

    [Fact]
    public void DuplicateKeysAreRefusedNamingTheKey()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), SentencePieceJsonTests.BuildTokenizerJson(legacy: false).ToJsonString());
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"eos_token": "</s>", "eos_token": "<s>"}""");
        string message = Assert.Throws<InvalidDataException>(() => HfTokenizer.FromFolder(_dir)).Message;
        Assert.StartsWith("tokenizer_config.json: not valid JSON", message);
        Assert.Contains("eos_token", message);
    }

    [Theory]
    [InlineData("[null]", "eos_token_id[0]")]
    [InlineData("1.5", "eos_token_id")]
    [InlineData("\"x\"", "eos_token_id")]
    [InlineData("-2", "eos_token_id")]
    public void GenerationConfigEosOfTheWrongTypeIsNamed(string eos, string field)
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), SentencePieceJsonTests.BuildTokenizerJson(legacy: false).ToJsonString());
        File.WriteAllText(Path.Combine(_dir, "generation_config.json"), $$"""{"eos_token_id": {{eos}}}""");
        string message = Assert.Throws<InvalidDataException>(() => HfTokenizer.FromFolder(_dir)).Message;
        Assert.StartsWith($"generation_config.json: {field} must be a token id", message);
    }

    [Fact]
    public void ManyAddedTokensSharingAFirstCharDoNotMakeTokenizationQuadratic()
    {
        var tokenizer = Load(j =>
        {
            var added = j["added_tokens"]!.AsArray();
            for (int i = 0; i < 200_000; i++) added.Add(new JsonObject { ["id"] = 300 + i, ["content"] = $"<tok{i}>", ["special"] = false });
        });
        string text = string.Concat(Enumerable.Repeat("<tok7> <to", 500));  // 5,000 chars, each '<' a candidate start
        tokenizer.Encode("warm-up");
        var clock = Stopwatch.StartNew();

        int[] ids = tokenizer.Encode(text, addSpecialTokens: false);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"5,000 characters took {clock.Elapsed}");
        Assert.Equal(500, ids.Count(id => id == 307));
    }

    [Fact]
    public void TheLongestAddedTokenWinsAndSingleWordTokensNeedWordBoundaries()
    {
        var tokenizer = Load(j =>
        {
            var added = j["added_tokens"]!.AsArray();
            added.Add(new JsonObject { ["id"] = 300, ["content"] = "<a>", ["special"] = true });
            added.Add(new JsonObject { ["id"] = 301, ["content"] = "<a><b>", ["special"] = true });
            added.Add(new JsonObject { ["id"] = 302, ["content"] = "wo", ["special"] = true, ["single_word"] = true });
        });
        Assert.Equal([301, 300], tokenizer.Encode("<a><b><a>", addSpecialTokens: false));
        Assert.Contains(302, tokenizer.Encode("hello wo", addSpecialTokens: false));
        Assert.DoesNotContain(302, tokenizer.Encode("hello world", addSpecialTokens: false));
    }

    /// <summary>The real Llama 3 and Qwen3 patterns are vetted, so they skip the timeout check (a quarter of the matching time).</summary>
    [Theory]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    public void RealTokenizerPatternsAreVettedForSpeed(string name)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerFixtures.ModelFolder(name), "tokenizer.json")))!;
        var patterns = json["pre_tokenizer"]!["pretokenizers"]!.AsArray().Select(p => p?["pattern"]?["Regex"]?.GetValue<string>()).OfType<string>().ToList();
        Assert.NotEmpty(patterns);
        Assert.All(patterns, p => Assert.Contains(p, LfU.MLNet.Tokenization.Pipeline.RustRegex.VettedPatterns));
    }
}
