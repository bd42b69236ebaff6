using System.Security.Cryptography;
using System.Text;
using LfU.MLNet.IO;

namespace LfU.MLNet.Checkpoints;

/// <summary>
/// SHA-256 fingerprint of a base model folder: the weights and every file that changes the model's answers, so a
/// saved model refuses a base whose config.json (rope_theta, rms_norm_eps) or tokenizer changed under it. File hashes
/// are cached per file size and time stamp.
/// </summary>
internal static class ModelFingerprint
{
    /// <summary>The files besides the weights that change what the model answers, when present.</summary>
    internal static readonly string[] AnswerFiles =
        { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json" };

    static readonly Dictionary<string, (long Length, DateTime Written, string Hash)> Cache = new();

    /// <summary>The fingerprint: a hash over the names and digests of <see cref="Files"/>, in name order.</summary>
    public static string Of(string folder) => Combine(Files(folder));

    /// <summary>The SHA-256 of every *.safetensors file, the shard index and each of <see cref="AnswerFiles"/> present, by file name.</summary>
    public static IReadOnlyDictionary<string, string> Files(string folder)
    {
        var weights = WeightFiles(folder);
        var files = weights.Concat(AnswerFiles.Select(f => Path.Combine(folder, f)).Where(RegularFile.Exists));
        return files.ToDictionary(f => Path.GetFileName(f), FileHash, StringComparer.Ordinal);
    }

    /// <summary>
    /// Throws unless <paramref name="folder"/> still holds the files a model was saved against: per file when
    /// <paramref name="expectedFiles"/> is known (naming each changed one), else by the weights-only fingerprint that
    /// models saved before per-file hashes used.
    /// </summary>
    public static void EnsureUnchanged(string folder, string expected, IReadOnlyDictionary<string, string>? expectedFiles)
    {
        const string Fix = "Restore the original files there, or save the model with embedded weights (LfUOptions.EmbedWeightsInSavedModel).";
        if (expectedFiles is null)
        {
            string weights = Combine(WeightFiles(folder).ToDictionary(f => Path.GetFileName(f), FileHash, StringComparer.Ordinal));
            if (!string.Equals(weights, expected, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"The base model at '{folder}' is not the one this LfU model was trained on: its weights' SHA-256 is {weights}, " +
                    $"the saved model expects {expected}. {Fix}");
            return;
        }
        var actual = Files(folder);
        var changes = expectedFiles.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
            .Select(name => (name, was: expectedFiles.GetValueOrDefault(name), now: actual.GetValueOrDefault(name)))
            .Where(f => !string.Equals(f.was, f.now, StringComparison.OrdinalIgnoreCase))
            .Select(f => f.now is null ? $"{f.name} is missing" : f.was is null ? $"{f.name} was added" : $"{f.name} changed")
            .ToList();
        if (changes.Count > 0)
            throw new InvalidDataException($"The base model at '{folder}' changed since this LfU model was saved ({string.Join(", ", changes)}), " +
                $"so it would answer differently. {Fix}");
    }

    static List<string> WeightFiles(string folder)
    {
        var files = Directory.GetFiles(folder, "*.safetensors").Append(Path.Combine(folder, SafeTensorsWriter.IndexFileName))
            .Where(RegularFile.Exists).OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new FileNotFoundException($"No *.safetensors files in '{folder}'.");
        return files;
    }

    static string Combine(IReadOnlyDictionary<string, string> files)
    {
        using var total = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, hash) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            total.AppendData(Encoding.UTF8.GetBytes(name + "\0" + hash + "\n"));
        return Convert.ToHexString(total.GetHashAndReset()).ToLowerInvariant();
    }

    static string FileHash(string file)
    {
        var info = new FileInfo(file);
        lock (Cache)
            if (Cache.TryGetValue(info.FullName, out var c) && c.Length == info.Length && c.Written == info.LastWriteTimeUtc) return c.Hash;
        using var stream = File.OpenRead(file);
        string hash = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
        lock (Cache) Cache[info.FullName] = (info.Length, info.LastWriteTimeUtc, hash);
        return hash;
    }
}
