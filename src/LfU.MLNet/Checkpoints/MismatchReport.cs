namespace LfU.MLNet.Checkpoints;

/// <summary>Formats long lists of names for error messages.</summary>
internal static class MismatchReport
{
    internal const int MaxListed = 20;

    /// <summary>The first <see cref="MaxListed"/> items, then how many more there are.</summary>
    internal static string List(IReadOnlyCollection<string> items) =>
        string.Join(", ", items.Take(MaxListed)) + (items.Count > MaxListed ? $" … and {items.Count - MaxListed} more" : "");
}
