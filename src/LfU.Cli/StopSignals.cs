namespace LfU.Cli;

/// <summary>Turns Ctrl+C into a cancellation token for the lifetime of a command; a second Ctrl+C ends the process.</summary>
internal sealed class CtrlC : IDisposable
{
    readonly CancellationTokenSource _source = new();

    internal CtrlC() => Console.CancelKeyPress += OnCancelKeyPress;

    internal CancellationToken Token => _source.Token;

    void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        try
        {
            if (_source.IsCancellationRequested) return; // the second press: let the process end
            e.Cancel = true;
            Console.Error.WriteLine();
            Console.Error.WriteLine("lfu: stopping at the next step or batch (Ctrl+C again to quit at once)...");
            _source.Cancel();
        }
        catch (ObjectDisposedException) { /* the command just finished */ }
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _source.Dispose();
    }
}
