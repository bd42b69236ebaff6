using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.MLNet.IO;

namespace LfU.Cli.GpuCheck;

/// <summary>
/// report.md (a headline table, then one section per step) and report.json (the same, as data) in the output folder.
/// The layout is the same in a CPU dry run and on the GPU machine.
/// </summary>
internal static class GpuCheckReport
{
    public const string MarkdownFile = "report.md";
    public const string JsonFile = "report.json";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Write(GpuCheckSettings settings, DateTimeOffset started, TimeSpan elapsed, IReadOnlyList<StepReport> steps)
    {
        AtomicFile.WriteAllText(Path.Combine(settings.OutputFolder, MarkdownFile), Markdown(settings, started, elapsed, steps));
        AtomicFile.WriteAllText(Path.Combine(settings.OutputFolder, JsonFile), Json(settings, started, elapsed, steps).ToJsonString(Indented) + "\n");
    }

    /// <summary>| step | check | status | time | budget | result |, one row per step.</summary>
    public static string HeadlineTable(IReadOnlyList<StepReport> steps)
    {
        var text = new StringBuilder();
        text.AppendLine("| step | check | status | time (s) | budget (s) | result |");
        text.AppendLine("|---|---|---|---:|---:|---|");
        foreach (var s in steps)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {s.Id} | {s.Title} | {StatusWord(s.Status)} | {s.Seconds:F1} | {s.BudgetSeconds:F0} | {s.Summary.Replace("|", "\\|")} |"));
        return text.ToString().TrimEnd();
    }

    public static string StatusWord(CheckStatus status) => status switch
    {
        CheckStatus.Pass => "pass",
        CheckStatus.Fail => "FAIL",
        CheckStatus.Error => "ERROR",
        _ => "TIMEOUT",
    };

    static string Markdown(GpuCheckSettings settings, DateTimeOffset started, TimeSpan elapsed, IReadOnlyList<StepReport> steps)
    {
        var text = new StringBuilder();
        text.AppendLine("# lfu gpu-check report");
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Mode: **{settings.Mode}**{(settings.DryRun ? " (CPU, tiny shapes, no PyTorch: checks that the check itself works)" : "")}. " +
            $"Started {started:yyyy-MM-dd HH:mm:ss} UTC; {elapsed.TotalSeconds:F1} s so far; {steps.Count} step(s) reported; " +
            $"every step has a hard budget (all together {settings.TotalBudget.TotalSeconds:F0} s)."));
        text.AppendLine();
        text.AppendLine(HeadlineTable(steps));
        foreach (var s in steps)
        {
            text.AppendLine();
            text.AppendLine($"## {s.Id}. {s.Title}");
            text.AppendLine();
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Status: **{StatusWord(s.Status)}** in {s.Seconds:F1} s (budget {s.BudgetSeconds:F0} s). {s.Summary}"));
            text.AppendLine();
            text.AppendLine(s.Details.TrimEnd());
        }
        return text.ToString();
    }

    static JsonObject Json(GpuCheckSettings settings, DateTimeOffset started, TimeSpan elapsed, IReadOnlyList<StepReport> steps) => new()
    {
        ["schema"] = 1,
        ["mode"] = settings.Mode,
        ["started_utc"] = started.ToString("o", CultureInfo.InvariantCulture),
        ["elapsed_seconds"] = Math.Round(elapsed.TotalSeconds, 1),
        ["total_budget_seconds"] = settings.TotalBudget.TotalSeconds,
        ["steps"] = new JsonArray(steps.Select(s => (JsonNode)new JsonObject
        {
            ["id"] = s.Id,
            ["title"] = s.Title,
            ["status"] = StatusWord(s.Status).ToLowerInvariant(),
            ["seconds"] = Math.Round(s.Seconds, 2),
            ["budget_seconds"] = s.BudgetSeconds,
            ["summary"] = s.Summary,
            ["error"] = s.Error,
            ["data"] = s.Data?.DeepClone(),
        }).ToArray()),
    };
}
