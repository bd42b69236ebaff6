using LfU.Cli;
using LfU.MLNet.Benchmark;
using Xunit;

namespace LfU.MLNet.Tests.Benchmark;

/// <summary>End-to-end runs on a tiny random model with the mini-world tokenizer: 2 training steps, ~4 items per test set.</summary>
[Collection("Console")]
public sealed class ForgettingBenchmarkTests : IDisposable
{
    static string DataFolder => Path.Combine(TinyTextModel.RepositoryRoot(), "data", "mini-world");

    readonly TempFolder _temp = new("lfu-benchmark-");
    int _outputs;

    public void Dispose() => _temp.Dispose();

    /// <summary>A new output folder (not yet created) in the test's <see cref="TempFolder"/>.</summary>
    string OutputFolder() => _temp.File($"output-{++_outputs}");

    static BenchmarkOptions Tiny(string output, string methods = "base,sft") => new()
    {
        ModelFolder = TinyTextModel.Path, DataFolder = DataFolder, OutputFolder = output,
        Methods = BenchmarkMethods.ParseList(methods), Seeds = 1, MaxSteps = 2, BatchSize = 4,
        TestLimit = 4, OodLimit = 3, ParaphraseLimit = 1, MaxNewTokens = 6, EvalBatchSize = 8,
    };

    [Fact]
    public void CommandWritesResultsTablesChartsAndPredictions()
    {
        string output = OutputFolder();
        var console = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(console);
        int exit;
        try
        {
            exit = CliApp.Run(["benchmark", "--model", TinyTextModel.Path, "--data", DataFolder, "--output", output,
                "--methods", "base,lfu-lora", "--seeds", "1", "--max-steps", "2", "--batch", "4",
                "--test-limit", "4", "--ood-limit", "3", "--paraphrase-limit", "1", "--max-new-tokens", "6"]);
        }
        finally { Console.SetOut(previous); }
        try
        {
            Assert.True(exit == 0, console.ToString());
            string log = console.ToString();
            Assert.Contains("Benchmark: 2 runs (base, lfu-lora; 1 seed(s)); 300 training examples; 21 test prompts per run", log);
            Assert.Contains("[1/2] base seed 0 (default): in-domain", log);
            Assert.Contains("| ETA ", log);
            Assert.Contains("[2/2] lfu-lora seed 1 (default): in-domain", log);
            Assert.Contains("train ", log);

            var csv = File.ReadAllLines(Path.Combine(output, ForgettingBenchmark.CsvFile));
            Assert.Equal(3, csv.Length);
            var header = csv[0].Split(',');
            Assert.Equal(Enumerable.Range(1, 8).Select(t => $"paraphrase_t{t}"), header.Where(h => h.StartsWith("paraphrase_t")));
            var row = header.Zip(csv[2].Split(',')).ToDictionary(p => p.First, p => p.Second);
            Assert.Equal("lfu-lora", row["method"]);
            Assert.Equal("2", row["steps"]);
            Assert.Equal("21", row["generations"]);
            foreach (string metric in new[] { "in_domain", "ood_knowledge", "ood_math", "ood_reasoning", "ood_avg", "paraphrase_mean" })
                Assert.InRange(double.Parse(row[metric], System.Globalization.CultureInfo.InvariantCulture), 0, 1);

            string markdown = File.ReadAllText(Path.Combine(output, ForgettingBenchmark.MarkdownFile));
            Assert.Contains("lfu benchmark --model", markdown);
            Assert.Equal(3, markdown.Split('\n').Count(l => l.StartsWith("| ")));
            Assert.DoesNotContain("Partial", markdown);

            foreach (string chart in new[] { ForgettingBenchmark.ScatterChartFile, ForgettingBenchmark.BarChartFile })
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(output, chart)).Take(4).ToArray());
            var predictions = File.ReadAllLines(Path.Combine(output, ForgettingBenchmark.PredictionsFolder, "lfu-lora_seed1.jsonl"));
            Assert.Equal(21, predictions.Length);
            Assert.Contains("\"correct\":", predictions[0]);
            Assert.Empty(Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void SameSeedsGiveTheSamePredictionsOnTheCpu()
    {
        string first = OutputFolder(), second = OutputFolder();
        try
        {
            new ForgettingBenchmark(Tiny(first, "sft"), TextWriter.Null).Run();
            new ForgettingBenchmark(Tiny(second, "sft"), TextWriter.Null).Run();
            string file = Path.Combine(ForgettingBenchmark.PredictionsFolder, "sft_seed1.jsonl");
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, file)), File.ReadAllBytes(Path.Combine(second, file)));
            static string[] Metrics(string folder) => File.ReadAllLines(Path.Combine(folder, ForgettingBenchmark.CsvFile))
                .Select(l => string.Join(',', l.Split(',')[..^3])).ToArray(); // all but the timings
            Assert.Equal(Metrics(first), Metrics(second));
        }
        finally
        {
            foreach (string folder in new[] { first, second }) if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Cancels once the first run's progress line is written.</summary>
    sealed class CancelAfterFirstRun(CancellationTokenSource source) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value?.StartsWith("[1/", StringComparison.Ordinal) == true) source.Cancel();
        }
    }

    [Fact]
    public void CancellationKeepsTheCompletedRunsAndResumeRunsTheRest()
    {
        string output = OutputFolder();
        try
        {
            using var source = new CancellationTokenSource();
            var benchmark = new ForgettingBenchmark(Tiny(output), new CancelAfterFirstRun(source));
            Assert.ThrowsAny<OperationCanceledException>(() => benchmark.Run(source.Token));
            Assert.Equal(2, File.ReadAllLines(Path.Combine(output, ForgettingBenchmark.CsvFile)).Length);
            Assert.Contains("**Partial: 1 of 2 runs completed.**", File.ReadAllText(Path.Combine(output, ForgettingBenchmark.MarkdownFile)));
            string baseRow = File.ReadAllLines(Path.Combine(output, ForgettingBenchmark.CsvFile))[1];

            // Other evaluation settings cannot continue these results.
            var e = Assert.Throws<InvalidOperationException>(() => new ForgettingBenchmark(Tiny(output) with { Resume = true, TestLimit = 5 }, TextWriter.Null).Run());
            Assert.Contains("Cannot resume", e.Message);

            var log = new StringWriter();
            var results = new ForgettingBenchmark(Tiny(output) with { Resume = true }, log).Run();
            Assert.Equal([BenchmarkMethod.Base, BenchmarkMethod.Named("sft")], results.Select(r => r.Run.Method));
            Assert.Contains("[1/2] base seed 0 (default): kept from the previous results.", log.ToString());
            Assert.Contains("[2/2] sft seed 1 (default): in-domain", log.ToString());
            var csv = File.ReadAllLines(Path.Combine(output, ForgettingBenchmark.CsvFile));
            Assert.Equal(3, csv.Length);
            Assert.Equal(baseRow, csv[1]);
            Assert.DoesNotContain("Partial", File.ReadAllText(Path.Combine(output, ForgettingBenchmark.MarkdownFile)));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void AResumeInterruptedAgainKeepsTheEarlierResultsOfRunsItHadNotReached()
    {
        string output = OutputFolder();
        try
        {
            new ForgettingBenchmark(Tiny(output, "sft"), TextWriter.Null).Run();
            string sftRow = File.ReadAllLines(Path.Combine(output, ForgettingBenchmark.CsvFile))[1];

            // The resumed plan runs base first, then would keep sft; it is stopped in between.
            using var source = new CancellationTokenSource();
            var resumed = new ForgettingBenchmark(Tiny(output) with { Resume = true }, new CancelAfterFirstRun(source));
            Assert.ThrowsAny<OperationCanceledException>(() => resumed.Run(source.Token));

            var csv = File.ReadAllLines(Path.Combine(output, ForgettingBenchmark.CsvFile));
            Assert.Equal(3, csv.Length);
            Assert.StartsWith("base,", csv[1]);
            Assert.Equal(sftRow, csv[2]);
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void ASecondBenchmarkIntoTheSameFolderIsRefusedWhileTheFirstRuns()
    {
        string output = OutputFolder();
        try
        {
            using (LfU.MLNet.IO.FolderLock.Acquire(output, "benchmark"))
            {
                var e = Assert.Throws<LfU.MLNet.IO.FolderInUseException>(() => new ForgettingBenchmark(Tiny(output), TextWriter.Null).Run());
                Assert.Contains("in use by another run", e.Message);
                Assert.False(File.Exists(Path.Combine(output, ForgettingBenchmark.CsvFile)));
            }
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void ReportOnlyRewritesTheReportFromMergedRowsWithoutRunning()
    {
        string first = OutputFolder(), second = OutputFolder();
        try
        {
            // Two folders run in parallel (one method each), then merged: rows concatenated, one report.
            new ForgettingBenchmark(Tiny(first, "base"), TextWriter.Null).Run();
            new ForgettingBenchmark(Tiny(second, "sft"), TextWriter.Null).Run();
            string sftRow = File.ReadAllLines(Path.Combine(second, ForgettingBenchmark.CsvFile))[1];
            File.AppendAllLines(Path.Combine(first, ForgettingBenchmark.CsvFile), [sftRow]);

            var log = new StringWriter();
            var results = new ForgettingBenchmark(Tiny(first) with { ReportOnly = true }, log).Run();
            Assert.Equal([BenchmarkMethod.Base, BenchmarkMethod.Named("sft")], results.Select(r => r.Run.Method));
            Assert.Contains("Report rewritten from 2 of 2 planned runs", log.ToString());
            Assert.DoesNotContain("in-domain", log.ToString());
            string markdown = File.ReadAllText(Path.Combine(first, ForgettingBenchmark.MarkdownFile));
            Assert.DoesNotContain("Partial", markdown);
            Assert.Contains("| sft |", markdown);

            var e = Assert.Throws<FileNotFoundException>(() => new ForgettingBenchmark(Tiny(OutputFolder()) with { ReportOnly = true }, TextWriter.Null).Run());
            Assert.Contains("Nothing to report", e.Message);
        }
        finally
        {
            foreach (string folder in new[] { first, second }) if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void BadArgumentsFailWithOneLineBeforeAnyWork()
    {
        string output = OutputFolder();
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(1, CliApp.Run(["benchmark", "--output", output, "--methods", "sft,foo"]));
            Assert.Equal(1, CliApp.Run(["benchmark", "--output", output, "--sweep", "gamma=1"]));
            Assert.Equal(2, CliApp.Run(["benchmark", "--output", output, "--test-limit", "-1"]));
            Assert.Equal(1, CliApp.Run(["benchmark", "--output", output, "--data", DataFolder, "--model", output, "--quick"]));
        }
        finally { Console.SetError(previous); }
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal("lfu: error: Unknown benchmark method 'foo'; choose from base, sft, lfu-lora, lfu-reps, neftune, l2, lfu-lora-multistep, lfu-reps-relative, l1.", lines[0].TrimEnd());
        Assert.Contains("unknown parameter 'gamma'", lines[1]);
        Assert.Contains("--test-limit must be a whole number, at least 0", lines[2]);
        Assert.Contains($"Model folder '{output}' does not exist", lines[3]);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void MissingInputsFailWithAClearMessage()
    {
        string output = OutputFolder();
        var e = Assert.Throws<DirectoryNotFoundException>(() => new ForgettingBenchmark(Tiny(output) with { DataFolder = output }, TextWriter.Null).Run());
        Assert.Contains("lfu make-data", e.Message);
        e = Assert.Throws<DirectoryNotFoundException>(() => new ForgettingBenchmark(Tiny(output) with { ModelFolder = output }, TextWriter.Null).Run());
        Assert.Contains("does not exist", e.Message);
        Assert.False(Directory.Exists(output));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ForgettingBenchmark(Tiny(output) with { TestLimit = 0 }, TextWriter.Null));
    }
}
