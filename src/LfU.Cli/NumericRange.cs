namespace LfU.Cli;

/// <summary>The values a numeric option accepts: [Minimum, Maximum], whole numbers only when <paramref name="Integer"/>.</summary>
internal sealed record NumericRange(double Minimum, double Maximum, bool Integer, string Words);
