using System.Buffers.Binary;
using System.Text;

namespace LfU.MLNet.Tests.Checkpoints;

/// <summary>A scratch folder deleted after the test, and helpers to craft (possibly malformed) safetensors files.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder() => Path = Directory.CreateTempSubdirectory("lfu-ckpt").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a file: declared header length (defaults to the real one), the header text, then <paramref name="dataBytes"/> bytes.</summary>
    public string Raw(string header, int dataBytes = 0, ulong? declaredLength = null, string name = "raw.safetensors")
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++) bytes[8 + json.Length + i] = (byte)i;
        string path = File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* leave it to the OS temp cleaner */ }
    }
}

internal static class Fixtures
{
    public static string LlamaTiny => Path.Combine(AppContext.BaseDirectory, "Fixtures", "models", "llama-tiny");
}
