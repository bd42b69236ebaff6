using System.Runtime.InteropServices;
using System.Text;

namespace LfU.MLNet.IO;

/// <summary>
/// Refuses what is not a regular file where a model file is expected, before it is opened: opening a FIFO blocks
/// until someone writes to it, and a device (or /dev/zero behind a symlink) never ends.
/// </summary>
internal static class RegularFile
{
    /// <summary>Throws unless <paramref name="path"/> is absent or a regular file (symlinks are followed).</summary>
    /// <exception cref="InvalidDataException">It is a directory, FIFO, socket or device; the message names it.</exception>
    public static void RequireIfPresent(string path)
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path} is a directory, not a file; put the file itself there.");
        if (KindOf(path) is { } kind and not "regular file")
            throw new InvalidDataException($"{path} is a {kind}, not a regular file; model files must be regular files (copy the file itself there).");
    }

    /// <summary>Whether <paramref name="path"/> exists and is a regular file (checked as <see cref="RequireIfPresent"/> does).</summary>
    public static bool Exists(string path)
    {
        RequireIfPresent(path);
        return File.Exists(path);
    }

    /// <summary>"regular file", "FIFO", "character device", ... or null when absent or the platform cannot tell.</summary>
    static string? KindOf(string path)
    {
        if (OperatingSystem.IsWindows())
            return File.Exists(path) && new FileInfo(path).Attributes.HasFlag(FileAttributes.Device) ? "device" : null;
        int? mode = StatMode(path);
        return mode is not int m ? null : (m & 0xF000) switch
        {
            0x8000 => "regular file",
            0x4000 => "directory",
            0x1000 => "FIFO (named pipe)",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            _ => "special file",
        };
    }

    /// <summary>
    /// st_mode of stat(2) through the .NET runtime's own native shim (the one FileStream uses), whose FileStatus
    /// struct has the same layout on every Unix: int Flags, int Mode, ... Null when the path is absent or the shim is not there.
    /// </summary>
    static unsafe int? StatMode(string path)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(path + "\0");
        byte* status = stackalloc byte[512];  // FileStatus is ~130 bytes; room to spare for later runtimes
        try
        {
            fixed (byte* p = utf8)
                return SystemNativeStat(p, status) == 0 ? *(int*)(status + 4) : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat")]
    static extern unsafe int SystemNativeStat(byte* path, byte* status);
}
