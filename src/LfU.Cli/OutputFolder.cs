using System.CommandLine;

namespace LfU.Cli;

/// <summary>
/// The output folder of a verb that writes a whole folder (train, pretrain, export, make-data). A folder that already
/// holds something is refused unless --overwrite is given; then the new run is written into a hidden sibling folder
/// and swapped in by <see cref="Commit"/> only once it succeeded, so that a failure or Ctrl+C leaves the old run
/// whole, never a mix of old and new files. Verbs whose output is meant to survive an interruption as it is written
/// (benchmark, gpu-check) use <see cref="Clear"/> instead: --overwrite starts them afresh in an emptied folder.
/// </summary>
internal sealed class OutputFolder : IDisposable
{
    readonly string? _staging;
    readonly IReadOnlyCollection<string> _keep;
    bool _committed;

    OutputFolder(string target, string? staging, IReadOnlyCollection<string> keep)
    {
        Target = target;
        _staging = staging;
        _keep = keep;
    }

    /// <summary>The folder the user named.</summary>
    public string Target { get; }

    /// <summary>Where the run writes: <see cref="Target"/> itself, or the sibling that <see cref="Commit"/> swaps in.</summary>
    public string Path => _staging ?? Target;

    /// <summary>The --overwrite flag, with the verb's own wording of what it replaces.</summary>
    internal static Option<bool> OverwriteOption(string what = "Replace what --output holds; the new run is swapped in only once it succeeded, so a failed run leaves the old one whole.") =>
        new("--overwrite") { Description = what };

    /// <summary>
    /// Checks <paramref name="target"/> before any long work and returns where to write.
    /// </summary>
    /// <param name="target">The output folder (need not exist).</param>
    /// <param name="overwrite">Whether --overwrite was given.</param>
    /// <param name="option">The option's name, for the message.</param>
    /// <param name="keep">Paths that may lie inside <paramref name="target"/> and belong to this run, not to the old
    /// output (a checkpoint folder being resumed): they neither make the folder "not empty" nor get replaced.</param>
    /// <exception cref="CliUsageException">The folder holds files and <paramref name="overwrite"/> is false.</exception>
    internal static OutputFolder Open(string target, bool overwrite, string option = "--output", IEnumerable<string?>? keep = null)
    {
        target = System.IO.Path.GetFullPath(target);
        var kept = KeptNames(target, keep);
        var old = Leftovers(target, kept);
        if (old.Count == 0) return new OutputFolder(target, null, kept);
        if (!overwrite) throw NotEmpty(option, target, old);
        string staging = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(target)!, $".{System.IO.Path.GetFileName(target)}.lfu-new-{Environment.ProcessId}");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        return new OutputFolder(target, staging, kept);
    }

    /// <summary>
    /// For verbs that write their output as they go: refuses a folder that holds files unless <paramref name="overwrite"/>,
    /// and then empties it (lock files and <paramref name="keep"/> aside) so that the new run starts clean.
    /// </summary>
    internal static void Clear(string target, bool overwrite, string option = "--output", IEnumerable<string?>? keep = null)
    {
        target = System.IO.Path.GetFullPath(target);
        var old = Leftovers(target, KeptNames(target, keep));
        if (old.Count == 0) return;
        if (!overwrite) throw NotEmpty(option, target, old);
        foreach (string entry in old) Delete(entry);
    }

    /// <summary>Swaps the staged run in: the old entries go first, then the new ones move in (renames, no copies).</summary>
    public void Commit()
    {
        if (_staging is null || _committed) return;
        Directory.CreateDirectory(Target);
        // Renames within one parent folder: the window in which the target holds neither run is a few renames long.
        string trash = _staging + ".old";
        Directory.CreateDirectory(trash);
        foreach (string entry in Leftovers(Target, _keep)) Move(entry, System.IO.Path.Combine(trash, System.IO.Path.GetFileName(entry)));
        foreach (string entry in Directory.EnumerateFileSystemEntries(_staging)) Move(entry, System.IO.Path.Combine(Target, System.IO.Path.GetFileName(entry)));
        Directory.Delete(_staging, recursive: true);
        Directory.Delete(trash, recursive: true);
        _committed = true;
    }

    /// <summary>Removes the staged files of a run that did not commit; the old output is untouched.</summary>
    public void Dispose()
    {
        if (_staging is not null && !_committed && Directory.Exists(_staging))
        {
            try { Directory.Delete(_staging, recursive: true); }
            catch (IOException) { } // best effort: a hidden sibling left behind is removed by the next --overwrite
        }
    }

    static CliUsageException NotEmpty(string option, string target, List<string> old)
    {
        var names = old.Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        string listed = string.Join(", ", names.Take(4)) + (names.Count > 4 ? $" and {names.Count - 4} more" : "");
        return new CliUsageException($"{option} '{target}' is not empty (it holds {listed}); give a new or empty folder, or add --overwrite to replace its contents.");
    }

    /// <summary>The top-level names inside <paramref name="target"/> that the run's own paths occupy.</summary>
    static HashSet<string> KeptNames(string target, IEnumerable<string?>? keep)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string? path in keep ?? [])
        {
            if (path is null) continue;
            string relative = System.IO.Path.GetRelativePath(target, System.IO.Path.GetFullPath(path));
            if (relative == "." || relative.StartsWith("..", StringComparison.Ordinal) || System.IO.Path.IsPathRooted(relative)) continue;
            names.Add(relative.Split(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar)[0]);
        }
        return names;
    }

    /// <summary>What the folder holds besides lock files (.lfu-*.lock, released or not) and the kept names.</summary>
    static List<string> Leftovers(string target, IReadOnlyCollection<string> keep)
    {
        if (!Directory.Exists(target)) return [];
        return Directory.EnumerateFileSystemEntries(target)
            .Where(e => System.IO.Path.GetFileName(e) is var name && !keep.Contains(name) && !LfU.MLNet.IO.FolderLock.IsLockFile(name))
            .ToList();
    }

    static void Move(string from, string to)
    {
        if (Directory.Exists(from)) Directory.Move(from, to);
        else File.Move(from, to);
    }

    static void Delete(string entry)
    {
        if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
        else File.Delete(entry);
    }
}
