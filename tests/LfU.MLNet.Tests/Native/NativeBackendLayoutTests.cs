using LfU.MLNet.Native;
using Xunit;

namespace LfU.MLNet.Tests.Native;

/// <summary>Where TorchSharp's natives are found for a build output and for the NuGet cache a notebook runs from, and the patched copy.</summary>
public sealed class NativeBackendLayoutTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-native-layout-");

    public void Dispose() => _temp.Dispose();

    string Touch(params string[] parts)
    {
        string file = Path.Combine([_temp.Path, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, []);
        return file;
    }

    [Fact]
    public void ABuildOutputUsesTheLibraryInItsRuntimesFolder()
    {
        string native = Touch("app", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var layout = NativeBackendLayout.Find(Path.Combine(_temp.Path, "app"));
        Assert.Equal(new NativeBackendLayout(native, null, null), layout);
        Assert.False(layout!.FromNuGetCache);
    }

    [Fact]
    public void TheNuGetCacheUsesThePackagesLibraryAndTheNewestCpuLibTorchBesideIt()
    {
        Touch("cache", "torchsharp", "0.107.0", "lib", "net8.0", "TorchSharp.dll");
        string native = Touch("cache", "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Touch("cache", "libtorch-cpu-linux-x64", "2.5.1", "runtimes", "linux-x64", "native", "libtorch_cpu.so");
        string newest = Path.GetDirectoryName(Touch("cache", "libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native", "libtorch_cpu.so"))!;
        Touch("cache", "libtorch-cpu-linux-x64", "2.11.0", "runtimes", "linux-x64", "native", "other.so"); // no libtorch_cpu.so: skipped
        string lib = Path.Combine(_temp.Path, "cache", "torchsharp", "0.107.0", "lib", "net8.0");

        var layout = NativeBackendLayout.Find(lib)!;
        Assert.Equal(new NativeBackendLayout(native, newest, null), layout);
        Assert.True(layout.FromNuGetCache);

        Directory.CreateDirectory(Path.Combine(_temp.Path, "cache", "libtorch-cuda-12.8-linux-x64"));
        Assert.EndsWith("libtorch-cuda-12.8-linux-x64", NativeBackendLayout.Find(lib)!.CudaPackage);
    }

    [Fact]
    public void NoLibraryAnywhereIsNoLayout()
    {
        Touch("elsewhere", "TorchSharp.dll");
        Assert.Null(NativeBackendLayout.Find(Path.Combine(_temp.Path, "elsewhere")));
        Touch("cache", "torchsharp", "0.107.0", "lib", "net8.0", "TorchSharp.dll");
        Assert.Null(NativeBackendLayout.Find(Path.Combine(_temp.Path, "cache", "torchsharp", "0.107.0", "lib", "net8.0")));
    }

    [Fact]
    public void ThePatchedCopyIsWeakMadeOnceAndLeavesTheOriginalUntouched()
    {
        if (!OperatingSystem.IsLinux()) return;
        // A library with a strong GLIBCXX_3.4.32 requirement, as the NuGet package ships it (the build output's copy may be patched).
        byte[] bytes = File.ReadAllBytes(TorchRuntime.FindTorchSharpNative()!);
        var need = ElfVersionPatcher.ReadVersionNeeds(bytes).Single(n => n.Version == ElfVersionPatcher.RequiredGlibcxx);
        string original = Path.Combine(_temp.Path, "package", ElfVersionPatcher.TorchSharpLibrary);
        Directory.CreateDirectory(Path.GetDirectoryName(original)!);
        File.WriteAllBytes(original, bytes);
        if (need.IsWeak) FlipWeakFlag(original);
        byte[] strong = File.ReadAllBytes(original);
        Assert.False(ElfVersionPatcher.ReadVersionNeeds(strong).Single(n => n.Version == ElfVersionPatcher.RequiredGlibcxx).IsWeak);

        string cache = Path.Combine(_temp.Path, "user-cache");
        string copy = NativeBackendLayout.PatchedCopy(original, cache);

        Assert.StartsWith(cache, copy);
        Assert.Equal(ElfVersionPatcher.TorchSharpLibrary, Path.GetFileName(copy));
        Assert.True(ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(copy)).Single(n => n.Version == ElfVersionPatcher.RequiredGlibcxx).IsWeak);
        Assert.Equal(strong, File.ReadAllBytes(original));
        var written = File.GetLastWriteTimeUtc(copy);
        Assert.Equal(copy, NativeBackendLayout.PatchedCopy(original, cache)); // reused, not rewritten
        Assert.Equal(written, File.GetLastWriteTimeUtc(copy));
        Assert.Single(Directory.GetFiles(cache, "*", SearchOption.AllDirectories)); // no temporary left behind
    }

    /// <summary>Clears the weak flag again, giving the library as shipped.</summary>
    static void FlipWeakFlag(string file)
    {
        byte[] elf = File.ReadAllBytes(file);
        var need = ElfVersionPatcher.ReadVersionNeeds(elf).Single(n => n.Version == ElfVersionPatcher.RequiredGlibcxx);
        long offset = need.FlagsOffset;
        ushort flags = (ushort)(need.Flags & ~0x2);
        elf[offset] = (byte)(flags & 0xff);
        elf[offset + 1] = (byte)(flags >> 8);
        File.WriteAllBytes(file, elf);
    }
}
