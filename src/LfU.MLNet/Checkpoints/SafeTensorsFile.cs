using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using LfU.MLNet.Native;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Checkpoints;

/// <summary>
/// An open <c>.safetensors</c> file (the Hugging Face format: 8-byte little-endian header length, a JSON header, then
/// the raw tensor bytes). <see cref="Open"/> validates the whole header up front, so a malformed file fails there with
/// a message naming the problem rather than later with a crash. Tensors are read one at a time, straight from the file
/// into the tensor's memory, so loading a model never holds more than the tensor being read besides the model itself.
/// </summary>
/// <remarks>
/// Only little-endian hosts are supported (the format is little-endian and bytes are copied as they are).
/// Unused bytes between or after tensors are tolerated (the Python library rejects them); overlapping tensors are not.
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>The Python/Rust library refuses larger headers; so do we, so a corrupt length cannot make us allocate gigabytes.</summary>
    internal const long MaxHeaderBytes = 100_000_000;

    /// <summary>Bytes read per call; bounds the size of a single span over tensor memory.</summary>
    const int ReadChunkBytes = 16 << 20;

    const string MetadataKey = "__metadata__";

    readonly Dictionary<string, SafeTensorInfo> _tensors;
    SafeFileHandle? _handle;

    SafeTensorsFile(string path, SafeFileHandle handle, long dataStart, Dictionary<string, SafeTensorInfo> tensors,
        Dictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        DataStart = dataStart;
        _tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>The tensors declared in the header, by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors => _tensors;

    /// <summary>The header's optional <c>__metadata__</c> (e.g. <c>format: pt</c>); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>File offset of the data section (8 + header length).</summary>
    internal long DataStart { get; }

    /// <summary>Opens <paramref name="path"/> and validates its header: every entry's dtype, shape and offsets.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file; the message says what is wrong.</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public static SafeTensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Reading safetensors files is only supported on little-endian machines.");
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
            throw new FileNotFoundException($"Safetensors file not found: {fullPath}", fullPath);
        IO.RegularFile.RequireIfPresent(fullPath);

        var handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8)
                throw Corrupt(fullPath, $"the file is {fileLength} bytes long, shorter than the 8-byte header length that starts every safetensors file");

            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(handle, prefix, 0, fullPath, "the header length");
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)(fileLength - 8))
                throw Corrupt(fullPath, $"the header length {headerLength} runs beyond the end of the file ({fileLength} bytes); " +
                                        "the file is truncated or not a safetensors file");
            if (headerLength > MaxHeaderBytes)
                throw Corrupt(fullPath, $"the header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit of the format");

            var header = new byte[headerLength];
            ReadExactly(handle, header, 8, fullPath, "the header");
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(header, fileLength - dataStart, fullPath);
            return new SafeTensorsFile(fullPath, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads one tensor into a new CPU tensor of the stored dtype (chunk by chunk, directly into its memory), then
    /// converts it to <paramref name="convertTo"/> and moves it to <paramref name="device"/> when given.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public Tensor Read(string name, ScalarType? convertTo = null, Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_handle is null, this);
        if (!_tensors.TryGetValue(name, out var info))
            throw new KeyNotFoundException($"{Path}: no tensor named '{name}' (the file holds {_tensors.Count} tensors).");
        TorchRuntime.EnsureInitialized();

        using var scope = NewDisposeScope();
        // Bytes other than 0 and 1 in a C++ bool are undefined behaviour, so booleans are read as bytes and normalised.
        var storedAs = info.DType == ScalarType.Bool ? ScalarType.Byte : info.DType;
        var tensor = empty(info.Shape, dtype: storedAs);
        ReadInto(tensor, info);
        if (storedAs != info.DType) tensor = tensor.to_type(info.DType);
        if (convertTo is { } type && type != tensor.dtype) tensor = tensor.to_type(type);
        if (device is not null) tensor = tensor.to(device);
        return tensor.MoveToOuterDisposeScope();
    }

    void ReadInto(Tensor tensor, SafeTensorInfo info)
    {
        long count = tensor.numel();
        if (count == 0) return;
        int elementSize = SafeTensorsDType.SizeOf(info.DType);
        long perChunk = Math.Max(1, ReadChunkBytes / elementSize);
        using var flat = tensor.view(-1);
        long fileOffset = DataStart + info.Begin;
        for (long start = 0; start < count; start += perChunk)
        {
            using var chunk = flat.narrow(0, start, Math.Min(perChunk, count - start));
            // A span over the tensor's own memory: the file is read straight into it, with no managed copy.
            Span<byte> destination = chunk.bytes;
            ReadExactly(_handle!, destination, fileOffset, Path, $"tensor '{info.Name}'");
            fileOffset += destination.Length;
        }
    }

    static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long fileOffset, string path, string what)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(handle, destination, fileOffset);
            if (read <= 0)
                throw Corrupt(path, $"the file ended while reading {what} at offset {fileOffset}; it was truncated or changed after it was opened");
            destination = destination[read..];
            fileOffset += read;
        }
    }

    /// <summary>Parses and validates the JSON header against a data section of <paramref name="dataLength"/> bytes.</summary>
    static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(byte[] header, long dataLength, string path)
    {
        // JsonDocument checks UTF-8 only lazily, when a string is read; check it all up front.
        if (!Utf8.IsValid(header))
            throw Corrupt(path, "the header is not valid UTF-8 text");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Corrupt(path, $"the header is not valid UTF-8 JSON ({e.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Corrupt(path, $"the header must be a JSON object, but it is {Describe(root.ValueKind)}");

            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (sawMetadata) throw Corrupt(path, $"the header has two \"{MetadataKey}\" entries");
                    sawMetadata = true;
                    ParseMetadata(property.Value, metadata, path);
                    continue;
                }
                if (tensors.ContainsKey(property.Name))
                    throw Corrupt(path, $"the header declares tensor '{property.Name}' twice");
                tensors.Add(property.Name, ParseEntry(property.Name, property.Value, dataLength, path));
            }
            CheckNoOverlap(tensors.Values, path);
            return (tensors, metadata);
        }
    }

    static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, $"\"{MetadataKey}\" must be an object of strings, but it is {Describe(value.ValueKind)}");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Corrupt(path, $"\"{MetadataKey}\" entry '{entry.Name}' must be a string, but it is {Describe(entry.Value.ValueKind)}");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw Corrupt(path, $"\"{MetadataKey}\" declares '{entry.Name}' twice");
        }
    }

    static SafeTensorInfo ParseEntry(string name, JsonElement entry, long dataLength, string path)
    {
        string where = $"tensor '{name}'";
        if (entry.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, $"{where} must be an object with dtype, shape and data_offsets, but it is {Describe(entry.ValueKind)}");

        var dtypeElement = Field(entry, "dtype", JsonValueKind.String, where, path);
        if (!SafeTensorsDType.TryParse(dtypeElement.GetString()!, out var dtype, out string? whyNot))
            throw Corrupt(path, $"{where} has {whyNot}");

        var shapeElement = Field(entry, "shape", JsonValueKind.Array, where, path);
        var shape = new long[shapeElement.GetArrayLength()];
        for (int i = 0; i < shape.Length; i++)
            shape[i] = NonNegativeInteger(shapeElement[i], $"{where}: shape[{i}]", path);

        var offsetsElement = Field(entry, "data_offsets", JsonValueKind.Array, where, path);
        if (offsetsElement.GetArrayLength() != 2)
            throw Corrupt(path, $"{where}: data_offsets must be [begin, end], but it has {offsetsElement.GetArrayLength()} elements");
        long begin = NonNegativeInteger(offsetsElement[0], $"{where}: data_offsets begin", path);
        long end = NonNegativeInteger(offsetsElement[1], $"{where}: data_offsets end", path);
        if (end < begin)
            throw Corrupt(path, $"{where}: data_offsets [{begin}, {end}] end before they begin");

        long byteLength;
        try
        {
            long elements = 1;
            foreach (long dim in shape) elements = checked(elements * dim);
            byteLength = checked(elements * SafeTensorsDType.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw Corrupt(path, $"{where}: shape {SafeTensorInfo.FormatShape(shape)} is too large (its byte size overflows 64 bits); the header is corrupt");
        }
        if (byteLength != end - begin)
            throw Corrupt(path, $"{where}: shape {SafeTensorInfo.FormatShape(shape)} of {SafeTensorsDType.NameOf(dtype)} needs {byteLength} bytes, " +
                                $"but data_offsets [{begin}, {end}] span {end - begin}");
        if (end > dataLength)
            throw Corrupt(path, $"{where}: data_offsets [{begin}, {end}] run beyond the data section, which has {dataLength} bytes; " +
                                "the file is truncated or corrupt");
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    static JsonElement Field(JsonElement entry, string field, JsonValueKind kind, string where, string path)
    {
        if (!entry.TryGetProperty(field, out var value))
            throw Corrupt(path, $"{where} has no \"{field}\" field");
        if (value.ValueKind != kind)
            throw Corrupt(path, $"{where}: \"{field}\" must be {Describe(kind)}, but it is {Describe(value.ValueKind)}");
        return value;
    }

    static long NonNegativeInteger(JsonElement value, string what, string path)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long number))
            throw Corrupt(path, $"{what} must be an integer, but it is {value.GetRawText()}");
        if (number < 0)
            throw Corrupt(path, $"{what} is negative ({number})");
        return number;
    }

    /// <summary>Two tensors sharing bytes would alias each other's storage; the format forbids it.</summary>
    static void CheckNoOverlap(IEnumerable<SafeTensorInfo> tensors, string path)
    {
        SafeTensorInfo? previous = null;
        foreach (var info in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.Begin))
        {
            if (previous is not null && info.Begin < previous.End)
                throw Corrupt(path, $"tensors '{previous.Name}' (bytes [{previous.Begin}, {previous.End})) and '{info.Name}' " +
                                    $"(bytes [{info.Begin}, {info.End})) overlap");
            previous = info;
        }
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    static InvalidDataException Corrupt(string path, string problem) =>
        new($"{path} is not a valid safetensors file: {problem}.");

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
    }
}
