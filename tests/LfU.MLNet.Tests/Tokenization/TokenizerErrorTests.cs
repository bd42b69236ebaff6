using System.Text.Json.Nodes;
using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

/// <summary>Malformed or unsupported tokenizer files fail with a message naming the file and field.</summary>
public sealed partial class TokenizerErrorTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-tokerr-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    string LoadError(Action<JsonObject> edit)
    {
        return Assert.Throws<InvalidDataException>(() => Load(edit)).Message;
    }

    [Fact]
    public void UnsupportedModelTypeNamesTheField()
    {
        string message = LoadError(j => j["model"]!["type"] = "WordPiece");
        Assert.Equal("tokenizer.json: model.type 'WordPiece' is not supported (supported model types: BPE).", message);
    }

    [Fact]
    public void UnsupportedPreTokenizerNamesTheField()
    {
        string message = LoadError(j => j["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" });
        Assert.StartsWith("tokenizer.json: pre_tokenizer.type 'BertPreTokenizer' is not supported", message);
    }

    [Fact]
    public void MissingVocabAndBadMergeAreNamed()
    {
        Assert.Equal("tokenizer.json: model.vocab is missing.", LoadError(j => j["model"]!.AsObject().Remove("vocab")));
        Assert.Contains("model.merges[0]", LoadError(j => j["model"]!["merges"]!.AsArray().Insert(0, "nospace")));
        Assert.Contains("model.merges[0]", LoadError(j => j["model"]!["merges"]!.AsArray().Insert(0, new JsonArray("q", "z"))));
    }

    [Fact]
    public void BadJsonAndMissingFilesAreClear()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{ not json");
        Assert.StartsWith("tokenizer.json: not valid JSON", Assert.Throws<InvalidDataException>(() => HfTokenizer.FromFolder(_dir)).Message);
        File.Delete(Path.Combine(_dir, "tokenizer.json"));
        Assert.Contains("neither tokenizer.json nor tokenizer.model", Assert.Throws<FileNotFoundException>(() => HfTokenizer.FromFolder(_dir)).Message);
        Assert.Throws<DirectoryNotFoundException>(() => HfTokenizer.FromFolder(Path.Combine(_dir, "nope")));
    }

    [Fact]
    public void UnknownSpecialTokenInConfigIsNamed()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), SentencePieceJsonTests.BuildTokenizerJson(legacy: false).ToJsonString());
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """{"eos_token": "<|nope|>"}""");
        Assert.Equal("tokenizer_config.json: eos_token '<|nope|>' is not in the tokenizer's vocabulary.",
                     Assert.Throws<InvalidDataException>(() => HfTokenizer.FromFolder(_dir)).Message);
    }
}
