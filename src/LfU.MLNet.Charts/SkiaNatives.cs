using System.Runtime.InteropServices;
using LfU.MLNet.Native;

namespace LfU.MLNet.Evaluation;

/// <summary>
/// Loads SkiaSharp's and HarfBuzzSharp's native libraries by path where they run from the NuGet cache (a notebook's
/// <c>#r "nuget: LfU.MLNet.Charts"</c>): there nothing puts their native packages' folders on a search path and the
/// first chart fails with "libSkiaSharp not found". In a build output the natives sit beside the app: nothing to do.
/// </summary>
internal static class SkiaNatives
{
    static readonly object Gate = new();
    static bool _done;

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
            Preload(typeof(SkiaSharp.SKBitmap).Assembly.Location, "skiasharp.nativeassets.linux*", "libSkiaSharp.so");
            Preload(typeof(HarfBuzzSharp.Blob).Assembly.Location, "harfbuzzsharp.nativeassets.linux*", "libHarfBuzzSharp.so");
        }
    }

    static void Preload(string assembly, string nativePackages, string library)
    {
        string? folder = Path.GetDirectoryName(assembly);
        if (string.IsNullOrEmpty(folder) || NuGetNatives.PackageOf(folder) is not { } package) return;
        // The native package of the managed one's version, else the newest restored.
        if ((NuGetNatives.NativeFolder(package, nativePackages, library, version: package.Name) ?? NuGetNatives.NativeFolder(package, nativePackages, library)) is { } native)
            NativeLibrary.TryLoad(Path.Combine(native, library), out _);
    }
}
