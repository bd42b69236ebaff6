namespace LfU.Cli;

/// <summary>An option's value: a number, or <c>auto</c> (<see cref="Value"/> null) for a setting the library calibrates.</summary>
internal sealed record NumberOrAuto(double? Value)
{
    public bool Auto => Value is null;
}
