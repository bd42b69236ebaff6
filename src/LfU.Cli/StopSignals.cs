using System.Runtime.InteropServices;

namespace LfU.Cli;

/// <summary>
/// Turns Ctrl+C (SIGINT) and SIGTERM (what `kill`, systemd and container runtimes send) into a cancellation token for
/// the lifetime of a command, so that both stop at the next step or batch and training writes its checkpoint. A
/// second signal ends the process at once.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    readonly CancellationTokenSource _source = new();
    readonly PosixSignalRegistration? _terminate;

    internal StopSignals()
    {
        Console.CancelKeyPress += OnCancelKeyPress;
        if (!OperatingSystem.IsWindows()) _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate);
    }

    internal CancellationToken Token => _source.Token;

    void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e) => e.Cancel = RequestStop("Ctrl+C");

    void OnTerminate(PosixSignalContext context) => context.Cancel = RequestStop("SIGTERM");

    /// <summary>Cancels the token; returns whether the signal's default action (ending the process) is to be suppressed.</summary>
    bool RequestStop(string signal)
    {
        try
        {
            if (_source.IsCancellationRequested) return false; // the second signal: let the process end
            Console.Error.WriteLine();
            Console.Error.WriteLine($"lfu: {signal}: stopping at the next step or batch ({signal} again to quit at once)...");
            _source.Cancel();
            return true;
        }
        catch (ObjectDisposedException) { return false; /* the command just finished */ }
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _terminate?.Dispose();
        _source.Dispose();
    }
}
