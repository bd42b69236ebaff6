using LfU.Cli;

namespace LfU.MLNet.Tests.Cli;

/// <summary>Runs <c>lfu</c> in-process with standard output and error captured (use from the "Console" collection).</summary>
public static class CliRunner
{
    public sealed record Outcome(int ExitCode, string Out, string Error)
    {
        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public static Outcome Run(params string[] args) => RunWithInput(null, args);

    /// <param name="stdin">Text given on standard input (null keeps the current input).</param>
    public static Outcome RunWithInput(string? stdin, params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (oldOut, oldError, oldIn) = (Console.Out, Console.Error, Console.In);
        Console.SetOut(output);
        Console.SetError(error);
        if (stdin is not null) Console.SetIn(new StringReader(stdin));
        try
        {
            int code = CliApp.Run(args);
            return new Outcome(code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
            Console.SetIn(oldIn);
        }
    }

    /// <summary>The first <paramref name="count"/> lines of a mini-world data file, copied to <paramref name="folder"/>.</summary>
    public static string MiniWorldSample(string folder, string file, int count)
    {
        string source = Path.Combine(TinyTextModel.RepositoryRoot(), "data", "mini-world", file);
        string target = Path.Combine(folder, file);
        File.WriteAllLines(target, File.ReadLines(source).Take(count));
        return target;
    }
}
