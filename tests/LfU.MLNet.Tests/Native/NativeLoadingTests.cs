using LfU.MLNet.Native;
using TorchSharp;
using Xunit;

namespace LfU.MLNet.Tests.Native;

public class NativeLoadingTests
{
    [Fact]
    public void TorchSharpInitialisesAndComputes()
    {
        TorchRuntime.EnsureInitialized();
        using var a = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        using var b = torch.ones(3, 2);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 3, 3, 12, 12 }, c.data<float>().ToArray());
    }

    [Fact]
    public void OutputCopyOfLibTorchSharpHasNoStrongGlibcxx332RequirementOnOldSystems()
    {
        if (!OperatingSystem.IsLinux()) return;
        string? native = TorchRuntime.FindTorchSharpNative();
        Assert.NotNull(native);
        string? libstdcxx = ElfVersionPatcher.FindSystemLibStdCxx();
        Assert.NotNull(libstdcxx);
        bool systemHasIt = ElfVersionPatcher.LibraryDefinesVersion(libstdcxx!, ElfVersionPatcher.RequiredGlibcxx);
        var need = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(native!))
            .Single(n => n.Version == ElfVersionPatcher.RequiredGlibcxx);
        // Patched only where needed: weak on old libstdc++, untouched (strong) where GCC 13+ is installed.
        Assert.Equal(!systemHasIt, need.IsWeak);
    }

    [Fact]
    public void PatcherRejectsNonElfInputClearly()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadVersionNeeds(new byte[100]));
        Assert.Contains("not an ELF file", e.Message);
        var truncated = new byte[64];
        truncated[0] = 0x7f; truncated[1] = (byte)'E'; truncated[2] = (byte)'L'; truncated[3] = (byte)'F'; truncated[4] = 2; truncated[5] = 1;
        BitConverter.GetBytes(10_000UL).CopyTo(truncated, 0x28);
        BitConverter.GetBytes((ushort)64).CopyTo(truncated, 0x3A);
        BitConverter.GetBytes((ushort)3).CopyTo(truncated, 0x3C);
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadVersionNeeds(truncated));
    }

    [Fact]
    public void PatchingACopyLeavesTheOriginalUntouched()
    {
        if (!OperatingSystem.IsLinux()) return;
        string native = TorchRuntime.FindTorchSharpNative()!;
        using var temp = new TempFolder("lfu-elf-");
        string dir = temp.Path;
        string original = Path.Combine(dir, "orig.so"), copy = Path.Combine(dir, ElfVersionPatcher.TorchSharpLibrary);
        // Make the requirement strong again in a scratch copy, then patch a hard link of it: the rename must break the link.
        byte[] bytes = File.ReadAllBytes(native);
        var need = ElfVersionPatcher.ReadVersionNeeds(bytes).Single(n => n.Version == ElfVersionPatcher.RequiredGlibcxx);
        File.WriteAllBytes(original, bytes);
        var reread = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(original)).Single(n => n.Version == ElfVersionPatcher.RequiredGlibcxx);
        Assert.Equal(need.Flags, reread.Flags);
        File.Copy(original, copy);
        bool changed = ElfVersionPatcher.MarkRequirementWeak(copy);
        Assert.Equal(!need.IsWeak, changed);
        Assert.True(ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(copy)).Single(n => n.Version == ElfVersionPatcher.RequiredGlibcxx).IsWeak);
        Assert.Equal(bytes, File.ReadAllBytes(original));
        Assert.False(ElfVersionPatcher.MarkRequirementWeak(copy)); // idempotent
    }
}
