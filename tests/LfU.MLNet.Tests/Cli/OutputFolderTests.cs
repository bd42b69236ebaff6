using LfU.Cli;
using LfU.Cli.Commands;
using LfU.MLNet.Adapters;
using LfU.MLNet.Tests.Checkpoints;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

/// <summary>
/// A verb never writes over an earlier run's output folder unless told to (--overwrite), and when told to, a failure
/// leaves the old run whole: the new one is swapped in only once it succeeded.
/// </summary>
[Collection("Console")]
public sealed class OutputFolderTests : IDisposable
{
    readonly ScratchFolder _scratch = new();
    string Dir => _scratch.Path;

    public void Dispose() => _scratch.Dispose();

    string OldRun(string name)
    {
        string folder = Path.Combine(Dir, name);
        Directory.CreateDirectory(Path.Combine(folder, "adapter"));
        File.WriteAllText(Path.Combine(folder, "summary.json"), "old");
        File.WriteAllText(Path.Combine(folder, "adapter", "old.txt"), "old");
        return folder;
    }

    string[] Train(string output, params string[] extra) =>
        ["train", "--model", TinyTextModel.Path, "--data", CliRunner.MiniWorldSample(Dir, "finetune_train.jsonl", 4), "--output", output,
         "--batch", "2", "--lora-r", "2", "--objective", "sft", .. extra, .. extra.Contains("--max-steps") ? [] : new[] { "--max-steps", "1" }];

    [Fact]
    public void TrainRefusesAFolderThatHoldsAnEarlierRun()
    {
        string output = OldRun("out");
        var run = CliRunner.Run(Train(output));
        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"lfu train: --output '{output}' is not empty (it holds adapter, summary.json); give a new or empty folder, or add --overwrite to replace its contents. (see 'lfu train --help')",
            Assert.Single(run.ErrorLines));
        Assert.Equal("old", File.ReadAllText(Path.Combine(output, "summary.json")));
    }

    [Fact]
    public void TrainWithOverwriteReplacesTheWholeEarlierRun()
    {
        string output = OldRun("out");
        var run = CliRunner.Run(Train(output, "--overwrite"));
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(File.Exists(Path.Combine(output, "adapter", PeftAdapter.WeightsFile)));
        Assert.False(File.Exists(Path.Combine(output, "adapter", "old.txt")));
        Assert.NotEqual("old", File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Contains($"in {output}.", run.Out);
        Assert.Equal(["out"], Directory.GetFileSystemEntries(Dir).Select(Path.GetFileName).Where(n => n!.Contains("out")));
    }

    [Fact]
    public void ARunThatFailsWithOverwriteLeavesTheEarlierRunWhole()
    {
        string output = OldRun("out");
        var run = CliRunner.Run(Train(output, "--overwrite", "--max-steps", "3", "--lr", "1e36", "--max-grad-norm", "0", "--warmup", "0"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Training diverged", run.Error);
        Assert.Equal("old", File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.True(File.Exists(Path.Combine(output, "adapter", "old.txt")));
        Assert.False(File.Exists(Path.Combine(output, TrainCommand.LogFile)));
        Assert.Equal(["out"], Directory.GetFileSystemEntries(Dir).Select(Path.GetFileName).Where(n => n!.Contains("out")));
    }

    [Fact]
    public void ACheckpointFolderInsideTheOutputIsThisRunsOwnAndIsKept()
    {
        string output = Path.Combine(Dir, "out"), checkpoints = Path.Combine(output, "checkpoints");
        var first = CliRunner.Run(Train(output, "--checkpoint-dir", checkpoints));
        Assert.True(first.ExitCode == 0, first.Error);
        // Resuming into the same output: the checkpoints do not count as an earlier run, and survive --overwrite.
        File.Delete(Path.Combine(output, TrainCommand.SummaryFile));
        Directory.Delete(Path.Combine(output, "adapter"), recursive: true);
        File.Delete(Path.Combine(output, TrainCommand.LogFile));
        File.Delete(Path.Combine(output, TrainCommand.ChartFile));
        var again = CliRunner.Run(Train(output, "--checkpoint-dir", checkpoints, "--resume", checkpoints));
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(2, CliRunner.Run(Train(output, "--checkpoint-dir", checkpoints, "--resume", checkpoints)).ExitCode);
        var third = CliRunner.Run(Train(output, "--checkpoint-dir", checkpoints, "--resume", checkpoints, "--overwrite"));
        Assert.True(third.ExitCode == 0, third.Error);
        Assert.NotEmpty(Directory.GetDirectories(checkpoints, "checkpoint-*"));
        Assert.True(File.Exists(Path.Combine(output, "adapter", PeftAdapter.WeightsFile)));
    }

    [Fact]
    public void ExportMakeDataAndBenchmarkRefuseAFolderThatHoldsFiles()
    {
        string output = OldRun("out");
        var export = CliRunner.Run("export", "--model", TinyTextModel.Path, "--adapter", output, "--output", output);
        Assert.Equal(2, export.ExitCode);
        Assert.StartsWith($"lfu export: --output '{output}' is not empty", Assert.Single(export.ErrorLines));

        var makeData = CliRunner.Run("make-data", "--output", output);
        Assert.Equal(2, makeData.ExitCode);
        Assert.StartsWith($"lfu make-data: --output '{output}' is not empty", Assert.Single(makeData.ErrorLines));

        var benchmark = CliRunner.Run("benchmark", "--output", output);
        Assert.Equal(2, benchmark.ExitCode);
        Assert.StartsWith($"lfu benchmark: --output '{output}' is not empty; add --resume to continue", Assert.Single(benchmark.ErrorLines));
        Assert.Equal(2, CliRunner.Run("benchmark", "--output", output, "--resume", "--overwrite").ExitCode);
        Assert.Equal("old", File.ReadAllText(Path.Combine(output, "summary.json")));
    }

    [Fact]
    public void CommitSwapsTheStagedFilesInAndKeepsLocksAndKeptFolders()
    {
        string target = OldRun("out");
        File.WriteAllText(Path.Combine(target, ".lfu-output.lock"), "");
        Directory.CreateDirectory(Path.Combine(target, "checkpoints"));
        using (var folder = OutputFolder.Open(target, overwrite: true, keep: [Path.Combine(target, "checkpoints", "checkpoint-2")]))
        {
            Assert.NotEqual(target, folder.Path);
            File.WriteAllText(Path.Combine(folder.Path, "summary.json"), "new");
            Assert.Equal("old", File.ReadAllText(Path.Combine(target, "summary.json"))); // untouched until the commit
            folder.Commit();
        }
        Assert.Equal([".lfu-output.lock", "checkpoints", "summary.json"], Directory.GetFileSystemEntries(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("new", File.ReadAllText(Path.Combine(target, "summary.json")));
        Assert.Single(Directory.GetFileSystemEntries(Dir));

        // Only locks and kept folders: as good as empty, written in place.
        File.Delete(Path.Combine(target, "summary.json"));
        using var again = OutputFolder.Open(target, overwrite: false, keep: [Path.Combine(target, "checkpoints")]);
        Assert.Equal(target, again.Path);
    }
}
