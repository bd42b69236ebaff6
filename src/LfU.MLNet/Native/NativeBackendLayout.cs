namespace LfU.MLNet.Native;

/// <summary>
/// Where TorchSharp's native libraries lie for the TorchSharp.dll this process loaded, and what must be loaded by
/// path before TorchSharp loads them by name (Linux x64).
/// <list type="bullet">
/// <item><b>Build or publish output</b> (an app, a test, <c>#r</c> of a build folder): <c>libLibTorchSharp.so</c> and
/// libtorch sit beside TorchSharp.dll or in its <c>runtimes/linux-x64/native/</c>, already patched by the build.</item>
/// <item><b>NuGet cache</b> (a notebook's <c>#r "nuget: LfU.MLNet"</c>, a script host): TorchSharp.dll runs from
/// <c>torchsharp/VERSION/lib/TFM/</c>, <c>libLibTorchSharp.so</c> lies in that package's <c>runtimes/linux-x64/native/</c>
/// and libtorch in another package (<c>libtorch-cpu-linux-x64/VERSION/runtimes/linux-x64/native/</c>). No build step ran,
/// so the GLIBCXX_3.4.32 fix-up must happen here, on a copy (the NuGet cache stays untouched), and libtorch must be
/// loaded from its package first so that the copy finds it.</item>
/// </list>
/// </summary>
/// <param name="LibTorchSharp">The <c>libLibTorchSharp.so</c> to load.</param>
/// <param name="LibTorch">The folder of the CPU libtorch package's libraries, in the NuGet layout; null in a build output.</param>
/// <param name="CudaPackage">A CUDA libtorch package restored beside TorchSharp in the NuGet layout (TorchSharp stitches
/// and loads it itself), or null.</param>
internal sealed record NativeBackendLayout(string LibTorchSharp, string? LibTorch, string? CudaPackage)
{
    const string Native = "runtimes/linux-x64/native";

    /// <summary>Whether TorchSharp runs from the NuGet cache rather than from a build output.</summary>
    public bool FromNuGetCache => LibTorch is not null || CudaPackage is not null;

    /// <summary>The layout around <paramref name="torchSharpFolder"/> (the folder of TorchSharp.dll); null when no native library is found.</summary>
    public static NativeBackendLayout? Find(string torchSharpFolder)
    {
        foreach (string beside in new[] { Path.Combine(torchSharpFolder, Native), torchSharpFolder })
        {
            string file = Path.Combine(beside, ElfVersionPatcher.TorchSharpLibrary);
            if (File.Exists(file)) return new NativeBackendLayout(file, null, null);
        }
        // NuGet: <root>/torchsharp/<version>/lib/<tfm>/TorchSharp.dll, natives in <root>/torchsharp/<version>/runtimes/…
        if (NuGetNatives.PackageOf(torchSharpFolder) is not { } package) return null;
        string packaged = Path.Combine(package.FullName, Native, ElfVersionPatcher.TorchSharpLibrary);
        if (!File.Exists(packaged)) return null;
        string? cpu = NuGetNatives.NativeFolder(package, "libtorch-cpu-linux-x64", "libtorch_cpu.so");
        string? cuda = package.Parent!.Parent!.GetDirectories("libtorch-cuda-*-linux-x64").Select(d => d.FullName).OrderBy(d => d, StringComparer.Ordinal).LastOrDefault();
        return new NativeBackendLayout(packaged, cpu, cuda);
    }

    /// <summary>
    /// A copy of <paramref name="library"/> with its GLIBCXX_3.4.32 requirement marked weak, in a per-user cache keyed
    /// by the original's content (made once, atomically; reused after). The original is never written.
    /// </summary>
    public static string PatchedCopy(string library, string cacheRoot)
    {
        byte[] bytes = File.ReadAllBytes(library);
        string key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..16].ToLowerInvariant();
        string folder = Path.Combine(cacheRoot, key);
        string target = Path.Combine(folder, Path.GetFileName(library));
        if (File.Exists(target) && !ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(target)).Any(n => n.Version == ElfVersionPatcher.RequiredGlibcxx && !n.IsWeak))
            return target;
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, $".{Path.GetFileName(library)}.{Environment.ProcessId}.tmp");
        File.WriteAllBytes(temporary, bytes);
        ElfVersionPatcher.MarkRequirementWeak(temporary);
        File.Move(temporary, target, overwrite: true);
        return target;
    }

    /// <summary>Where <see cref="PatchedCopy"/> keeps its copies by default: the user's local application data.</summary>
    public static string DefaultCacheRoot => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "LfU.MLNet", "native");
}
