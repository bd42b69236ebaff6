using LfU.MLNet.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LfU.MLNet.Training;

/// <summary>
/// Checkpoint folders <c>checkpoint-STEP</c>: trainable weights (a PEFT adapter, or a Hugging Face model folder under
/// full fine-tuning), <c>optimizer.safetensors</c>, <c>rng.safetensors</c>, <c>objective.safetensors</c> (objectives with
/// running state) and <c>trainer_state.json</c>. A checkpoint
/// is filled in a hidden temporary folder and renamed into place, so a crash never leaves a half-written one.
/// </summary>
internal static class TrainingCheckpoint
{
    public const string StateFile = "trainer_state.json";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string RngFile = "rng.safetensors";
    /// <summary>The objective's running state (LfU's calibration), in checkpoints of objectives that keep one.</summary>
    public const string ObjectiveStateFile = "objective.safetensors";
    const string Prefix = "checkpoint-";
    const string DivergedPrefix = "diverged-";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>
    /// Writes <c>root/checkpoint-STEP</c> through <paramref name="fill"/> (given the folder to fill), then keeps the newest
    /// <paramref name="keep"/> and the newest older one: the new one's weights are not known to be finite until a step
    /// has run on them, and a divergence then needs a checkpoint from before it.
    /// </summary>
    public static string Write(string root, int step, int keep, Action<string> fill)
    {
        string? verified = List(root).Where(c => c.Step < step).Select(c => c.Path).LastOrDefault();
        Directory.CreateDirectory(root);
        string final = Path.Combine(Path.GetFullPath(root), Prefix + step);
        string temporary = Path.Combine(Path.GetFullPath(root), $".{Prefix}{step}.tmp");
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        try
        {
            fill(temporary);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(temporary, final);
        }
        catch
        {
            try { Directory.Delete(temporary, recursive: true); } catch (IOException) { /* the original error matters more */ }
            throw;
        }
        foreach (var (_, old) in List(root).SkipLast(keep))
            if (old != verified) Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>Keeps only the newest <paramref name="keep"/> checkpoints.</summary>
    public static void Prune(string root, int keep)
    {
        foreach (var (_, old) in List(root).SkipLast(keep)) Directory.Delete(old, recursive: true);
    }

    /// <summary>Renames a checkpoint that holds a diverged update to <c>diverged-checkpoint-STEP</c>, out of a resume's way.</summary>
    public static string SetAside(string checkpoint)
    {
        string target = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!, DivergedPrefix + Path.GetFileName(checkpoint));
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.Move(checkpoint, target);
        return target;
    }

    /// <summary>Completed checkpoints under <paramref name="root"/>, oldest first.</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string root)
    {
        if (!Directory.Exists(root)) return Array.Empty<(int, string)>();
        return Directory.GetDirectories(root, Prefix + "*")
            .Select(d => (Ok: int.TryParse(Path.GetFileName(d)[Prefix.Length..], out int s), Step: s, Path: d))
            .Where(x => x.Ok && File.Exists(Path.Combine(x.Path, StateFile)))
            .OrderBy(x => x.Step)
            .Select(x => (x.Step, x.Path))
            .ToList();
    }

    /// <summary>A checkpoint folder itself, or the newest checkpoint inside a checkpoint root.</summary>
    public static string Resolve(string path)
    {
        if (File.Exists(Path.Combine(path, StateFile))) return path;
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Checkpoint '{path}' does not exist.");
        var all = List(path);
        if (all.Count == 0)
            throw new FileNotFoundException($"'{path}' is neither a training checkpoint (no {StateFile}) nor a folder holding {Prefix}N checkpoints.", Path.Combine(path, StateFile));
        return all[^1].Path;
    }

    public static void WriteState(string folder, TrainerState state)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(state, Json);
        AtomicFile.Write(Path.Combine(folder, StateFile), s => s.Write(bytes));
    }

    public static TrainerState ReadState(string folder)
    {
        string file = Path.Combine(folder, StateFile);
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllBytes(file), Json)
                ?? throw new InvalidDataException($"{file}: empty training state.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: not a valid training state ({e.Message}).", e);
        }
    }
}
