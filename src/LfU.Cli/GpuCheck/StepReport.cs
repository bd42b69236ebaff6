using System.Text.Json.Nodes;

namespace LfU.Cli.GpuCheck;

/// <summary>A finished (or failed) step as the report shows it.</summary>
internal sealed record StepReport(string Id, string Title, CheckStatus Status, double Seconds, double BudgetSeconds, string Summary, string Details, JsonObject? Data, string? Error);
