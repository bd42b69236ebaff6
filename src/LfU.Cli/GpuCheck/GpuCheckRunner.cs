using System.Diagnostics;
using System.Globalization;

namespace LfU.Cli.GpuCheck;

/// <summary>
/// Runs the gpu-check steps one after another, each under its hard time budget, and rewrites report.md and report.json
/// after every step, so that a run killed from outside still leaves what it measured. A step that throws or overruns
/// is recorded and the next step runs.
/// </summary>
internal sealed class GpuCheckRunner(GpuCheckSettings settings, TextWriter log)
{
    /// <summary>How long past its budget an in-process step that ignores cancellation is waited for before it is abandoned.</summary>
    static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    /// <summary>A dry run shares a small CPU with other work (CI, builds): its budgets are this many times the GPU run's.</summary>
    public const int DryRunBudgetFactor = 4;

    /// <summary>Every step, in report order: a, b, c, d, then e once per model shape.</summary>
    public static IReadOnlyList<CheckStep> Steps(GpuCheckSettings settings) =>
        [DeviceCheck.Step, ParityCheck.Step, ReferenceCheck.Step, FineTuneCheck.Step, .. settings.BenchShapes.Select(BenchCheck.StepFor)];

    /// <summary>Runs the steps whose ids are in <paramref name="only"/> (all when null) and returns their reports.</summary>
    public IReadOnlyList<StepReport> Run(IReadOnlySet<string>? only = null)
    {
        Directory.CreateDirectory(settings.OutputFolder);
        var context = new GpuCheckContext(settings);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var reports = new List<StepReport>();
        var steps = Steps(settings).Where(s => only is null || only.Contains(s.Id) || only.Contains(s.Id[..1])).ToList();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"lfu gpu-check ({settings.Mode}): {steps.Count} steps, GPU budgets {steps.Sum(s => s.Budget.TotalSeconds):F0} s in all{(settings.DryRun ? $" (× {DryRunBudgetFactor} in a dry run)" : "")}; report in {settings.OutputFolder}"));
        foreach (var step in steps)
        {
            log.WriteLine($"[{step.Id}] {step.Title} ...");
            var report = RunOne(settings.DryRun ? step with { Budget = step.Budget * DryRunBudgetFactor } : step, context);
            reports.Add(report);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{step.Id}] {report.Status.ToString().ToLowerInvariant()} in {report.Seconds:F1} s: {report.Summary}"));
            GpuCheckReport.Write(settings, started, clock.Elapsed, reports);
        }
        log.WriteLine();
        log.WriteLine(GpuCheckReport.HeadlineTable(reports));
        return reports;
    }

    static StepReport RunOne(CheckStep step, GpuCheckContext context)
    {
        using var budget = new CancellationTokenSource(step.Budget);
        CheckOutcome? outcome = null;
        Exception? error = null;
        var clock = Stopwatch.StartNew();
        // A background thread: one that ignores cancellation past the grace period is abandoned, and cannot keep the process alive.
        var worker = new Thread(() =>
        {
            try { outcome = step.Run(context, budget.Token); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true, Name = $"gpu-check {step.Id}" };
        worker.Start();
        bool finished = worker.Join(step.Budget + Grace);
        double seconds = clock.Elapsed.TotalSeconds;
        double limit = step.Budget.TotalSeconds;
        if (!finished)
            return new StepReport(step.Id, step.Title, CheckStatus.Timeout, seconds, limit,
                $"still running {Grace.TotalSeconds:F0} s past its {limit:F0} s budget; abandoned", "The step did not finish within its budget.", null, null);
        if (error is OperationCanceledException && budget.IsCancellationRequested)
            return new StepReport(step.Id, step.Title, CheckStatus.Timeout, seconds, limit,
                $"cancelled at its {limit:F0} s budget", "The step did not finish within its budget.", null, null);
        if (error is not null)
            return new StepReport(step.Id, step.Title, CheckStatus.Error, seconds, limit, CliApp.OneLine(error),
                "The step failed:\n\n```\n" + error + "\n```", null, error.GetType().Name + ": " + CliApp.OneLine(error));
        return new StepReport(step.Id, step.Title, outcome!.Status, seconds, limit, outcome.Summary, outcome.Details, outcome.Data, null);
    }
}
