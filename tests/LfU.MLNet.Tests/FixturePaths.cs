namespace LfU.MLNet.Tests;

/// <summary>Where the reference fixtures (copied from PyTorch/transformers runs) live in the test output.</summary>
internal static class FixturePaths
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");
    public static string Model(string name) => Path.Combine(Root, "models", name);
    public static string Lfu => Path.Combine(Root, "lfu");
}
