using System.Diagnostics;
using LfU.Cli.Commands;
using LfU.MLNet.IO;
using LfU.MLNet.Training;
using LfU.MLNet.Tests.Checkpoints;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

/// <summary><c>lfu train</c> when things go wrong: divergence, a second run on the same folders, SIGTERM.</summary>
[Collection("Console")]
public sealed class TrainCommandSafetyTests : IDisposable
{
    readonly ScratchFolder _scratch = new();
    string Dir => _scratch.Path;

    public void Dispose() => _scratch.Dispose();

    string[] Train(string output, params string[] extra) =>
        ["train", "--model", TinyTextModel.Path, "--data", CliRunner.MiniWorldSample(Dir, "finetune_train.jsonl", 4), "--output", output,
         "--batch", "2", "--lora-r", "2", "--objective", "sft", .. extra];

    [Fact]
    public void DivergenceFailsWithOneLineAndWritesTheLogUpToTheFailure()
    {
        string output = Path.Combine(Dir, "out");
        var run = CliRunner.Run(Train(output, "--max-steps", "3", "--lr", "1e36", "--max-grad-norm", "0", "--warmup", "0"));

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("lfu: error: Training diverged at step 2: ", Assert.Single(run.ErrorLines));
        string[] log = File.ReadAllLines(Path.Combine(output, TrainCommand.LogFile));
        Assert.Equal(2, log.Length);  // the header and step 1
        Assert.StartsWith("1,", log[1]);
    }

    [Fact]
    public void ASecondRunOnTheSameOutputFailsAtOnceNamingTheHolder()
    {
        string output = Path.Combine(Dir, "out");
        using var otherRun = FolderLock.Acquire(output, "output");
        var clock = Stopwatch.StartNew();

        var run = CliRunner.Run(Train(output, "--max-steps", "1"));

        Assert.Equal(1, run.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.StartsWith($"lfu: error: '{output}' is in use by another run (pid {Environment.ProcessId} on {Environment.MachineName}, started ", Assert.Single(run.ErrorLines));
        Assert.False(File.Exists(Path.Combine(output, TrainCommand.LogFile)));
    }

    [Fact]
    public void ASecondRunOnTheSameCheckpointFolderFailsAtOnce()
    {
        string checkpoints = Path.Combine(Dir, "checkpoints");
        using var otherRun = FolderLock.Acquire(checkpoints, "checkpoints");

        var run = CliRunner.Run(Train(Path.Combine(Dir, "out"), "--max-steps", "1", "--checkpoint-dir", checkpoints));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"'{checkpoints}' is in use by another run", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task SigtermWritesACheckpointLikeCtrlC()
    {
        if (OperatingSystem.IsWindows()) return;
        string checkpoints = Path.Combine(Dir, "checkpoints");
        using var child = ChildProcess.Start(ChildProcess.Dotnet,
            [Path.Combine(AppContext.BaseDirectory, "lfu.dll"), .. Train(Path.Combine(Dir, "out"), "--max-steps", "100000", "--checkpoint-dir", checkpoints)]);

        // The trainer holds the checkpoint folder's lock once it exists, and the signal handler is in place before it.
        string holder = Path.Combine(checkpoints, ".lfu-checkpoints.lock.holder");
        var waited = Stopwatch.StartNew();
        while (!File.Exists(holder) && !child.HasExited && waited.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(100);
        if (!File.Exists(holder)) Assert.Fail($"training never started: {(child.HasExited ? await child.Error : "still loading")}");

        ChildProcess.Run("kill", ["-TERM", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).EnsureSuccess();
        var run = await child.WaitForExitAsync(TimeSpan.FromMinutes(1));

        string errors = run.Error;
        Assert.True(run.ExitCode == 130, run.Describe());
        Assert.Contains("SIGTERM: stopping at the next step", errors);
        Assert.Contains($"a checkpoint is in {checkpoints}", errors);
        Assert.NotEmpty(TrainingCheckpoint.List(checkpoints));
        Assert.False(File.Exists(Path.Combine(checkpoints, ".lfu-checkpoints.lock.holder")));  // released on the way out
    }
}
