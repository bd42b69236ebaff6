using System.Diagnostics;

namespace LfU.MLNet.Tests;

/// <summary>
/// The one way tests start another process: arguments as a list (no quoting), environment overrides, both output
/// streams read concurrently (a child never blocks on a full pipe), a time limit that kills the whole process tree, and
/// failures that name the command, its exit code and the tails of its output.
/// </summary>
internal static class ChildProcess
{
    /// <summary>The time a child gets unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The dotnet that runs these tests (the test host sets DOTNET_HOST_PATH), else the one on the PATH.</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Runs <paramref name="fileName"/> to the end and returns what it did; throws <see cref="TimeoutException"/> (after killing it) if it outlives <paramref name="timeout"/>.</summary>
    public static ChildProcessResult Run(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        using var child = Start(fileName, arguments, environment, workingDirectory);
        return child.WaitForExit(timeout ?? DefaultTimeout);
    }

    /// <summary>Runs a .NET program (<paramref name="dll"/>) with the dotnet that runs these tests.</summary>
    public static ChildProcessResult RunDotnet(string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null, TimeSpan? timeout = null) =>
        Run(Dotnet, [dll, .. arguments], environment, workingDirectory, timeout);

    /// <summary>Starts <paramref name="fileName"/> and returns at once, for tests that act on a running child (disposing it kills what is left).</summary>
    public static RunningChildProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        string commandLine = string.Join(' ', start.ArgumentList.Prepend(fileName).Select(Quote));
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"`{commandLine}` did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"`{commandLine}` could not start: {e.Message}", e);
        }
        return new RunningChildProcess(process, commandLine);
    }

    /// <summary>An argument as a POSIX shell would need it, for messages.</summary>
    static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '=' or ',' or '+' or '@')
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}

/// <summary>A started child whose standard output and error are read as it runs.</summary>
internal sealed class RunningChildProcess : IDisposable
{
    readonly Process _process;
    readonly Task<string> _out, _error;

    internal RunningChildProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
        _out = process.StandardOutput.ReadToEndAsync();
        _error = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The command, quoted as a shell would need it.</summary>
    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the child wrote to standard error, complete once it has exited.</summary>
    public Task<string> Error => _error;

    /// <summary>Waits for the child to exit; past <paramref name="timeout"/> kills its process tree and throws <see cref="TimeoutException"/>.</summary>
    public ChildProcessResult WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) throw TimedOut(timeout);
        return Result();
    }

    /// <inheritdoc cref="WaitForExit"/>
    public async Task<ChildProcessResult> WaitForExitAsync(TimeSpan timeout)
    {
        using var patience = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException) when (patience.IsCancellationRequested)
        {
            throw TimedOut(timeout);
        }
        return Result();
    }

    ChildProcessResult Result()
    {
        _process.WaitForExit(); // and for the ends of its output
        return new ChildProcessResult(CommandLine, _process.ExitCode, _out.Result, _error.Result);
    }

    TimeoutException TimedOut(TimeSpan timeout)
    {
        Kill();
        string output = _process.WaitForExit(TimeSpan.FromSeconds(10)) && Task.WaitAll([_out, _error], TimeSpan.FromSeconds(10))
            ? new ChildProcessResult(CommandLine, -1, _out.Result, _error.Result).Tails()
            : "";
        return new TimeoutException($"`{CommandLine}` ran over {timeout} and was killed.{output}");
    }

    void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { /* it exited meanwhile */ }
    }

    /// <summary>Kills the child's process tree if it is still running.</summary>
    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}

/// <summary>What a child process did.</summary>
/// <param name="CommandLine">The command, quoted as a shell would need it.</param>
internal sealed record ChildProcessResult(string CommandLine, int ExitCode, string Out, string Error)
{
    const int TailLength = 4000;

    /// <summary>The command, its exit code and the tails of its output: what a failing test should say.</summary>
    public string Describe() => $"`{CommandLine}` exited with {ExitCode}.{Tails()}";

    /// <summary>Throws <see cref="ChildProcessFailedException"/> (failing the test) unless the child exited with 0.</summary>
    public ChildProcessResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new ChildProcessFailedException(Describe());

    internal string Tails() => $"\n--- stderr (tail) ---\n{Tail(Error)}\n--- stdout (tail) ---\n{Tail(Out)}";

    static string Tail(string text) => text.Length <= TailLength ? text.TrimEnd() : "…" + text[^TailLength..].TrimEnd();
}

/// <summary>A child process exited with a non-zero code where the test needed it to succeed.</summary>
internal sealed class ChildProcessFailedException(string message) : Exception(message);
