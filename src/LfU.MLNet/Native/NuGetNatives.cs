namespace LfU.MLNet.Native;

/// <summary>
/// Finds native libraries of packages restored into the NuGet cache, for hosts that reference packages' assemblies
/// straight from the cache and put no package's <c>runtimes/RID/native</c> folder on a search path (a .NET Interactive
/// notebook's <c>#r "nuget: ..."</c>): there a managed library's P/Invokes miss natives shipped in a sibling package.
/// Loading such a library by path first makes the later loads by name find it.
/// </summary>
internal static class NuGetNatives
{
    /// <summary>The package root (<c>&lt;root&gt;/ID/VERSION</c>) of an assembly in <c>&lt;root&gt;/ID/VERSION/lib/TFM/</c>; null in other layouts.</summary>
    public static DirectoryInfo? PackageOf(string assemblyFolder)
    {
        var tfm = new DirectoryInfo(assemblyFolder);
        return tfm.Parent is { Name: "lib" } lib && lib.Parent is { Parent.Parent: not null } package ? package : null;
    }

    /// <summary>
    /// The <c>runtimes/linux-x64/native</c> folder holding <paramref name="library"/> in the newest version of the packages
    /// named <paramref name="packagePattern"/> (e.g. <c>libtorch-cpu-linux-x64</c>, <c>skiasharp.nativeassets.linux*</c>)
    /// beside <paramref name="package"/> in the same NuGet cache; null when none has it.
    /// </summary>
    public static string? NativeFolder(DirectoryInfo package, string packagePattern, string library, string? version = null)
    {
        var root = package.Parent!.Parent!;
        return root.GetDirectories(packagePattern)
            .SelectMany(p => p.GetDirectories(version ?? "*"))
            .Select(v => (Version: Version.TryParse(v.Name.Split('-')[0], out var parsed) ? parsed : new Version(0, 0), Native: Path.Combine(v.FullName, "runtimes", "linux-x64", "native")))
            .Where(v => File.Exists(Path.Combine(v.Native, library)))
            .OrderBy(v => v.Version)
            .Select(v => v.Native)
            .LastOrDefault();
    }
}
