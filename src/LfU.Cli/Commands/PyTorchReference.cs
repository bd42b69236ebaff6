using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LfU.Cli.Commands;

/// <summary>
/// Runs the PyTorch reference benchmark (shared/bench/pt_lfu_bench.py: transformers + peft) in a child process and
/// compares its medians with ours, so both are measured on the same card in the same call.
/// </summary>
internal static class PyTorchReference
{
    /// <summary>One variant the script timed.</summary>
    internal sealed record Timing(string Variant, double MedianMs, double PeakGiB);

    /// <summary>One of our objectives beside the PyTorch variant it is compared with.</summary>
    internal sealed record Comparison(string Label, string Ours, string Theirs, double OursMs, double TheirsMs)
    {
        public double Ratio => OursMs / TheirsMs;
    }

    /// <summary>Our objective names and the PyTorch variants they are compared with.</summary>
    static readonly (string Ours, string Theirs, string Label)[] Pairs =
    {
        ("sft", "sft", "SFT vs PyTorch+peft SFT"),
        ("lfu-lora", "lfu_same_batch_2f2b", "LfU-LoRA same batch vs PyTorch same batch (2F+2B)"),
        ("lfu-lora", "lfu_official_3f3b", "LfU-LoRA same batch vs PyTorch official code (3F+3B)"),
        ("lfu-lora-independent", "lfu_official_3f3b", "LfU-LoRA independent batch vs PyTorch official code (3F+3B)"),
        // PyTorch has no RepS; the same-batch LoRA step has the same passes (2F+2B).
        ("lfu-reps", "lfu_same_batch_2f2b", "LfU-RepS vs PyTorch LoRA same batch (2F+2B)"),
    };

    /// <summary>Runs <c>python3 SCRIPT SHAPE BATCH SEQ STEPS</c> and parses its JSON lines; cancelling kills it.</summary>
    internal static IReadOnlyList<Timing> Run(string script, string shape, int batch, int sequence, int steps, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { script, shape, batch.ToString(CultureInfo.InvariantCulture), sequence.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start python3 for --pytorch-reference.");
        using var kill = cancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } });
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        cancellationToken.ThrowIfCancellationRequested();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"--pytorch-reference: python3 {Path.GetFileName(script)} exited with {process.ExitCode}: {LastLine(stderr.Result)}");
        return Parse(stdout);
    }

    /// <summary>Reads the script's output: one JSON object per line with variant, step_ms_median and peak_mem_gib.</summary>
    internal static IReadOnlyList<Timing> Parse(string output)
    {
        var timings = new List<Timing>();
        int lineNumber = 0;
        foreach (string line in output.Split('\n'))
        {
            lineNumber++;
            if (!line.TrimStart().StartsWith('{')) continue;
            try
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                timings.Add(new Timing(root.GetProperty("variant").GetString()!, root.GetProperty("step_ms_median").GetDouble(),
                    root.TryGetProperty("peak_mem_gib", out var peak) ? peak.GetDouble() : double.NaN));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"--pytorch-reference output line {lineNumber} is not a timing record ({e.Message}): {line}");
            }
        }
        if (timings.Count == 0) throw new InvalidDataException("--pytorch-reference printed no timing lines.");
        return timings;
    }

    /// <summary>Our medians beside PyTorch's, for every pair that both sides measured.</summary>
    internal static IReadOnlyList<Comparison> Comparisons(IReadOnlyDictionary<string, double> oursMs, IReadOnlyList<Timing> theirs) =>
        Pairs.Select(pair => (pair, reference: theirs.FirstOrDefault(t => t.Variant == pair.Theirs)))
            .Where(x => x.reference is not null && oursMs.ContainsKey(x.pair.Ours))
            .Select(x => new Comparison(x.pair.Label, x.pair.Ours, x.pair.Theirs, oursMs[x.pair.Ours], x.reference!.MedianMs))
            .ToList();

    /// <summary>A Markdown table of PyTorch's medians beside ours, with ours / theirs.</summary>
    internal static string Compare(IReadOnlyDictionary<string, double> oursMs, IReadOnlyList<Timing> theirs)
    {
        var text = new StringBuilder();
        text.AppendLine("| comparison | ours (ms) | PyTorch (ms) | ours / PyTorch |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var c in Comparisons(oursMs, theirs))
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {c.Label} | {c.OursMs:F1} | {c.TheirsMs:F1} | {c.Ratio:F2} |"));
        text.AppendLine();
        text.Append("PyTorch peak memory: ").AppendJoin(", ", theirs.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Variant} {t.PeakGiB:F2} GiB")));
        return text.ToString();
    }

    internal static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no error output)";
}
