namespace LfU.Cli.GpuCheck;

/// <summary>
/// One step of <c>lfu gpu-check</c>: a title, a hard time budget and the measurement. The measurement gets a token
/// that is cancelled when the budget is spent; it checks it between units of work.
/// </summary>
internal sealed record CheckStep(string Id, string Title, TimeSpan Budget, Func<GpuCheckContext, CancellationToken, CheckOutcome> Run);
