using System.Text.Json;
using LfU.Cli;
using LfU.MLNet.Tests.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

/// <summary>The `lfu tokenize` contract, run in-process.</summary>
[Collection("Console")]
public sealed class TokenizeCommandTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-tokcli-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void WritesTheFixtureFieldsForEveryLine()
    {
        JsonElement[] cases = TokenizerFixtures.Fixture("qwen3").GetProperty("cases").EnumerateArray().ToArray();
        string input = Path.Combine(_dir, "texts.jsonl"), output = Path.Combine(_dir, "ids.jsonl");
        File.WriteAllLines(input, cases.Select(c => JsonSerializer.Serialize(new { text = c.GetProperty("text").GetString() })));

        int exit = CliApp.Run(["tokenize", "--tokenizer", TokenizerFixtures.ModelFolder("qwen3"), "--input", input, "--output", output]);

        Assert.Equal(0, exit);
        string[] lines = File.ReadAllLines(output);
        Assert.Equal(cases.Length, lines.Length);
        for (int i = 0; i < cases.Length; i++)
        {
            JsonElement line = JsonDocument.Parse(lines[i]).RootElement;
            // "decoded" is the decode of ids_no_special keeping special tokens: the text itself (byte-level BPE round-trips).
            Assert.Equal(cases[i].GetProperty("text").GetString(), line.GetProperty("text").GetString());
            Assert.Equal(cases[i].GetProperty("text").GetString(), line.GetProperty("decoded").GetString());
            foreach (string field in new[] { "ids_no_special", "ids_with_special" })
                Assert.Equal(TokenizerFixtures.Ints(cases[i].GetProperty(field)), TokenizerFixtures.Ints(line.GetProperty(field)));
        }
        Assert.Single(Directory.GetFiles(_dir, "*ids.jsonl*"));  // no temp file left behind
    }

    [Theory]
    [InlineData("llama3", "<|begin_of_text|>already there")]
    [InlineData("qwen3", "<|im_start|>user\nhi<|im_end|> and 𝔘'll")]
    public void TextContainingSpecialTokenStringsRoundTripsInDecoded(string tokenizer, string text)
    {
        string input = Path.Combine(_dir, "texts.jsonl"), output = Path.Combine(_dir, "ids.jsonl");
        File.WriteAllText(input, JsonSerializer.Serialize(new { text }) + "\n");

        Assert.Equal(0, CliApp.Run(["tokenize", "--tokenizer", TokenizerFixtures.ModelFolder(tokenizer), "--input", input, "--output", output]));

        JsonElement line = JsonDocument.Parse(File.ReadAllLines(output).Single()).RootElement;
        Assert.Equal(text, line.GetProperty("decoded").GetString());
        // The special-token string is encoded as its special token, which skipping special tokens would have dropped.
        var hf = TokenizerFixtures.Tokenizer(tokenizer);
        int[] ids = TokenizerFixtures.Ints(line.GetProperty("ids_no_special"));
        Assert.NotEqual(text, hf.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void ABadLineFailsWithItsLineNumber()
    {
        string input = Path.Combine(_dir, "texts.jsonl"), output = Path.Combine(_dir, "ids.jsonl");
        File.WriteAllLines(input, ["{\"text\": \"ok\"}", "{\"text\": 3}"]);
        var stderr = new StringWriter();
        TextWriter original = Console.Error;
        Console.SetError(stderr);
        int exit;
        try { exit = CliApp.Run(["tokenize", "--tokenizer", TokenizerFixtures.ModelFolder("qwen3"), "--input", input, "--output", output]); }
        finally { Console.SetError(original); }

        Assert.Equal(1, exit);
        Assert.Equal("lfu: error: texts.jsonl line 2: \"text\" must be a string, not Number.", stderr.ToString().Trim());
        Assert.False(File.Exists(output));
    }
}
