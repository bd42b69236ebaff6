using System.Text.Json.Nodes;
using LfU.Cli.GpuCheck;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

/// <summary>
/// The GPU check cannot rot: its CPU dry run takes every step of the real run (tiny shapes, no PyTorch) and must pass
/// and write the report layout the GPU run writes.
/// </summary>
[Collection("Console")]
public sealed class GpuCheckCommandTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-gpu-check-");
    string _folder => _temp.Path;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void CpuDryRunPassesEveryStepAndWritesTheReport()
    {
        var outcome = CliRunner.Run("gpu-check", "--cpu-dry-run", "--output", _folder, "--root", TinyTextModel.RepositoryRoot());
        Assert.True(outcome.ExitCode == 0, $"exit {outcome.ExitCode}\n{outcome.Out}\n{outcome.Error}");

        string markdown = File.ReadAllText(Path.Combine(_folder, GpuCheckReport.MarkdownFile));
        Assert.Contains("Mode: **cpu-dry-run**", markdown);
        Assert.Contains("| step | check | status | time (s) | budget (s) | result |", markdown);
        foreach (string section in new[] { "## a. TorchSharp on CUDA", "## b. Parity on CUDA", "## c. LfU reference step", "## d. Short LfU fine-tune",
                                           "## e1. lfu bench beside PyTorch: Llama-3.2-1B", "## e2. lfu bench beside PyTorch: Llama-3.1-8B" })
            Assert.Contains(section, markdown);
        Assert.Contains("| llama-tiny | bfloat16 |", markdown);
        Assert.Contains("| reps_same_batch |", markdown);
        Assert.Contains("| lfu-lora-independent |", markdown);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, GpuCheckReport.JsonFile)))!;
        Assert.Equal("cpu-dry-run", json["mode"]!.GetValue<string>());
        var steps = json["steps"]!.AsArray();
        Assert.Equal(new[] { "a", "b", "c", "d", "e1", "e2" }, steps.Select(s => s!["id"]!.GetValue<string>()));
        Assert.All(steps, s => Assert.Equal("pass", s!["status"]!.GetValue<string>()));
        Assert.Equal(2, steps[3]!["data"]!["cpu"]!["sft_losses"]!.AsArray().Count);
        Assert.Equal(4, steps[4]!["data"]!["objectives"]!.AsArray().Count);
        // The table is printed last, for the device tool's output tail.
        Assert.EndsWith("|", outcome.Out.TrimEnd());
    }

    [Fact]
    public void TheBudgetsFitTheEightMinutes()
    {
        var settings = new GpuCheckSettings(DryRun: false, "/repo", "/out", null);
        Assert.True(settings.TotalBudget <= TimeSpan.FromMinutes(7.5), $"step budgets add up to {settings.TotalBudget}");
        Assert.Equal(new[] { "a", "b", "c", "d", "e1", "e2" }, GpuCheckRunner.Steps(settings).Select(s => s.Id));
    }

    [Fact]
    public void AStepThatThrowsIsRecordedAndTheNextStepsStillRun()
    {
        var settings = new GpuCheckSettings(DryRun: true, Path.Combine(_folder, "missing-root"), _folder, null);
        var log = new StringWriter();
        var reports = new GpuCheckRunner(settings, log).Run(new HashSet<string> { "b", "c" });
        Assert.Equal(new[] { "b", "c" }, reports.Select(r => r.Id));
        Assert.All(reports, r => Assert.Equal(CheckStatus.Error, r.Status));
        Assert.Contains("## c. LfU reference step", File.ReadAllText(Path.Combine(_folder, GpuCheckReport.MarkdownFile)));
    }

    [Fact]
    public void TargetsCompareTheEightBStepsAndPeaks()
    {
        var record = new LfU.Cli.Commands.BenchRecord("llama-3.1-8b.json", "cuda", "bfloat16", 4, 512, 6, 2, 8_000_000_000, "probe", 780,
            [new("sft", 250, 8000, 30, 300, 0.4), new("lfu-lora", 480, 4000, 34, 300, 0.4)],
            Comparisons: [new("a", "sft", "sft", 250, 270.7), new("b", "lfu-lora", "lfu_same_batch_2f2b", 480, 617.8), new("c", "lfu-lora", "lfu_official_3f3b", 480, 967.5)]);
        var targets = BenchCheck.Targets(record);
        Assert.Equal(4, targets.Count);
        Assert.Equal(new[] { true, true, true, false }, targets.Select(t => t.Met)); // 34 / 30 GiB is over + 10 %
    }

    [Fact]
    public void AnObjectiveOutOfMemoryIsARowThatSurvivesTheJsonAndSetsNoTarget()
    {
        var record = new LfU.Cli.Commands.BenchRecord("llama-3.1-8b.json", "cuda", "bfloat16", 4, 512, 6, 2, 8_000_000_000, "probe", 780,
            [new("sft", 250, 8000, 30, 300, 0.4), LfU.Cli.Commands.BenchObjectiveRow.OutOfMemory("lfu-lora", 139.5, "CUDA out of memory. Tried to allocate 20.00 MiB")],
            Comparisons: [new("a", "sft", "sft", 250, 270.7)]);
        string json = Path.Combine(_folder, "bench.json");
        record.Write(json);
        var back = LfU.Cli.Commands.BenchRecord.Read(json);
        Assert.StartsWith("CUDA out of memory", back.Objectives[1].Error);
        Assert.True(double.IsNaN(back.Objectives[1].MedianMs));
        Assert.Null(back.Objectives[0].Error);
        Assert.Equal(new[] { "SFT / PyTorch+peft SFT step" }, BenchCheck.Targets(back).Select(t => t.What)); // no peak ratio from a failed row
    }

    [Fact]
    public void OnlyAllocationFailuresCountAsOutOfMemory()
    {
        Assert.True(LfU.Cli.Commands.BenchCommand.IsOutOfMemory(new System.Runtime.InteropServices.ExternalException("CUDA out of memory. Tried to allocate 20.00 MiB.")));
        Assert.True(LfU.Cli.Commands.BenchCommand.IsOutOfMemory(new System.Runtime.InteropServices.ExternalException("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")));
        Assert.False(LfU.Cli.Commands.BenchCommand.IsOutOfMemory(new System.Runtime.InteropServices.ExternalException("Expected a 'cuda' device type for generator but found 'cpu'")));
        Assert.False(LfU.Cli.Commands.BenchCommand.IsOutOfMemory(new InvalidOperationException("out of memory")));
    }

    [Fact]
    public void UnknownStepsAreAUsageError()
    {
        var outcome = CliRunner.Run("gpu-check", "--cpu-dry-run", "--output", _folder, "--root", TinyTextModel.RepositoryRoot(), "--only", "a,z");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--only: unknown step 'z'", outcome.Error);
    }
}
