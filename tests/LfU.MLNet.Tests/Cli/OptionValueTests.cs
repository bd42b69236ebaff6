using System.CommandLine;
using System.Globalization;
using LfU.Cli;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

/// <summary>
/// Every numeric option of every verb, taken from the CLI's own command tree (so a new option is covered without
/// touching this file): a value that is not a number, and one out of its range, are one-line usage errors (exit 2)
/// naming the option and the verb, never a stack trace.
/// </summary>
[Collection("Console")]
public sealed class OptionValueTests
{
    public static TheoryData<string, string> NumericOptions()
    {
        var data = new TheoryData<string, string>();
        foreach (var verb in CliApp.CreateRoot().Subcommands)
            foreach (var option in verb.Options.Where(CliOptions.IsNumeric))
                data.Add(verb.Name, option.Name);
        return data;
    }

    static Option OptionOf(string verb, string name) =>
        CliApp.CreateRoot().Subcommands.Single(c => c.Name == verb).Options.Single(o => o.Name == name);

    [Fact]
    public void TheWalkFindsTheNumericOptionsOfTheVerbs()
    {
        var options = NumericOptions().Select(row => $"{row[0]} {row[1]}").ToList();
        Assert.Contains("train --lr", options);
        Assert.Contains("train --epochs", options);
        Assert.Contains("generate --max-new-tokens", options);
        Assert.Contains("benchmark --test-limit", options);
        Assert.True(options.Count > 60, $"only {options.Count} numeric options found");
    }

    [Fact]
    public void HelpListsTheVerbsAsUsersReachForThem()
    {
        var verbs = CliApp.CreateRoot().Subcommands.Select(c => c.Name).ToList();
        Assert.Equal(["train", "eval", "generate", "export"], verbs.Take(4));
        var help = CliRunner.Run("--help").Out;
        Assert.True(help.IndexOf("  train ", StringComparison.Ordinal) < help.IndexOf("  forward ", StringComparison.Ordinal), help);
    }

    [Theory]
    [MemberData(nameof(NumericOptions))]
    public void ANumericOptionDeclaresItsRange(string verb, string name)
    {
        Assert.NotNull(CliOptions.RangeOf(OptionOf(verb, name)));
    }

    [Theory]
    [MemberData(nameof(NumericOptions))]
    public void AValueThatIsNotANumberIsAUsageErrorNamingOptionAndVerb(string verb, string name)
    {
        AssertUsageError(verb, name, "abc");
        if (CliOptions.RangeOf(OptionOf(verb, name)) is { Integer: true })
            AssertUsageError(verb, name, "1.5");
    }

    [Theory]
    [MemberData(nameof(NumericOptions))]
    public void AValueOutOfRangeIsAUsageErrorNamingOptionAndVerb(string verb, string name)
    {
        var range = CliOptions.RangeOf(OptionOf(verb, name))!;
        // Below the minimum when there is one, above the maximum when there is one, and always past what the type holds.
        if (range.Integer)
        {
            if (range.Minimum > int.MinValue) AssertUsageError(verb, name, Invariant((long)range.Minimum - 1));
            if (range.Maximum < int.MaxValue) AssertUsageError(verb, name, Invariant((long)range.Maximum + 1));
            AssertUsageError(verb, name, "99999999999999999999");
        }
        else
        {
            if (range.Minimum > -double.MaxValue) AssertUsageError(verb, name, Invariant(range.Minimum > 0 ? 0 : range.Minimum - 1));
            if (range.Maximum < double.MaxValue) AssertUsageError(verb, name, Invariant(range.Maximum + 1));
            AssertUsageError(verb, name, "1e999");
            AssertUsageError(verb, name, "NaN");
        }
    }

    static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    static void AssertUsageError(string verb, string name, string value)
    {
        var run = CliRunner.Run(verb, name, value);
        Assert.True(run.ExitCode == 2, $"lfu {verb} {name} {value}: exit {run.ExitCode}\n{run.Error}");
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith($"lfu {verb}: ", line);
        Assert.Contains($"{name} must be ", line);
        Assert.Contains(value, line);
        Assert.EndsWith($"(see 'lfu {verb} --help')", line);
        Assert.DoesNotContain("   at ", run.Error);
    }
}
