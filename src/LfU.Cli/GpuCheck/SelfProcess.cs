using System.Diagnostics;

namespace LfU.Cli.GpuCheck;

/// <summary>
/// Starts this program (<c>lfu</c>) again as a child process, with the same .NET host, so that a step runs with a clean
/// device memory pool and can be killed when its budget is spent.
/// </summary>
internal static class SelfProcess
{
    /// <summary>The exit code, standard output and standard error of a finished child.</summary>
    internal sealed record Result(int ExitCode, string Out, string Error);

    /// <summary>Runs <c>lfu ARGS</c>; past <paramref name="cancellationToken"/> the child and its children are killed and the token's exception is thrown.</summary>
    public static Result Run(IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var start = StartInfo(args);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{start.FileName}'.");
        using var kill = cancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } });
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        cancellationToken.ThrowIfCancellationRequested();
        return new Result(process.ExitCode, output, error.Result);
    }

    static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        // lfu.dll run by a dotnet host (gpu-run.sh, `dotnet lfu.dll`, the test host): the same host runs the child.
        string program = typeof(CliApp).Assembly.Location;
        string? host = Environment.ProcessPath;
        if (host is null || Path.GetFileNameWithoutExtension(host) != "dotnet")
            host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        return start;
    }
}
