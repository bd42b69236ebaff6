using System.Globalization;
using LfU.MLNet.Training;

namespace LfU.Cli;

/// <summary>
/// A progress bar for long commands: <c>[#####.....] step 12/300 loss 1.234 (sft 1.200, cons 0.0068) lr 1e-04 850 tok/s ETA 00:03:12</c>,
/// redrawn in place on a terminal, or written as plain lines every <c>printEvery</c> steps (and the first and last)
/// when the output is redirected to a file or pipe. Reports may come from any thread. Call <see cref="Complete"/>
/// (or dispose) before writing anything else, so that the next text starts on a fresh line, also after Ctrl+C.
/// </summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>, IDisposable
{
    const int BarWidth = 20;
    readonly TextWriter _output;
    readonly bool _inPlace;
    readonly int _printEvery;
    readonly object _gate = new();
    int _drawnLength;

    /// <summary>Model FLOPs per trained token (6·N for a forward and backward pass); when set, each step also shows GFLOP/s.</summary>
    internal double? FlopsPerToken { get; init; }

    /// <param name="output">Where to draw.</param>
    /// <param name="inPlace">Redraw one line with carriage returns (a terminal) instead of printing lines.</param>
    /// <param name="printEvery">In line mode, print every this many items (and the first and last).</param>
    internal ConsoleProgress(TextWriter output, bool inPlace, int printEvery = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(printEvery, 1);
        _output = output;
        _inPlace = inPlace;
        _printEvery = printEvery;
    }

    /// <summary>Progress on standard output: in place when it is a terminal, else plain lines.</summary>
    internal static ConsoleProgress OnStandardOutput(int printEvery = 10) => new(Console.Out, !Console.IsOutputRedirected, printEvery);

    /// <summary>Draws a training step; a validation result also gets a line of its own.</summary>
    public void Report(TrainingProgress value)
    {
        var m = value.Metrics;
        string losses = m.Consistency is double c ? $"(sft {m.Sft:F3}, cons {c:G3})"
            : m.Penalty is double p ? $"(sft {m.Sft:F3}, penalty {p:G3})"
            : "";
        string flops = FlopsPerToken is double f ? Invariant($" {value.TokensPerSecond * f / 1e9:F1} GFLOP/s") : "";
        string detail = Invariant($"loss {m.Total:F3} {losses} lr {m.LearningRate:0.0e+00} {value.TokensPerSecond:F0} tok/s{flops}").Replace("  ", " ");
        Update("step", m.Step, value.TotalSteps, detail, value.Remaining);
        if (value.Validation is { } v) Message(Invariant($"step {v.Step}: validation loss {v.Loss:F4} ({v.Tokens} tokens)"));
    }

    /// <summary>Draws progress of any counted work, e.g. <c>Update("prompt", 40, 200, "", eta)</c>.</summary>
    /// <param name="unit">What is counted ("step", "prompt", "run").</param>
    /// <param name="current">Items done (1-based).</param>
    /// <param name="total">Items in all.</param>
    /// <param name="detail">Text after the count (may be empty).</param>
    /// <param name="remaining">Estimated time left, if known.</param>
    internal void Update(string unit, int current, int total, string detail, TimeSpan? remaining)
    {
        string text = $"{unit} {current}/{total}" + (detail.Length > 0 ? " " + detail : "") + (remaining is { } r ? $" ETA {FormatDuration(r)}" : "");
        lock (_gate)
        {
            if (_inPlace)
            {
                int filled = total <= 0 ? 0 : (int)Math.Round(BarWidth * Math.Clamp((double)current / total, 0, 1));
                string line = "[" + new string('#', filled) + new string('.', BarWidth - filled) + "] " + text;
                if (TerminalWidth() is int width && line.Length >= width) line = line[..(width - 1)];
                // Pad over what the previous, maybe longer, line left behind.
                _output.Write("\r" + line.PadRight(_drawnLength));
                _drawnLength = line.Length;
                _output.Flush();
            }
            else if (current == 1 || current == total || current % _printEvery == 0)
            {
                _output.WriteLine(text);
                _output.Flush();
            }
        }
    }

    /// <summary>Writes a line of text without breaking the bar (which is redrawn by the next update).</summary>
    internal void Message(string text)
    {
        lock (_gate)
        {
            Complete();
            _output.WriteLine(text);
            _output.Flush();
        }
    }

    /// <summary>Ends the bar's line, so that later output starts on a fresh one. Safe to call more than once.</summary>
    internal void Complete()
    {
        lock (_gate)
        {
            if (_drawnLength == 0) return;
            _output.WriteLine();
            _output.Flush();
            _drawnLength = 0;
        }
    }

    public void Dispose() => Complete();

    /// <summary>hh:mm:ss, with days when longer than one.</summary>
    internal static string FormatDuration(TimeSpan span) =>
        span.TotalDays >= 1 ? span.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture) : span.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);

    static int? TerminalWidth()
    {
        try { return Console.WindowWidth is > 10 and var w ? w : null; }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException) { return null; }
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
