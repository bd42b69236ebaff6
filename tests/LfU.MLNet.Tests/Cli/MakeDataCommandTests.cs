using System.Security.Cryptography;
using System.Text.Json;
using LfU.Cli;
using LfU.MLNet.Benchmark;
using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

public class MakeDataCommandTests
{
    [Fact]
    public void MakeDataWritesTheDataAndTheTokenizer()
    {
        using var temp = new TempFolder("lfu-make-data-");
        string directory = temp.Path;
        string data = Path.Combine(directory, "data"), tokenizer = Path.Combine(directory, "tok");
        int exit = CliApp.Run(["make-data", "--output", data, "--seed", "7", "--pretrain-size", "1500", "--ood-size", "50",
            "--tokenizer-output", tokenizer, "--vocab-size", "320", "--split-digits"]);
        Assert.Equal(0, exit);

        var expected = MiniWorld.Generate(new MiniWorldOptions { Seed = 7, PretrainSize = 1500, OodKnowledgeSize = 50, OodMathSize = 50, OodReasoningSize = 50 });
        foreach (var (file, items) in MiniWorldFiles.Splits(expected))
            Assert.Equal(MiniWorldFiles.ToJsonl(items), File.ReadAllBytes(Path.Combine(data, file)));
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(data, MiniWorldFiles.ManifestFile)));
        Assert.Contains("--seed 7 --pretrain-size 1500", manifest.RootElement.GetProperty("regenerate").GetString());

        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(tokenizer, TrainedBpe.TokenizerFile)));
        Assert.Equal(320 - BpeTrainer.SpecialTokens.Count, json.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().Count());
        Assert.Equal(BpeTrainer.SingleDigitPattern,
            json.RootElement.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0].GetProperty("pattern").GetProperty("Regex").GetString());
        Assert.True(File.Exists(Path.Combine(tokenizer, TrainedBpe.TokenizerConfigFile)));
    }

    [Fact]
    public void BadArgumentsFailBeforeWritingAnything()
    {
        using var temp = new TempFolder("lfu-make-data-");
        string directory = temp.File("data");
        Assert.Equal(2, CliApp.Run(["make-data", "--output", directory, "--pretrain-size", "0"]));
        Assert.Equal(2, CliApp.Run(["make-data", "--output", directory, "--ood-size", "5000"]));
        Assert.Equal(2, CliApp.Run(["make-data", "--output", directory, "--tokenizer-output", directory, "--vocab-size", "10"]));
        Assert.Equal(2, CliApp.Run(["make-data"]));
        Assert.False(Directory.Exists(directory));
        // A pretraining set too small to state every fact is caught by the generator: exit code 1.
        Assert.Equal(1, CliApp.Run(["make-data", "--output", directory, "--pretrain-size", "10"]));
        Assert.False(Directory.Exists(directory));
    }
}
