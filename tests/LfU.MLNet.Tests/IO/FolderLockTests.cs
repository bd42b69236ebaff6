using LfU.MLNet.IO;
using LfU.MLNet.Tests.Checkpoints;
using Xunit;

namespace LfU.MLNet.Tests.IO;

/// <summary>One writer per folder: a second one fails at once naming the first; a dead holder's lock is taken over.</summary>
public sealed class FolderLockTests : IDisposable
{
    readonly ScratchFolder _scratch = new();
    string Dir => _scratch.Path;

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void ASecondHolderFailsNamingTheFirst()
    {
        using var first = FolderLock.Acquire(Dir, "output");
        Assert.Null(first.TakeOverWarning);

        var error = Assert.Throws<FolderInUseException>(() => FolderLock.Acquire(Dir, "output"));

        Assert.StartsWith($"'{Dir}' is in use by another run (pid {Environment.ProcessId} on {Environment.MachineName}, started ", error.Message);
        Assert.EndsWith("wait for it to finish, or give this run another output folder.", error.Message);
    }

    [Fact]
    public void AReleasedLockCanBeTakenAgainWithoutWarning()
    {
        FolderLock.Acquire(Dir, "output").Dispose();
        using var again = FolderLock.Acquire(Dir, "output");
        Assert.Null(again.TakeOverWarning);
    }

    [Fact]
    public void LocksForDifferentPurposesDoNotConflict()
    {
        using var output = FolderLock.Acquire(Dir, "output");
        using var checkpoints = FolderLock.Acquire(Dir, "checkpoints");
    }

    [Fact]
    public void ALockLeftByADeadProcessIsTakenOverWithAWarning()
    {
        // What a process killed with -9 leaves: the OS dropped its lock, its holder record stays.
        File.WriteAllText(Path.Combine(Dir, ".lfu-output.lock.holder"), """{"pid": 999999, "host": "gone", "started": "2020-01-01 00:00:00 UTC"}""");

        using var taken = FolderLock.Acquire(Dir, "output");

        Assert.Equal($"took over the lock on '{Dir}' left by a run that ended without releasing it (pid 999999 on gone, started 2020-01-01 00:00:00 UTC); its last files may be incomplete.",
                     taken.TakeOverWarning);
    }
}
