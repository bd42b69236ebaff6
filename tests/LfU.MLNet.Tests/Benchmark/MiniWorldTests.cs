using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using LfU.MLNet.Benchmark;
using Xunit;

namespace LfU.MLNet.Tests.Benchmark;

public class MiniWorldTests
{
    static readonly MiniWorldOptions Small = new() { PretrainSize = 3000 };
    static readonly Lazy<MiniWorldDataset> SmallData = new(() => MiniWorld.Generate(Small));

    static IEnumerable<MiniWorldItem> AllItems(MiniWorldDataset data) => MiniWorldFiles.Splits(data).SelectMany(s => s.Items);

    static Dictionary<string, byte[]> Bytes(MiniWorldDataset data) =>
        MiniWorldFiles.Splits(data).ToDictionary(s => s.File, s => MiniWorldFiles.ToJsonl(s.Items));

    [Fact]
    public void SameSeedGivesTheSameBytesAndAnotherSeedDifferentOnes()
    {
        var first = Bytes(MiniWorld.Generate(Small));
        var again = Bytes(MiniWorld.Generate(Small));
        var other = Bytes(MiniWorld.Generate(Small with { Seed = Small.Seed + 1 }));
        foreach (var (file, bytes) in first)
        {
            Assert.Equal(bytes, again[file]);
            Assert.NotEqual(bytes, other[file]);
        }
    }

    [Fact]
    public void TestSplitsDoNotDependOnThePretrainingSize()
    {
        var larger = MiniWorld.Generate(Small with { PretrainSize = 4000 });
        Assert.Equal(MiniWorldFiles.ToJsonl(SmallData.Value.FineTuneTest), MiniWorldFiles.ToJsonl(larger.FineTuneTest));
        Assert.Equal(MiniWorldFiles.ToJsonl(SmallData.Value.OodMath), MiniWorldFiles.ToJsonl(larger.OodMath));
    }

    [Fact]
    public void SplitsHaveTheRequestedSizes()
    {
        var options = new MiniWorldOptions
        {
            PretrainSize = 2500, FineTuneTrainSize = 30, FineTuneTestSize = 20, OodKnowledgeSize = 11, OodMathSize = 12, OodReasoningSize = 13,
        };
        var data = MiniWorld.Generate(options);
        Assert.Equal(2500, data.Pretrain.Count);
        Assert.Equal(30, data.FineTuneTrain.Count);
        Assert.Equal(20, data.FineTuneTest.Count);
        Assert.Equal(11, data.OodKnowledge.Count);
        Assert.Equal(12, data.OodMath.Count);
        Assert.Equal(13, data.OodReasoning.Count);
        Assert.Equal(20 * (MiniWorld.Templates.Count - 1), data.Robustness.Count);
        var defaults = new MiniWorldOptions();
        Assert.Equal((300, 200), (defaults.FineTuneTrainSize, defaults.FineTuneTestSize));
    }

    [Fact]
    public void CategoriesAreWhereTheyBelong()
    {
        var data = SmallData.Value;
        Assert.All(data.OodKnowledge, i => Assert.Equal(MiniWorldCategory.Knowledge, i.Category));
        Assert.All(data.OodMath, i => Assert.Equal(MiniWorldCategory.Math, i.Category));
        Assert.All(data.OodReasoning, i => Assert.Equal(MiniWorldCategory.Reasoning, i.Category));
        Assert.All(data.FineTuneTrain.Concat(data.FineTuneTest).Concat(data.Robustness), i => Assert.Equal(MiniWorldCategory.FineTune, i.Category));
        var pretrainCategories = data.Pretrain.Select(i => i.Category).ToHashSet();
        Assert.Equal(new HashSet<string> { MiniWorldCategory.Knowledge, MiniWorldCategory.Math, MiniWorldCategory.Reasoning }, pretrainCategories);
        // Every family of the OOD tests is trained in pretraining.
        var pretrainTasks = data.Pretrain.Select(i => i.Task).ToHashSet();
        Assert.All(data.OodKnowledge.Concat(data.OodMath).Concat(data.OodReasoning), i => Assert.Contains(i.Task, pretrainTasks));
        Assert.True(data.OodMath.Select(i => i.Task).Distinct().Count() >= 5, "math should span several families");
    }

    [Fact]
    public void TheFineTuningTaskNeverAppearsInPretraining()
    {
        var data = SmallData.Value;
        Assert.DoesNotContain(data.Pretrain, i => i.Category == MiniWorldCategory.FineTune);
        // Its vocabulary and answer format are new, not only its questions.
        foreach (string marker in new[] { "dollars", "change", "Cost:", "Change:", "buys" })
            Assert.DoesNotContain(data.Pretrain, i => i.Prompt.Contains(marker, StringComparison.Ordinal) || i.Response.Contains(marker, StringComparison.Ordinal));
        var trainPrompts = data.FineTuneTrain.Select(i => i.Prompt).ToHashSet();
        Assert.DoesNotContain(data.FineTuneTest, i => trainPrompts.Contains(i.Prompt));
        Assert.Equal(data.FineTuneTrain.Count, trainPrompts.Count);
    }

    [Fact]
    public void TestQuestionsAreNeverAskedInPretrainingUnderAnyTemplate()
    {
        var data = SmallData.Value;
        var pretrainPrompts = data.Pretrain.Select(i => i.Prompt).ToHashSet();
        foreach (var item in data.OodKnowledge.Concat(data.OodMath).Concat(data.OodReasoning).Concat(data.FineTuneTest))
        {
            Assert.Equal(MiniWorld.CanonicalTemplate, item.Template);
            foreach (var template in MiniWorld.Templates)
                Assert.DoesNotContain(template.Apply(item.Prompt), pretrainPrompts);
        }
    }

    [Fact]
    public void ParaphraseTemplatesAreInPretrainingAndSomeAreHeldOut()
    {
        var data = SmallData.Value;
        var templates = MiniWorld.Templates;
        Assert.True(templates.Count(t => t.InPretraining && t.Id != MiniWorld.CanonicalTemplate) >= 4);
        Assert.True(templates.Count(t => !t.InPretraining) >= 2);
        Assert.Equal(Enumerable.Range(0, templates.Count), templates.Select(t => t.Id));
        Assert.All(templates, t => Assert.Contains(InstructionTemplate.QuestionSlot, t.Text));

        var usedInPretraining = data.Pretrain.Select(i => i.Template).ToHashSet();
        Assert.Equal(templates.Where(t => t.InPretraining).Select(t => t.Id).ToHashSet(), usedInPretraining);
        // Paraphrases are spread over every category, not just one.
        foreach (string category in new[] { MiniWorldCategory.Knowledge, MiniWorldCategory.Math, MiniWorldCategory.Reasoning })
            Assert.True(data.Pretrain.Where(i => i.Category == category).Select(i => i.Template).Distinct().Count() >= 5);

        // The robustness set asks each fine-tuning test question under every other template.
        var byTemplate = data.Robustness.GroupBy(i => i.Template).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(templates.Where(t => t.Id != MiniWorld.CanonicalTemplate).Select(t => t.Id).ToHashSet(), byTemplate.Keys.ToHashSet());
        foreach (var (id, items) in byTemplate)
        {
            Assert.Equal(data.FineTuneTest.Select(i => templates[id].Apply(i.Prompt)), items.Select(i => i.Prompt));
            Assert.Equal(data.FineTuneTest.Select(i => i.Answer), items.Select(i => i.Answer));
        }
    }

    [Fact]
    public void EveryResponseYieldsItsAnswerAndMathEndsWithTheMarker()
    {
        foreach (var item in AllItems(SmallData.Value))
        {
            Assert.Equal(item.Answer, MiniWorld.ExtractFinalAnswer(item.Response));
            if (item.Category is MiniWorldCategory.Math or MiniWorldCategory.FineTune)
            {
                Assert.EndsWith($"\n#### {item.Answer}", item.Response);
                Assert.Matches("^[0-9]+$", item.Answer);
            }
        }
        Assert.Equal("42", MiniWorld.ExtractFinalAnswer("6 * 7 = 42\n####  42 \n"));
        Assert.Equal("Lorn", MiniWorld.ExtractFinalAnswer(" Lorn\n"));
    }

    [Fact]
    public void ItemsAreShortAsciiText()
    {
        foreach (var item in AllItems(SmallData.Value))
        {
            string text = item.Prompt + item.Response;
            Assert.True(text.Length <= MiniWorld.MaxItemBytes, $"too long: {item.Prompt}");
            Assert.All(text, c => Assert.True(c == '\n' || c is >= ' ' and <= '~', $"non-ASCII or control character in: {item.Prompt}"));
        }
        double meanLength = SmallData.Value.Pretrain.Average(i => i.Prompt.Length + i.Response.Length);
        Assert.InRange(meanLength, 30, 128);
    }

    // ------------------------------------------------------------------ gold answers, recomputed from the prompt

    static int[] Numbers(string text) => Regex.Matches(text, "[0-9]+").Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture)).ToArray();

    static readonly HashSet<string> InstructionWords =
    [
        "the", "word", "backwards", "in", "reverse", "many", "letters", "are", "long", "is", "first", "last", "letter", "of",
        "does", "start", "end", "with", "following", "help", "me", "this", "a", "task", "for", "you",
    ];

    static string Recompute(MiniWorldItem item)
    {
        int[] n = Numbers(item.Prompt);
        // The word of a string task is the one lowercase word that is not part of an instruction.
        string Word() => Regex.Matches(item.Prompt, "[A-Za-z]+").Select(m => m.Value)
            .Single(w => w.All(char.IsLower) && !InstructionWords.Contains(w));
        int value = item.Task switch
        {
            "math.arithmetic" => Regex.Match(item.Prompt, @"([0-9]+) ([-+*]) ([0-9]+)") is var m && m.Groups[2].Value == "+" ? n[0] + n[1]
                : m.Groups[2].Value == "-" ? n[0] - n[1] : n[0] * n[1],
            "math.add_sub" => n[0] + n[1] - n[2],
            "math.groups" => n[0] * n[1],
            "math.share" => n[0] / n[1],
            "math.difference" => n[0] - n[1],
            "math.total3" => n[0] + n[1] + n[2],
            "finetune.change" => n[2] - n[0] * n[1],
            "reasoning.larger" => Math.Max(n[0], n[1]),
            "reasoning.smaller" => Math.Min(n[0], n[1]),
            "reasoning.length" => Word().Length,
            _ => -1,
        };
        if (value >= 0) return value.ToString(CultureInfo.InvariantCulture);
        return item.Task switch
        {
            "reasoning.sort" => string.Join(' ', n.Order()),
            "reasoning.reverse" => new string(Word().Reverse().ToArray()),
            "reasoning.first_letter" => Word()[..1],
            "reasoning.last_letter" => Word()[^1..],
            _ => throw new InvalidOperationException($"no recomputation for task {item.Task}"),
        };
    }

    [Fact]
    public void MathReasoningAndFineTuneGoldAnswersAreCorrect()
    {
        var data = SmallData.Value;
        foreach (var item in data.OodMath.Concat(data.OodReasoning).Concat(data.FineTuneTrain).Concat(data.FineTuneTest)
                     .Concat(data.Pretrain.Where(i => i.Category != MiniWorldCategory.Knowledge)))
            Assert.True(Recompute(item) == item.Answer, $"'{item.Prompt}' has answer '{item.Answer}', expected '{Recompute(item)}'");
    }

    [Fact]
    public void WorkedSolutionStepsAreCorrectArithmetic()
    {
        var data = SmallData.Value;
        var step = new Regex(@"^(?:[A-Za-z]+: )?(?<a>[0-9]+) (?<op>[-+*/]) (?<b>[0-9]+) = (?<c>[0-9]+)$");
        foreach (var item in AllItems(data).Where(i => i.Category is MiniWorldCategory.Math or MiniWorldCategory.FineTune))
        {
            string[] lines = item.Response.Split('\n');
            Assert.True(lines.Length >= 2, item.Response);
            int last = -1;
            foreach (string line in lines[..^1])
            {
                var m = step.Match(line);
                Assert.True(m.Success, $"not a calculation step: '{line}'");
                int a = int.Parse(m.Groups["a"].Value, CultureInfo.InvariantCulture), b = int.Parse(m.Groups["b"].Value, CultureInfo.InvariantCulture);
                int c = int.Parse(m.Groups["c"].Value, CultureInfo.InvariantCulture);
                int expected = m.Groups["op"].Value switch { "+" => a + b, "-" => a - b, "*" => a * b, _ => a / b };
                Assert.Equal(expected, c);
                if (m.Groups["op"].Value == "/") Assert.Equal(0, a % b);
                last = c;
            }
            Assert.Equal(last.ToString(CultureInfo.InvariantCulture), item.Answer);
        }
    }

    [Fact]
    public void KnowledgeAnswersAreTheFactsStatedInPretraining()
    {
        var data = SmallData.Value;
        var statements = data.Pretrain.Where(i => i.Task == "knowledge.statement").Select(i => i.Response).ToList();
        // Every fact is stated in every phrasing, so the first phrasing of each gives the whole world.
        var people = statements.Select(s => Regex.Match(s, @"^(?<name>[A-Z][a-z]+ [A-Z][a-z]+) lives in (?<city>[A-Z][a-z]+) and works as a (?<job>[a-z]+)\. .+ is (?<age>[0-9]+) years old\.$"))
            .Where(m => m.Success).DistinctBy(m => m.Value).ToDictionary(m => m.Groups["name"].Value, m => m);
        var countries = statements.Select(s => Regex.Match(s, @"^(?<city>[A-Z][a-z]+) is a city in (?<country>[A-Z][a-z]+)\.$"))
            .Where(m => m.Success).DistinctBy(m => m.Value).ToDictionary(m => m.Groups["city"].Value, m => m.Groups["country"].Value);
        Assert.Equal(Small.People, people.Count);
        Assert.Equal(24, countries.Count);
        foreach (var item in data.OodKnowledge)
        {
            string? name = people.Keys.SingleOrDefault(n => item.Prompt.Contains(n, StringComparison.Ordinal));
            string? city = countries.Keys.SingleOrDefault(c => Regex.IsMatch(item.Prompt, $@"\b{c}\b"));
            string expected = item.Task switch
            {
                "knowledge.city" => people[name!].Groups["city"].Value,
                "knowledge.job" => people[name!].Groups["job"].Value,
                "knowledge.age" => people[name!].Groups["age"].Value,
                "knowledge.country" => countries[city!],
                "knowledge.person_country" => countries[people[name!].Groups["city"].Value],
                _ => throw new InvalidOperationException($"unexpected task {item.Task}"),
            };
            Assert.True(expected == item.Answer, $"'{item.Prompt}' has answer '{item.Answer}', the stated fact is '{expected}'");
        }
        Assert.Equal(5, data.OodKnowledge.Select(i => i.Task).Distinct().Count());
    }

    [Fact]
    public void InvalidOptionsAreRejectedWithAClearMessage()
    {
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => MiniWorld.Generate(new MiniWorldOptions { OodMathSize = 0 }));
        Assert.Contains("OodMathSize must be positive", zero.Message);
        var ood = Assert.Throws<ArgumentOutOfRangeException>(() => MiniWorld.Generate(new MiniWorldOptions { OodReasoningSize = 5000 }));
        Assert.Contains("OodReasoningSize must be at most 1000", ood.Message);
        var people = Assert.Throws<ArgumentOutOfRangeException>(() => MiniWorld.Generate(new MiniWorldOptions { People = 10_000 }));
        Assert.Contains("at most 300", people.Message);
        var tooSmall = Assert.Throws<ArgumentException>(() => MiniWorld.Generate(new MiniWorldOptions { PretrainSize = 10 }));
        Assert.Contains("every fact of the world is stated", tooSmall.Message);
        var tooMany = Assert.Throws<ArgumentException>(() => MiniWorld.Generate(new MiniWorldOptions { FineTuneTrainSize = 30_000 }));
        Assert.Contains("distinct fine-tuning items", tooMany.Message);
    }

    // ------------------------------------------------------------------ files

    [Fact]
    public void FilesRoundTripAndTheManifestHashesThem()
    {
        using var temp = new TempFolder("lfu-miniworld-");
        string directory = temp.File("world");
        var data = MiniWorld.Generate(Small with { FineTuneTrainSize = 20, FineTuneTestSize = 10 });
        MiniWorldFiles.Write(data, directory, "lfu make-data --output x");
        Assert.Equal(data.FineTuneTest, MiniWorldFiles.ReadJsonl(Path.Combine(directory, MiniWorldFiles.FineTuneTest)));
        Assert.Equal(data.Pretrain, MiniWorldFiles.ReadJsonl(Path.Combine(directory, MiniWorldFiles.Pretrain)));
        Assert.Empty(Directory.GetFiles(directory, "*.tmp"));

        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, MiniWorldFiles.ManifestFile)));
        var root = manifest.RootElement;
        Assert.Equal(MiniWorld.GeneratorVersion, root.GetProperty("generatorVersion").GetString());
        Assert.Equal(Small.Seed, root.GetProperty("seed").GetInt32());
        var files = root.GetProperty("files").EnumerateObject().ToList();
        Assert.Equal(8, files.Count);
        foreach (var file in files)
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(directory, file.Name));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), file.Value.GetProperty("sha256").GetString());
        }
        using var templates = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, MiniWorldFiles.TemplatesFile)));
        Assert.Equal(MiniWorld.Templates.Count, templates.RootElement.GetProperty("templates").GetArrayLength());
    }

    [Fact]
    public void MalformedLinesAreReportedWithFileAndLine()
    {
        using var temp = new TempFolder("lfu-bad-");
        string path = temp.File("bad.jsonl");
        File.WriteAllText(path, "{\"prompt\":\"a\",\"response\":\"b\",\"answer\":\"b\",\"category\":\"math\",\"template\":0,\"task\":\"t\"}\n{\"prompt\":\"a\"}\n");
        var error = Assert.Throws<FormatException>(() => MiniWorldFiles.ReadJsonl(path));
        Assert.Contains($"{path}:2", error.Message);
        Assert.Contains("'response'", error.Message);
        File.WriteAllText(path, "not json\n");
        Assert.Contains($"{path}:1", Assert.Throws<FormatException>(() => MiniWorldFiles.ReadJsonl(path)).Message);
        File.Delete(path);
        Assert.Throws<FileNotFoundException>(() => MiniWorldFiles.ReadJsonl(path));
    }

    /// <summary>The committed data/mini-world must be exactly what the generator makes from its manifest, so that a
    /// generator change without a new <see cref="MiniWorld.GeneratorVersion"/> and fresh data cannot slip through.</summary>
    [Fact]
    public void CommittedDataIsWhatTheGeneratorProduces()
    {
        string directory = Path.Combine(TinyTextModel.RepositoryRoot(), "data", "mini-world");
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, MiniWorldFiles.ManifestFile)));
        var root = manifest.RootElement;
        Assert.Equal(MiniWorld.GeneratorVersion, root.GetProperty("generatorVersion").GetString());
        var sizes = root.GetProperty("sizes");
        var options = new MiniWorldOptions
        {
            Seed = root.GetProperty("seed").GetInt32(),
            PretrainSize = sizes.GetProperty("pretrain").GetInt32(),
            FineTuneTrainSize = sizes.GetProperty("finetuneTrain").GetInt32(),
            FineTuneTestSize = sizes.GetProperty("finetuneTest").GetInt32(),
            OodKnowledgeSize = sizes.GetProperty("oodKnowledge").GetInt32(),
            OodMathSize = sizes.GetProperty("oodMath").GetInt32(),
            OodReasoningSize = sizes.GetProperty("oodReasoning").GetInt32(),
            People = sizes.GetProperty("people").GetInt32(),
        };
        var files = root.GetProperty("files");
        foreach (var (file, items) in MiniWorldFiles.Splits(MiniWorld.Generate(options)))
        {
            string expected = files.GetProperty(file).GetProperty("sha256").GetString()!;
            Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(MiniWorldFiles.ToJsonl(items))));
            Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(directory, file)))));
        }
    }
}
