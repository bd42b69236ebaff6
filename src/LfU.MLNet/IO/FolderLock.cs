using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LfU.MLNet.IO;

/// <summary>
/// One writer per folder: an exclusive lock on <c>.lfu-PURPOSE.lock</c> (FileShare.None, which the OS releases when the
/// holder dies, even by kill -9) and, beside it, who holds it (pid, host, start time) for the message a second run
/// gets. A holder record left without a lock means its process died: the lock is taken over with a warning.
/// </summary>
public sealed class FolderLock : IDisposable
{
    readonly FileStream _lock;
    readonly string _holderFile;

    FolderLock(FileStream lockStream, string holderFile, string? takeOverWarning)
    {
        _lock = lockStream;
        _holderFile = holderFile;
        TakeOverWarning = takeOverWarning;
    }

    /// <summary>Set when the lock was left by a run that died: says which one, for the user.</summary>
    public string? TakeOverWarning { get; }

    /// <summary>Locks <paramref name="folder"/> (created if needed) for <paramref name="purpose"/>, e.g. "checkpoints".</summary>
    /// <exception cref="FolderInUseException">Another run (in this process or another) holds it.</exception>
    public static FolderLock Acquire(string folder, string purpose)
    {
        Directory.CreateDirectory(folder);
        string lockFile = Path.Combine(folder, $".lfu-{purpose}.lock");
        string holderFile = lockFile + ".holder";
        FileStream stream;
        try
        {
            stream = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            throw new FolderInUseException($"'{Path.GetFullPath(folder)}' is in use by another run ({Describe(ReadHolder(holderFile)) ?? "holder not yet recorded"}); " +
                $"wait for it to finish, or give this run another {purpose} folder.");
        }
        try
        {
            string? previous = Describe(ReadHolder(holderFile));
            using var self = Process.GetCurrentProcess();
            var holder = new JsonObject
            {
                ["pid"] = Environment.ProcessId,
                ["host"] = Environment.MachineName,
                ["started"] = self.StartTime.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
                ["command"] = string.Join(' ', Environment.GetCommandLineArgs().Select(Path.GetFileName).Take(2)),
            };
            AtomicFile.WriteAllText(holderFile, holder.ToJsonString());
            string? warning = previous is null ? null
                : $"took over the lock on '{Path.GetFullPath(folder)}' left by a run that ended without releasing it ({previous}); its last files may be incomplete.";
            return new FolderLock(stream, holderFile, warning);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether a file name is a lock or holder record of this class (.lfu-PURPOSE.lock, .lfu-PURPOSE.lock.holder):
    /// bookkeeping of whoever writes the folder, not content, so "is this folder empty?" ignores it.</summary>
    internal static bool IsLockFile(string name) =>
        name.StartsWith(".lfu-", StringComparison.Ordinal) && (name.EndsWith(".lock", StringComparison.Ordinal) || name.EndsWith(".lock.holder", StringComparison.Ordinal));

    static JsonObject? ReadHolder(string holderFile)
    {
        try { return File.Exists(holderFile) ? JsonNode.Parse(File.ReadAllText(holderFile)) as JsonObject : null; }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    static string? Describe(JsonObject? holder) => holder is null ? null
        : $"pid {holder["pid"]} on {holder["host"]}, started {holder["started"]}" + (holder["command"] is { } c ? $", '{c}'" : "");

    /// <summary>Releases the lock; the holder record goes first, so a record without a lock always means a dead holder.</summary>
    public void Dispose()
    {
        try { File.Delete(_holderFile); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* the lock itself still goes */ }
        _lock.Dispose();
    }
}
