using System.Text.Json.Nodes;

namespace LfU.Cli.GpuCheck;

/// <summary>How a gpu-check step ended.</summary>
internal enum CheckStatus
{
    /// <summary>Ran, and every stated tolerance or target held.</summary>
    Pass,
    /// <summary>Ran, and some tolerance or target did not hold (the report says which).</summary>
    Fail,
    /// <summary>Threw: the step could not measure (the report has the error).</summary>
    Error,
    /// <summary>Ran past its time budget and was cancelled or abandoned.</summary>
    Timeout,
}

/// <summary>What one step measured.</summary>
/// <param name="Status">Pass or Fail; Timeout when the step kept part of its measurement past its budget (the runner adds Error and Timeout otherwise).</param>
/// <param name="Summary">One line for the headline table.</param>
/// <param name="Details">The step's Markdown section body (tables, tolerances and why).</param>
/// <param name="Data">The same numbers for report.json.</param>
internal sealed record CheckOutcome(CheckStatus Status, string Summary, string Details, JsonObject Data);

/// <summary>A finished (or failed) step as the report shows it.</summary>
internal sealed record StepReport(string Id, string Title, CheckStatus Status, double Seconds, double BudgetSeconds, string Summary, string Details, JsonObject? Data, string? Error);
