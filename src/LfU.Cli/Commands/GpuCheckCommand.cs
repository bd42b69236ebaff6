using System.CommandLine;
using LfU.Cli.GpuCheck;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu gpu-check</c>: the whole GPU check in one call (device and matmul rate, fixture parity, the float64 LfU
/// reference step, a bf16 fine-tune beside the CPU, <c>lfu bench</c> beside PyTorch), each step under a hard budget,
/// into report.md and report.json. <c>--cpu-dry-run</c> runs the same steps on the CPU with tiny shapes.
/// </summary>
internal static class GpuCheckCommand
{
    /// <summary>Where scripts/gpu-check.sh puts the payload (fixtures, model, data, configs, pt_lfu_bench.py): next to the program.</summary>
    public const string PayloadFolder = "gpu-check";

    internal static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for report.md and report.json (created; on the GPU machine: $OUT).", Required = true };
        var dryRun = new Option<bool>("--cpu-dry-run") { Description = "Run every step on the CPU with tiny shapes and without PyTorch, to check the check." };
        var root = new Option<DirectoryInfo?>("--root")
        {
            Description = $"A folder laid out like the repository (tests/LfU.MLNet.Tests/Fixtures, data/...). Default: the '{PayloadFolder}' folder next to the program, else the current folder.",
        };
        var pytorch = new Option<FileInfo?>("--pytorch-reference") { Description = "shared/bench/pt_lfu_bench.py (default: ROOT/pt_lfu_bench.py)." };
        var only = new Option<string?>("--only") { Description = "Comma-separated step ids to run (a, b, c, d, e, e1, e2); default: all." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Empty --output first; the report is rewritten after every step so that a run stopped by a time limit keeps what it checked." };
        var command = new Command("gpu-check", "Check CUDA in one call: device, parity, LfU reference step, bf16 fine-tune vs CPU, bench vs PyTorch; writes report.md and report.json.")
        {
            output, dryRun, root, pytorch, only, overwrite,
        };
        command.SetAction(parse => Run(parse.GetValue(output)!, parse.GetValue(dryRun), parse.GetValue(root), parse.GetValue(pytorch), parse.GetValue(only), parse.GetValue(overwrite)));
        return command;
    }

    static int Run(DirectoryInfo output, bool dryRun, DirectoryInfo? rootOption, FileInfo? pytorch, string? onlyList, bool overwrite)
    {
        string root = rootOption?.FullName ?? DefaultRoot();
        string fixtures = Path.Combine(root, "tests", "LfU.MLNet.Tests", "Fixtures");
        if (!Directory.Exists(fixtures))
            throw new CliUsageException($"--root '{root}' does not hold tests/LfU.MLNet.Tests/Fixtures; run from a checkout, pass --root, or pack the payload with scripts/gpu-check.sh.");
        var settings = new GpuCheckSettings(dryRun, root, output.FullName, pytorch?.FullName ?? Path.Combine(root, "pt_lfu_bench.py"));
        HashSet<string>? only = null;
        if (onlyList is not null)
        {
            var known = GpuCheckRunner.Steps(settings).SelectMany(s => new[] { s.Id, s.Id[..1] }).ToHashSet();
            only = onlyList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
            var unknown = only.Where(id => !known.Contains(id)).ToList();
            if (only.Count == 0 || unknown.Count > 0)
                throw new CliUsageException($"--only: unknown step {string.Join(", ", unknown.Select(u => $"'{u}'"))}; choose from {string.Join(", ", known.Order())}.");
        }
        // Emptied up front rather than swapped in at the end: the report is written step by step, for runs cut short.
        OutputFolder.Clear(output.FullName, overwrite);
        var reports = new GpuCheckRunner(settings, Console.Out).Run(only);
        return reports.All(r => r.Status == CheckStatus.Pass) ? 0 : 1;
    }

    static string DefaultRoot()
    {
        string payload = Path.Combine(AppContext.BaseDirectory, PayloadFolder);
        return Directory.Exists(payload) ? payload : Directory.GetCurrentDirectory();
    }
}
