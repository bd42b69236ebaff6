using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LfU.MLNet;

/// <summary>
/// The versioned container in which an <see cref="LfUTransformer"/> stores its state inside an ML.NET model zip.
/// Layout (little-endian):
/// <code>
/// magic "LFUSTATE" (8 bytes) | format version (int32) | manifest length (int32) | manifest SHA-256 (32 bytes)
/// | manifest (UTF-8 JSON: transformer settings and, per blob, name, size and SHA-256) | blobs, in manifest order
/// </code>
/// Every length is bounded and every hash is checked on reading; blob names are opaque keys, never paths.
/// </summary>
internal static class ModelStateContainer
{
    internal const int FormatVersion = 1;
    private static readonly byte[] Magic = "LFUSTATE"u8.ToArray();
    private const int MaxManifestBytes = 16 << 20;
    private const int MaxEntries = 100_000;
    private const int MaxEntryNameLength = 512;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private sealed record Manifest(TransformerManifest Transformer, IReadOnlyList<ManifestEntry> Entries);

    private sealed record ManifestEntry(string Name, long Size, string Sha256);

    public static void Write(Stream stream, TransformerManifest transformer, IReadOnlyDictionary<string, byte[]> blobs)
    {
        var names = blobs.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (string name in names)
            CheckEntryName(name, "Cannot save the model state");
        var entries = names.Select(n => new ManifestEntry(n, blobs[n].LongLength, Convert.ToHexStringLower(SHA256.HashData(blobs[n])))).ToList();
        byte[] manifest = JsonSerializer.SerializeToUtf8Bytes(new Manifest(transformer, entries), Json);
        if (manifest.Length > MaxManifestBytes || entries.Count > MaxEntries)
            throw new InvalidOperationException($"Cannot save the model state: {entries.Count} blobs make a manifest of {manifest.Length} bytes; the limits are {MaxEntries} blobs and {MaxManifestBytes} bytes.");

        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(manifest.Length);
        writer.Write(SHA256.HashData(manifest));
        writer.Write(manifest);
        foreach (string name in names)
            writer.Write(blobs[name]);
    }

    /// <summary>Reads and verifies a container; <paramref name="where"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The container is truncated, corrupt, tampered with or of an unknown version.</exception>
    public static (TransformerManifest Transformer, IReadOnlyDictionary<string, byte[]> Blobs) Read(Stream stream, string where)
    {
        byte[] magic = ReadBytes(stream, Magic.Length, where, "the header");
        if (!magic.AsSpan().SequenceEqual(Magic))
            throw Corrupt(where, "it does not start with the LfU state marker 'LFUSTATE'");
        int version = BitConverter.ToInt32(ReadBytes(stream, 4, where, "the header"));
        if (version != FormatVersion)
            throw new InvalidDataException(
                $"The LfU model state in {where} has format version {version}, but this version of LfU.MLNet reads only version {FormatVersion}. " +
                "Load it with the version of LfU.MLNet that saved it.");
        int manifestLength = BitConverter.ToInt32(ReadBytes(stream, 4, where, "the header"));
        if (manifestLength <= 0 || manifestLength > MaxManifestBytes)
            throw Corrupt(where, $"its manifest length {manifestLength} is outside 1..{MaxManifestBytes}");
        byte[] expectedManifestHash = ReadBytes(stream, 32, where, "the header");
        byte[] manifestBytes = ReadBytes(stream, manifestLength, where, "the manifest");
        if (!SHA256.HashData(manifestBytes).AsSpan().SequenceEqual(expectedManifestHash))
            throw Corrupt(where, "its manifest fails its SHA-256 check");

        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(manifestBytes, Json)
                ?? throw Corrupt(where, "its manifest is empty");
            if (manifest.Transformer is null || manifest.Entries is null)
                throw Corrupt(where, "its manifest lacks the transformer settings or the blob list");
        }
        catch (JsonException ex)
        {
            throw Corrupt(where, $"its manifest is not valid JSON ({ex.Message})", ex);
        }
        if (manifest.Entries.Count > MaxEntries)
            throw Corrupt(where, $"its manifest lists {manifest.Entries.Count} blobs (limit {MaxEntries})");

        var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in manifest.Entries)
        {
            CheckEntryName(entry?.Name, $"The LfU model state in {where} is corrupt");
            if (entry!.Size < 0 || entry.Size > Array.MaxLength)
                throw Corrupt(where, $"blob '{entry.Name}' has size {entry.Size}, outside 0..{Array.MaxLength}");
            if (blobs.ContainsKey(entry.Name))
                throw Corrupt(where, $"blob '{entry.Name}' is listed twice");
            byte[] data = ReadBytes(stream, (int)entry.Size, where, $"blob '{entry.Name}'");
            string actual = Convert.ToHexStringLower(SHA256.HashData(data));
            if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
                throw Corrupt(where, $"blob '{entry.Name}' fails its SHA-256 check (expected {entry.Sha256}, found {actual})");
            blobs.Add(entry.Name, data);
        }
        if (stream.ReadByte() != -1)
            throw Corrupt(where, "it has data after the last blob");

        try
        {
            manifest.Transformer.Columns.Validate();
            manifest.Transformer.Generation.Validate();
            if (manifest.Transformer.BatchSize < 1 || string.IsNullOrWhiteSpace(manifest.Transformer.ModelKind))
                throw new ArgumentException("the batch size must be at least 1 and the model kind non-empty");
        }
        catch (ArgumentException ex)
        {
            throw Corrupt(where, $"its settings are invalid: {ex.Message}", ex);
        }
        return (manifest.Transformer, blobs);
    }

    private static void CheckEntryName(string? name, string context)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxEntryNameLength || name.Any(char.IsControl))
            throw new InvalidDataException($"{context}: blob name '{name}' must be 1..{MaxEntryNameLength} characters without control characters.");
    }

    private static byte[] ReadBytes(Stream stream, int count, string where, string what)
    {
        var buffer = new byte[count];
        int read = stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        if (read < count)
            throw Corrupt(where, $"it is truncated in {what} (expected {count} bytes, found {read})");
        return buffer;
    }

    private static InvalidDataException Corrupt(string where, string what, Exception? inner = null) =>
        new($"The LfU model state in {where} is corrupt: {what}. Save the model again.", inner);
}
