using System.Text.Json.Nodes;
using LfU.MLNet.Adapters;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

/// <summary>Trains the tiny model once with <c>lfu train</c>; the inference verbs use its adapter.</summary>
public sealed class TrainedAdapter : IDisposable
{
    readonly TempFolder _temp = new("lfu-train-");

    public string Folder => _temp.Path;
    public string Output => Path.Combine(Folder, "out");
    public string Adapter => Path.Combine(Output, "adapter");
    public CliRunner.Outcome Training { get; }

    public TrainedAdapter()
    {
        string train = CliRunner.MiniWorldSample(Folder, "finetune_train.jsonl", 8);
        string validation = CliRunner.MiniWorldSample(Folder, "finetune_test.jsonl", 4);
        Training = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", train, "--validation", validation, "--output", Output,
            "--max-steps", "3", "--batch", "4", "--lr", "1e-3", "--lora-r", "4", "--cutoff", "128", "--eval-every", "2");
    }

    public void Dispose() => _temp.Dispose();
}

[Collection("Console")]
public sealed class TrainCommandTests(TrainedAdapter trained) : IClassFixture<TrainedAdapter>, IDisposable
{
    readonly TempFolder _temp = new("lfu-cli-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void TrainWritesTheAdapterLogChartAndSummary()
    {
        Assert.True(trained.Training.ExitCode == 0, trained.Training.Error);
        Assert.True(File.Exists(Path.Combine(trained.Adapter, PeftAdapter.WeightsFile)));
        Assert.Equal(4, PeftAdapter.ReadConfig(trained.Adapter).Rank);

        string[] log = File.ReadAllLines(Path.Combine(trained.Output, "training_log.csv"));
        Assert.StartsWith("step,epoch,total_loss,sft_loss,consistency_loss,", log[0]);
        Assert.Equal(4, log.Length);
        Assert.EndsWith(",validation_loss,alpha,lambda,relative_change,gradient_ratio", log[0]);
        Assert.All(log.Skip(1), line => Assert.Equal(15, line.Split(',').Length));
        Assert.NotEqual("", log[2].Split(',')[10]); // validation loss at step 2 (--eval-every 2) ...
        Assert.Equal("", log[1].Split(',')[10]);    // ... not at step 1
        Assert.All(log.Skip(1), line => Assert.Equal(["0.1", "5"], line.Split(',')[11..13])); // LfU-LoRA's fixed α and λ
        Assert.Equal([0x89, (byte)'P'], File.ReadAllBytes(Path.Combine(trained.Output, "loss.png"))[..2]);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(trained.Output, "summary.json")))!;
        Assert.Equal(3, (int)summary["steps"]!);
        Assert.Equal("lfu-lora", (string)summary["objective"]!["Name"]!);
        Assert.Equal(8, (int)summary["examples"]!["kept"]!);
        Assert.True(double.IsFinite((double)summary["final_consistency_loss"]!));
        Assert.True((double)summary["final_validation_loss"]! > 0);

        string stdout = trained.Training.Out;
        Assert.Contains("Training data: 8 examples: 8 kept (0 truncated to 128 tokens), none skipped.", stdout);
        Assert.Contains("step 3/3 loss", stdout);
        Assert.Contains("Trained 3 steps", stdout);
        Assert.Matches(@"Final loss \d+\.\d{4} \(SFT \d+\.\d{4}, consistency [-\d.eE]+\); validation loss \d+\.\d{4}\.", stdout);
        Assert.Empty(Directory.GetFiles(trained.Output, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void FullFineTuningOnCsvWritesALoadableModelAndReportsSkippedRows()
    {
        string csv = Path.Combine(_dir, "train.csv");
        File.WriteAllText(csv, "prompt,response\n\"What is 2, plus 3?\",\"It is 5,\nsurely.\"\nEmpty one,\"\"\nName a colour.,Red\n");
        string output = Path.Combine(_dir, "full");

        var run = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", csv, "--output", output, "--full", "--objective", "sft",
            "--max-steps", "1", "--batch", "2");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("3 examples: 2 kept (0 truncated to 512 tokens), 1 skipped (1 empty response)", run.Out);
        Assert.Contains("skipped train.csv, line 4: empty response", run.Out);
        Assert.True(File.Exists(Path.Combine(output, "model", "config.json")));
        Assert.True(File.Exists(Path.Combine(output, "model", "tokenizer.json")));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!;
        Assert.Equal(4, (int)summary["examples"]!["skipped"]![0]!["line"]!);
        // The output folder itself is accepted as --model (its model/ sub-folder is used).
        var generated = CliRunner.Run("generate", "--model", output, "--prompt", "Name a colour.", "--max-new-tokens", "3");
        Assert.True(generated.ExitCode == 0, generated.Error);
    }

    [Fact]
    public void ResumingFromACheckpointReproducesTheUninterruptedRun()
    {
        string data = CliRunner.MiniWorldSample(_dir, "finetune_train.jsonl", 6);
        string checkpoints = Path.Combine(_dir, "checkpoints");
        string[] common = ["train", "--model", TinyTextModel.Path, "--data", data, "--max-steps", "3", "--batch", "2", "--lora-r", "2", "--objective", "sft"];

        var whole = CliRunner.Run([.. common, "--output", Path.Combine(_dir, "whole"), "--checkpoint-dir", checkpoints, "--checkpoint-every", "2"]);
        var resumed = CliRunner.Run([.. common, "--output", Path.Combine(_dir, "resumed"), "--resume", Path.Combine(checkpoints, "checkpoint-2")]);

        Assert.True(whole.ExitCode == 0, whole.Error);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.DoesNotContain("step 1/3", resumed.Out); // only step 3 ran again
        string[] log = File.ReadAllLines(Path.Combine(_dir, "resumed", "training_log.csv"));
        Assert.Equal(4, log.Length); // the log still covers every step
        Assert.Equal(File.ReadAllLines(Path.Combine(_dir, "whole", "training_log.csv")).Select(WithoutTime), log.Select(WithoutTime));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "whole", "adapter", PeftAdapter.WeightsFile)),
                     File.ReadAllBytes(Path.Combine(_dir, "resumed", "adapter", PeftAdapter.WeightsFile)));

        static string WithoutTime(string csvLine) => string.Join(',', csvLine.Split(',').Where((_, i) => i != 9));
    }

    [Fact]
    public void GenerateAnswersAPromptAFileAndPipedLinesAlike()
    {
        string input = CliRunner.MiniWorldSample(_dir, "finetune_test.jsonl", 3);
        string output = Path.Combine(_dir, "generated.jsonl");
        string[] common = ["--model", TinyTextModel.Path, "--adapter", trained.Output, "--max-new-tokens", "6"];
        string firstPrompt = (string)JsonNode.Parse(File.ReadLines(input).First())!["prompt"]!;

        var single = CliRunner.Run(["generate", .. common, "--prompt", firstPrompt]);
        var file = CliRunner.Run(["generate", .. common, "--input", input, "--output", output, "--batch", "2"]);
        var piped = CliRunner.RunWithInput(firstPrompt + "\n\nSecond prompt\n", ["generate", .. common]);

        Assert.True(single.ExitCode == 0, single.Error);
        Assert.True(file.ExitCode == 0, file.Error);
        Assert.True(piped.ExitCode == 0, piped.Error);
        var rows = File.ReadAllLines(output).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.NotNull(r["answer"])); // input fields are kept
        string answer = (string)rows[0]["generated"]!;
        Assert.Equal(answer, single.Out.TrimEnd('\n', '\r')); // greedy: the same answer every way
        var pipedRows = piped.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(2, pipedRows.Count);
        Assert.Equal(answer, (string)pipedRows[0]["generated"]!);
        Assert.Equal("Second prompt", (string)pipedRows[1]["prompt"]!);
    }

    [Fact]
    public void ScoreWritesTheLogProbabilitiesOfEachResponse()
    {
        string input = Path.Combine(_dir, "pairs.jsonl"), output = Path.Combine(_dir, "scores.jsonl");
        File.WriteAllLines(input, ["{\"prompt\":\"What is 2+2?\",\"response\":\"4\"}", "{\"prompt\":\"Hi\",\"response\":\"\"}"]);

        var run = CliRunner.Run("score", "--model", TinyTextModel.Path, "--adapter", trained.Adapter, "--input", input, "--output", output);

        Assert.True(run.ExitCode == 0, run.Error);
        var rows = File.ReadAllLines(output).Select(l => JsonNode.Parse(l)!).ToList();
        double mean = (double)rows[0]["score_mean"]!, total = (double)rows[0]["score_total"]!;
        Assert.True(mean < 0 && total <= mean, $"mean {mean}, total {total}");
        Assert.Null(rows[1]["score_mean"]); // an empty response has no score
        Assert.Contains("Scored 2 rows", run.Out);
        Assert.Contains("1 empty responses have no score", run.Out);
    }

    [Fact]
    public void EvalPrintsAccuracyOverallAndPerCategoryAndWritesPredictions()
    {
        string data = Path.Combine(_dir, "eval.jsonl"), output = Path.Combine(_dir, "predictions.jsonl");
        File.WriteAllLines(data, File.ReadLines(Path.Combine(TinyTextModel.RepositoryRoot(), "data", "mini-world", "finetune_test.jsonl")).Take(2)
            .Concat(File.ReadLines(Path.Combine(TinyTextModel.RepositoryRoot(), "data", "mini-world", "ood_math.jsonl")).Take(2)));

        var run = CliRunner.Run("eval", "--model", TinyTextModel.Path, "--adapter", trained.Adapter, "--data", data, "--output", output, "--max-new-tokens", "4");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches(@"numeric accuracy: \d+\.\d% \(\d/4; \d without a number\)", run.Out);
        Assert.Matches(@"\n  finetune\s+\d+\.\d% \(\d/2;", run.Out);
        var rows = File.ReadAllLines(output).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => { Assert.NotNull(r["generated"]); Assert.NotNull(r["correct"]); });

        File.WriteAllText(data, "{\"prompt\":\"Capital of France?\",\"answer\":\"Paris\"}\n");
        var text = CliRunner.Run("eval", "--model", TinyTextModel.Path, "--data", data, "--max-new-tokens", "2");
        Assert.Equal(1, text.ExitCode);
        Assert.Equal("lfu: error: eval.jsonl, line 1: the answer \"Paris\" contains no number; use --metric exact or normalized for text answers.", Assert.Single(text.ErrorLines));
        var normalized = CliRunner.Run("eval", "--model", TinyTextModel.Path, "--data", data, "--max-new-tokens", "2", "--metric", "normalized");
        Assert.Contains("normalized accuracy: 0.0% (0/1)", normalized.Out);
    }

    [Fact]
    public void ExportMergesTheAdapterOrRewritesItAsPeft()
    {
        string merged = Path.Combine(_dir, "merged"), peft = Path.Combine(_dir, "peft");
        var a = CliRunner.Run("export", "--model", TinyTextModel.Path, "--adapter", trained.Output, "--output", merged);
        var b = CliRunner.Run("export", "--model", TinyTextModel.Path, "--adapter", trained.Adapter, "--output", peft, "--peft");
        Assert.True(a.ExitCode == 0, a.Error);
        Assert.True(b.ExitCode == 0, b.Error);

        // The merged model answers as the base model with the adapter does.
        string[] ask = ["generate", "--prompt", "What is 7 times 6?", "--max-new-tokens", "8"];
        var withAdapter = CliRunner.Run([.. ask, "--model", TinyTextModel.Path, "--adapter", peft]);
        var fromMerged = CliRunner.Run([.. ask, "--model", merged]);
        Assert.Equal(withAdapter.Out, fromMerged.Out);
        var (original, rewritten) = (PeftAdapter.ReadConfig(trained.Adapter), PeftAdapter.ReadConfig(peft));
        Assert.Equal(original with { TargetModules = [] }, rewritten with { TargetModules = [] });
        Assert.Equal(original.TargetModules, rewritten.TargetModules);
        Assert.Equal(File.ReadAllBytes(Path.Combine(trained.Adapter, PeftAdapter.WeightsFile)), File.ReadAllBytes(Path.Combine(peft, PeftAdapter.WeightsFile)));
    }

    [Theory]
    [InlineData("--objective", "dpo")]
    [InlineData("--lr", "-1")]
    [InlineData("--warmup", "1.5")]
    [InlineData("--batch", "0")]
    [InlineData("--checkpoint-every", "5")]
    public void BadTrainArgumentsExit2NamingTheOption(string option, string value)
    {
        string data = CliRunner.MiniWorldSample(_dir, "finetune_train.jsonl", 2);
        var run = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", data, "--output", Path.Combine(_dir, "o"), option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(option, run.ErrorLines[0]);
        Assert.False(Directory.Exists(Path.Combine(_dir, "o")));
    }

    [Theory]
    [InlineData("lfu-reps", "--ascent-batch", "independent", "lfu-lora, lfu-lora-multistep")]
    [InlineData("lfu-lora", "--noise-alpha", "5", "neftune")]
    [InlineData("sft", "--lambda", "5", "lfu-lora, lfu-lora-multistep, lfu-reps, lfu-reps-relative")]
    [InlineData("neftune", "--penalty-weight", "0.1", "l2, l1")]
    [InlineData("lfu-lora", "--ascent-steps", "2", "lfu-lora-multistep")]
    public void ASettingTheObjectiveIgnoresIsRefusedNamingWhoReadsIt(string objective, string option, string value, string readers)
    {
        string data = CliRunner.MiniWorldSample(_dir, "finetune_train.jsonl", 2);
        var run = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", data, "--output", Path.Combine(_dir, "o"), "--objective", objective, option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"{option} does nothing with --objective {objective}; it is read by {readers}.", run.Error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "o")));
    }

    [Fact]
    public void PerturbationIsRefusedWithAnObjectiveOtherThanLfu()
    {
        string data = CliRunner.MiniWorldSample(_dir, "finetune_train.jsonl", 2);
        var run = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", data, "--output", Path.Combine(_dir, "o"), "--objective", "sft", "--perturbation", "reps");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--perturbation chooses lfu-lora or lfu-reps for --objective lfu; with --objective sft leave it out.", run.Error);
    }

    [Fact]
    public void AutoAlphaAndLambdaAreCalibratedAndRecorded()
    {
        string data = CliRunner.MiniWorldSample(_dir, "finetune_train.jsonl", 4);
        string output = Path.Combine(_dir, "auto");
        var run = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", data, "--output", output, "--max-steps", "3", "--batch", "2",
            "--lora-r", "4", "--cutoff", "128", "--alpha", "auto", "--lambda", "AUTO");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("LfU (LoRA, α=auto (ρ 0.035), λ=auto (weight 16))", run.Out);
        Assert.Matches(@"calibrated α [\d.eE-]+, λ [\d.eE-]+\.", run.Out);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!;
        Assert.True((bool)summary["objective"]!["Calibration"]!["Alpha"]! && (bool)summary["objective"]!["Calibration"]!["Lambda"]!);
        Assert.True((double)summary["final_alpha"]! > 0 && (double)summary["final_lambda"]! > 0);
        // α starts from the kind's default and is moved; λ is never the fixed default.
        string[] log = File.ReadAllLines(Path.Combine(output, "training_log.csv"));
        Assert.Equal("0.1", log[1].Split(',')[11]);
        Assert.NotEqual("0.1", log[3].Split(',')[11]);
        Assert.All(log.Skip(1), line => Assert.NotEqual("5", line.Split(',')[12]));

        var bad = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", data, "--output", Path.Combine(_dir, "bad"), "--alpha", "automatic");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--alpha must be a number, 0 or more (paper: 0.1), or auto; got 'automatic'.", bad.Error);
        var kl = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", data, "--output", Path.Combine(_dir, "kl"), "--alpha", "auto", "--consistency", "logit-kl");
        Assert.Equal(1, kl.ExitCode);
        Assert.Contains("Calibrating α or λ needs a hidden-state consistency", kl.Error);
    }

    [Fact]
    public void OptionsThatDoNotFitTheModelFailWithOneLineWithoutLibraryParameterNames()
    {
        string data = CliRunner.MiniWorldSample(_dir, "finetune_train.jsonl", 2);
        var run = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", data, "--output", Path.Combine(_dir, "o"), "--hidden-to", "9");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("lfu: error: Hidden-state range [0, 9] is invalid for a model with 2 layers: indices run from 0 (embeddings) to 2 (after the final norm).",
            Assert.Single(run.ErrorLines));
    }

    [Fact]
    public void BadArgumentsOfOtherVerbsExit2()
    {
        Assert.Equal(2, CliRunner.Run("generate", "--model", TinyTextModel.Path, "--prompt", "a", "--input", TinyTextModel.Path + "/config.json").ExitCode);
        Assert.Equal(2, CliRunner.Run("generate", "--model", TinyTextModel.Path, "--input", TinyTextModel.Path + "/config.json").ExitCode);
        Assert.Equal(2, CliRunner.Run("generate", "--model", TinyTextModel.Path, "--prompt", "a", "--top-p", "0").ExitCode);
        Assert.Equal(2, CliRunner.Run("export", "--model", TinyTextModel.Path, "--adapter", trained.Adapter, "--output", _dir, "--merged", "--peft").ExitCode);
        Assert.Equal(2, CliRunner.Run("score", "--model", Path.Combine(_dir, "missing"), "--input", "x.jsonl", "--output", "y.jsonl").ExitCode);
        Assert.Equal(2, CliRunner.Run("eval", "--model", TinyTextModel.Path, "--data", trained.Folder + "/finetune_test.jsonl", "--metric", "bleu").ExitCode);
        var folderAsFile = CliRunner.Run("score", "--model", TinyTextModel.Path, "--input", trained.Folder + "/finetune_test.jsonl", "--output", _dir);
        Assert.Equal(2, folderAsFile.ExitCode);
        Assert.Equal($"lfu score: --output '{_dir}' is a folder; give a file name. (see 'lfu score --help')", Assert.Single(folderAsFile.ErrorLines));
    }

    [Fact]
    public void ABadDataLineFailsWithOneLineNamingFileAndLine()
    {
        string data = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(data, "{\"prompt\":\"a\",\"response\":\"b\"}\n{\"prompt\":\"a\" \"response\":\"b\"}\n");
        var run = CliRunner.Run("train", "--model", TinyTextModel.Path, "--data", data, "--output", Path.Combine(_dir, "o"));
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("lfu: error: bad.jsonl, line 2: not valid JSON", Assert.Single(run.ErrorLines));

        File.WriteAllText(data, "{\"prompt\":\"a\",\"response\":\"b\"}\n{\"question\":\"a\"}\n");
        run = CliRunner.Run("score", "--model", TinyTextModel.Path, "--input", data, "--output", Path.Combine(_dir, "s.jsonl"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("lfu: error: bad.jsonl, line 2: no \"prompt\" (or \"instruction\") field; found \"question\".", Assert.Single(run.ErrorLines));
        Assert.False(File.Exists(Path.Combine(_dir, "s.jsonl")));
    }

    [Fact]
    public void EveryVerbHasHelp()
    {
        foreach (string verb in new[] { "train", "generate", "score", "eval", "export" })
        {
            var run = CliRunner.Run(verb, "--help");
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("--model", run.Out);
        }
        Assert.Contains("--objective", CliRunner.Run("train", "--help").Out);
    }
}
