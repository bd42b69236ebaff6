using LfU.MLNet.IO;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using LfU.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Checkpoints;

/// <summary>
/// Writes tensors as <c>.safetensors</c> files laid out exactly like the Python <c>safetensors</c> library does (data
/// ordered by descending dtype alignment then name, header padded with spaces to a multiple of 8 bytes), and sharded
/// Hugging Face checkpoints (<c>model-00001-of-00002.safetensors</c> + <c>model.safetensors.index.json</c>).
/// Tensors are copied to contiguous CPU memory and written one at a time, so writing a model needs memory for the
/// largest tensor only. Files are written to <c>name.tmp</c> and renamed, so a crash never leaves a half-written file.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>The file name of a single-file Hugging Face checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The file name of a sharded Hugging Face checkpoint's index.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>The metadata Hugging Face <c>save_pretrained</c> writes and <c>from_pretrained</c> checks for.</summary>
    internal static readonly IReadOnlyDictionary<string, string> PyTorchFormat = new Dictionary<string, string> { ["format"] = "pt" };

    const int WriteChunkBytes = 16 << 20;

    static readonly Regex ShardFileName = new(@"^model-\d{5}-of-\d{5}\.safetensors$", RegexOptions.CultureInvariant);

    /// <summary>Writes <paramref name="tensors"/> (any device, dtype supported by safetensors) to one file at <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">A name is empty, reserved or repeated, or a tensor's dtype cannot be stored.</exception>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        TorchRuntime.EnsureInitialized();
        var entries = Plan(tensors);
        AtomicFile.Write(path, stream => WriteFile(stream, entries, metadata));
    }

    /// <summary>
    /// Writes a Hugging Face checkpoint into <paramref name="folder"/>: tensors (in the given order) fill shards of at
    /// most <paramref name="maxShardBytes"/> each (a larger tensor gets a shard of its own). Like <c>save_pretrained</c>,
    /// a checkpoint that fits in one shard is written as <c>model.safetensors</c> without an index, and checkpoint
    /// files left in the folder by an earlier save in the other layout are deleted so they cannot shadow the new ones.
    /// </summary>
    /// <param name="folder">The checkpoint folder; created if needed.</param>
    /// <param name="tensors">Names and tensors, in the order they should fill shards (module order keeps layers together).</param>
    /// <param name="maxShardBytes">The most tensor bytes per shard.</param>
    /// <param name="metadata">Stored in every shard; defaults to <c>format: pt</c>, which <c>transformers</c> expects.</param>
    /// <returns>The paths of the files written (shards, then the index when there is one).</returns>
    public static IReadOnlyList<string> WriteSharded(string folder, IEnumerable<(string Name, Tensor Tensor)> tensors,
        long maxShardBytes, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        TorchRuntime.EnsureInitialized();
        metadata ??= PyTorchFormat;
        var entries = Plan(tensors);
        string fullFolder = Path.GetFullPath(folder);
        Directory.CreateDirectory(fullFolder);

        var shards = new List<List<Entry>> { new() };
        long shardBytes = 0;
        foreach (var entry in entries)
        {
            if (shards[^1].Count > 0 && shardBytes + entry.ByteLength > maxShardBytes)
            {
                shards.Add([]);
                shardBytes = 0;
            }
            shards[^1].Add(entry);
            shardBytes += entry.ByteLength;
        }

        var written = new List<string>();
        if (shards.Count == 1)
        {
            string single = Path.Combine(fullFolder, SingleFileName);
            AtomicFile.Write(single, stream => WriteFile(stream, shards[0], metadata));
            written.Add(single);
        }
        else
        {
            var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < shards.Count; i++)
            {
                string name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                string shardPath = Path.Combine(fullFolder, name);
                var shard = shards[i];
                AtomicFile.Write(shardPath, stream => WriteFile(stream, shard, metadata));
                written.Add(shardPath);
                foreach (var entry in shard) weightMap[entry.Name] = name;
            }
            string index = Path.Combine(fullFolder, IndexFileName);
            long totalSize = entries.Sum(e => e.ByteLength);
            AtomicFile.Write(index, stream => WriteIndex(stream, totalSize, weightMap));
            written.Add(index);
        }
        DeleteStaleCheckpointFiles(fullFolder, written);
        return written;
    }

    /// <summary>A tensor to write, with the dtype, shape and size it had when the header was planned.</summary>
    sealed record Entry(string Name, Tensor Tensor, ScalarType DType, long[] Shape, long ByteLength);

    static List<Entry> Plan(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A tensor name is empty; safetensors keys must be non-empty.", nameof(tensors));
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved by the safetensors format and cannot name a tensor.", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"Tensor '{name}' is listed twice.", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, $"tensor '{name}'");
            var dtype = tensor.dtype;
            if (!SafeTensorsDType.IsSupported(dtype))
                throw new ArgumentException($"Tensor '{name}' has type {dtype}, which safetensors cannot store (supported: {SafeTensorsDType.SupportedNames}).", nameof(tensors));
            long[] shape = tensor.shape;
            entries.Add(new Entry(name, tensor, dtype, shape, checked(tensor.numel() * SafeTensorsDType.SizeOf(dtype))));
        }
        return entries;
    }

    /// <summary>Writes one complete safetensors file (length, header, data) to <paramref name="stream"/>.</summary>
    static void WriteFile(Stream stream, IReadOnlyList<Entry> unordered, IReadOnlyDictionary<string, string>? metadata)
    {
        // The Python/Rust layout: descending alignment keeps every tensor's bytes aligned to its element size.
        var ordered = unordered
            .OrderByDescending(e => SafeTensorsDType.RankOf(e.DType))
            .ThenBy(e => e.Name, CodePointComparer.Instance)
            .ToList();
        byte[] header = BuildHeader(ordered, metadata);

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var entry in ordered) WriteData(stream, entry);
    }

    static byte[] BuildHeader(IReadOnlyList<Entry> ordered, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, CodePointComparer.Instance))
                    json.WriteString(key, value ?? throw new ArgumentException($"Metadata entry '{key}' is null; safetensors metadata values must be strings.", nameof(metadata)));
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var entry in ordered)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", SafeTensorsDType.NameOf(entry.DType));
                json.WriteStartArray("shape");
                foreach (long dim in entry.Shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += entry.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Pad with spaces to a multiple of 8 so that the data section (and each tensor in it) starts aligned.
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        if (buffer.Length > SafeTensorsFile.MaxHeaderBytes)
            throw new ArgumentException($"The header would be {buffer.Length} bytes, over the format's {SafeTensorsFile.MaxHeaderBytes}-byte limit; write fewer tensors per file.");
        return buffer.ToArray();
    }

    static void WriteData(Stream stream, Entry entry)
    {
        if (entry.ByteLength == 0) return;
        using var scope = NewDisposeScope();
        var source = entry.Tensor.detach().cpu().contiguous();
        if (source.dtype != entry.DType || !source.shape.SequenceEqual(entry.Shape))
            throw new InvalidOperationException($"Tensor '{entry.Name}' changed shape or type while it was being written.");
        var flat = source.view(-1);
        long count = flat.numel();
        long perChunk = Math.Max(1, WriteChunkBytes / SafeTensorsDType.SizeOf(entry.DType));
        for (long start = 0; start < count; start += perChunk)
        {
            using var chunk = flat.narrow(0, start, Math.Min(perChunk, count - start));
            stream.Write(chunk.bytes);
        }
    }

    static void WriteIndex(Stream stream, long totalSize, SortedDictionary<string, string> weightMap)
    {
        // The layout of transformers' json.dumps(index, indent=2, sort_keys=True) + "\n".
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, file) in weightMap) json.WriteString(name, file);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }

    /// <summary>
    /// Removes <c>model.safetensors</c>, the index and <c>model-NNNNN-of-NNNNN.safetensors</c> files that the save just
    /// made obsolete: loaders prefer <c>model.safetensors</c>, so a stale one would hide freshly written shards.
    /// </summary>
    static void DeleteStaleCheckpointFiles(string folder, IEnumerable<string> written)
    {
        var keep = new HashSet<string>(written.Select(Path.GetFileName)!, StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(folder))
        {
            string name = Path.GetFileName(file);
            bool checkpointFile = name is SingleFileName or IndexFileName || ShardFileName.IsMatch(name);
            if (checkpointFile && !keep.Contains(name)) File.Delete(file);
        }
    }

    /// <summary>Orders strings by Unicode code point, which is the byte order of their UTF-8 forms (as Rust sorts).</summary>
    sealed class CodePointComparer : IComparer<string>
    {
        internal static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null) return x is null ? (y is null ? 0 : -1) : 1;
            var left = x.EnumerateRunes();
            var right = y.EnumerateRunes();
            while (true)
            {
                bool hasLeft = left.MoveNext(), hasRight = right.MoveNext();
                if (!hasLeft || !hasRight) return hasLeft.CompareTo(hasRight);
                int order = left.Current.Value.CompareTo(right.Current.Value);
                if (order != 0) return order;
            }
        }
    }
}
