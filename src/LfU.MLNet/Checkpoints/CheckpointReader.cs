using System.Text.Json;
using System.Text.Unicode;
using static TorchSharp.torch;

namespace LfU.MLNet.Checkpoints;

/// <summary>
/// The tensors of a Hugging Face checkpoint: a single <c>model.safetensors</c>, a sharded checkpoint described by
/// <c>model.safetensors.index.json</c>, or any one <c>.safetensors</c> file. All headers are validated when it opens;
/// tensors are read one at a time on demand, so a model is loaded by streaming tensor by tensor.
/// </summary>
public sealed class CheckpointReader : IDisposable
{
    const string ConversionHint =
        "Only safetensors checkpoints are supported (pickle-based .bin/.pt files can run arbitrary code). Convert one in Python with " +
        "`AutoModelForCausalLM.from_pretrained(src).save_pretrained(dst, safe_serialization=True)`, or download the model's safetensors files.";

    readonly IReadOnlyList<SafeTensorsFile> _files;
    readonly Dictionary<string, SafeTensorsFile> _fileOf;

    CheckpointReader(string source, IReadOnlyList<SafeTensorsFile> files, Dictionary<string, SafeTensorsFile> fileOf)
    {
        Source = source;
        _files = files;
        _fileOf = fileOf;
        Names = fileOf.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();
    }

    /// <summary>The file or index the checkpoint was opened from.</summary>
    public string Source { get; }

    /// <summary>The names of all tensors in the checkpoint, sorted ordinally.</summary>
    public IReadOnlyCollection<string> Names { get; }

    /// <summary>Whether the checkpoint has a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _fileOf.ContainsKey(name);

    /// <summary>The dtype, shape and location of tensor <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The checkpoint has no such tensor.</exception>
    public SafeTensorInfo Info(string name) => FileOf(name).Tensors[name];

    /// <summary>Reads tensor <paramref name="name"/>, optionally converted to <paramref name="convertTo"/> and moved to <paramref name="device"/>.</summary>
    /// <exception cref="KeyNotFoundException">The checkpoint has no such tensor.</exception>
    public Tensor Read(string name, ScalarType? convertTo = null, Device? device = null) => FileOf(name).Read(name, convertTo, device);

    /// <summary>
    /// Opens a checkpoint from a folder (<c>model.safetensors</c>, else <c>model.safetensors.index.json</c>, as
    /// <c>transformers</c> prefers), an index file, or a single <c>.safetensors</c> file.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">Nothing exists at <paramref name="folderOrFile"/>.</exception>
    /// <exception cref="FileNotFoundException">The folder has no safetensors checkpoint, or the index names a missing shard.</exception>
    /// <exception cref="InvalidDataException">A header or the index is malformed, or a shard lacks tensors the index assigns to it.</exception>
    public static CheckpointReader OpenFolder(string folderOrFile)
    {
        string path = Path.GetFullPath(folderOrFile);
        if (File.Exists(path))
            return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenIndex(path) : OpenSingle(path);
        if (!Directory.Exists(path))
            throw new DirectoryNotFoundException($"Checkpoint folder not found: {path}");

        string single = Path.Combine(path, SafeTensorsWriter.SingleFileName);
        if (File.Exists(single)) return OpenSingle(single);
        string index = Path.Combine(path, SafeTensorsWriter.IndexFileName);
        if (File.Exists(index)) return OpenIndex(index);
        throw new FileNotFoundException(DescribeMissingCheckpoint(path), single);
    }

    static string DescribeMissingCheckpoint(string folder)
    {
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        string message = $"No {SafeTensorsWriter.SingleFileName} or {SafeTensorsWriter.IndexFileName} in {folder}.";
        var pickles = files.Where(f => f.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) ||
                                       f.EndsWith(".pth", StringComparison.OrdinalIgnoreCase)).ToList();
        if (pickles.Count > 0)
            return $"{message} It holds PyTorch pickle weights ({string.Join(", ", pickles.Take(3))}). {ConversionHint}";
        var others = files.Where(f => f.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)).ToList();
        if (others.Count > 0)
            return $"{message} It has other safetensors files ({string.Join(", ", others.Take(3))}); pass the path of the file to load instead of the folder.";
        return $"{message} {ConversionHint}";
    }

    static CheckpointReader OpenSingle(string path)
    {
        var file = SafeTensorsFile.Open(path);
        return new CheckpointReader(path, [file], file.Tensors.Keys.ToDictionary(n => n, _ => file, StringComparer.Ordinal));
    }

    static CheckpointReader OpenIndex(string indexPath)
    {
        string folder = Path.GetDirectoryName(indexPath)!;
        var weightMap = ReadWeightMap(indexPath);
        var opened = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            var fileOf = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            foreach (var shard in weightMap.GroupBy(p => p.Value, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                string shardPath = Path.Combine(folder, shard.Key);
                if (!File.Exists(shardPath))
                    throw new FileNotFoundException(
                        $"{indexPath} assigns {shard.Count()} tensors (e.g. '{shard.First().Key}') to {shard.Key}, which does not exist in {folder}. " +
                        "Download all shards of the checkpoint.", shardPath);
                var file = SafeTensorsFile.Open(shardPath);
                opened.Add(shard.Key, file);
                var absent = shard.Select(p => p.Key).Where(n => !file.Tensors.ContainsKey(n)).ToList();
                if (absent.Count > 0)
                    throw new InvalidDataException(
                        $"{indexPath} assigns {absent.Count} tensors to {shard.Key} that it does not contain: " +
                        $"{MismatchReport.List(absent)}. The index and the shards come from different saves.");
                foreach (var (name, _) in shard) fileOf.Add(name, file);
            }
            return new CheckpointReader(indexPath, opened.Values.ToList(), fileOf);
        }
        catch
        {
            foreach (var file in opened.Values) file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the index's <c>weight_map</c> (tensor name → shard file name), rejecting anything malformed.</summary>
    static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        IO.RegularFile.RequireIfPresent(indexPath);
        byte[] bytes = File.ReadAllBytes(indexPath);
        if (!Utf8.IsValid(bytes))
            throw new InvalidDataException($"{indexPath} is not valid UTF-8 text.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{indexPath} is not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath} has no \"weight_map\" object mapping tensor names to shard files.");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                string? file = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
                // Shards live next to the index; a path elsewhere (../, absolute) would let an index read arbitrary files.
                if (string.IsNullOrEmpty(file) || Path.GetFileName(file) != file || file is "." or "..")
                    throw new InvalidDataException($"{indexPath}: weight_map entry '{entry.Name}' must be the file name of a shard next to the index, but it is {entry.Value.GetRawText()}.");
                if (!weightMap.TryAdd(entry.Name, file))
                    throw new InvalidDataException($"{indexPath}: weight_map lists '{entry.Name}' twice.");
            }
            if (weightMap.Count == 0)
                throw new InvalidDataException($"{indexPath}: weight_map is empty.");
            return weightMap;
        }
    }

    SafeTensorsFile FileOf(string name) =>
        _fileOf.TryGetValue(name, out var file)
            ? file
            : throw new KeyNotFoundException($"Checkpoint {Source} has no tensor named '{name}'.");

    /// <summary>Closes all files of the checkpoint.</summary>
    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
    }
}
