using System.CommandLine;

namespace LfU.Cli;

/// <summary>
/// Entry point of the <c>lfu</c> tool. Each verb lives in Commands/&lt;Verb&gt;Command.cs and is listed here.
/// Errors: one clear line on stderr and a non-zero exit code (1 for failures, 2 for bad arguments).
/// </summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        ParseResult parsed = CreateRoot().Parse(args);
        // "lfu train" when a verb was recognised, else "lfu": usage errors name the verb and its help.
        string verb = parsed.CommandResult.Command is RootCommand ? "lfu" : $"lfu {parsed.CommandResult.Command.Name}";
        if (parsed.Errors.Count > 0)
        {
            // One line on stderr, whatever went wrong (scripts and the checking harness read the first line).
            Console.Error.WriteLine($"{verb}: {string.Join("; ", parsed.Errors.Select(e => e.Message.ReplaceLineEndings(" ").TrimEnd('.')))}. (see '{verb} --help')");
            return 2;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"{verb}: {e.Message} (see '{verb} --help')");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("lfu: cancelled.");
            return 130;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"lfu: error: {OneLine(e)}");
            return 1;
        }
    }

    /// <summary>The command tree: every verb with its options (the tests walk it).</summary>
    internal static RootCommand CreateRoot()
    {
        var root = new RootCommand("lfu: fine-tune Llama-family models without forgetting (Learning from the Undesirable).");
        foreach (Command verb in Verbs()) root.Subcommands.Add(verb);
        return root;
    }

    /// <summary>In the order help lists them: as users reach for them (train, then use the result), then the tools around.</summary>
    static IEnumerable<Command> Verbs()
    {
        yield return Commands.TrainCommand.Create();
        yield return Commands.EvalCommand.Create();
        yield return Commands.GenerateCommand.Create();
        yield return Commands.ExportCommand.Create();
        yield return Commands.ScoreCommand.Create();
        yield return Commands.BenchmarkCommand.Create();
        yield return Commands.MakeDataCommand.Create();
        yield return Commands.PretrainCommand.Create();
        yield return Commands.TokenizeCommand.Create();
        yield return Commands.BenchCommand.Create();
        yield return Commands.GpuCheckCommand.Create();
        yield return Commands.ForwardCommand.Create();
    }

    /// <summary>The innermost useful message on a single line.</summary>
    public static string OneLine(Exception e)
    {
        while (e is AggregateException { InnerException: not null } || e is System.Reflection.TargetInvocationException { InnerException: not null })
            e = e.InnerException!;
        string message = e.Message;
        // ArgumentException appends " (Parameter 'Name')" and, out of range, "Actual value was ...": library names, not flags.
        if (e is ArgumentException { ParamName: { } name })
        {
            int suffix = message.IndexOf($" (Parameter '{name}')", StringComparison.Ordinal);
            if (suffix > 0) message = message[..suffix];
        }
        return message.ReplaceLineEndings(" ");
    }
}
