namespace ModelBuilderApp;

/// <summary>Default locations inside this repository, so that the app runs from any working directory.</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding LfU.MLNet.sln, searched above the working directory and the app's folder; null outside the repository.</summary>
    public static string? Root { get; } = FindRoot();

    /// <summary>A path inside the repository; throws with what to pass instead when the app runs outside it.</summary>
    public static string InRepository(string relativePath, string whatToPass) => Path.Combine(Root ?? throw new InvalidOperationException(
        $"Could not find the repository (LfU.MLNet.sln) above '{Environment.CurrentDirectory}' or '{AppContext.BaseDirectory}'; {whatToPass}."),
        relativePath);

    static string? FindRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "LfU.MLNet.sln"))) return dir.FullName;
        return null;
    }
}
