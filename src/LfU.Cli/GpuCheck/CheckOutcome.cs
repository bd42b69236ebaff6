using System.Text.Json.Nodes;

namespace LfU.Cli.GpuCheck;

/// <summary>What one step measured.</summary>
/// <param name="Status">Pass or Fail; Timeout when the step kept part of its measurement past its budget (the runner adds Error and Timeout otherwise).</param>
/// <param name="Summary">One line for the headline table.</param>
/// <param name="Details">The step's Markdown section body (tables, tolerances and why).</param>
/// <param name="Data">The same numbers for report.json.</param>
internal sealed record CheckOutcome(CheckStatus Status, string Summary, string Details, JsonObject Data);
