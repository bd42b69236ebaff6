using System.Buffers.Binary;
using System.Text;

namespace LfU.MLNet.Tests.Checkpoints;

/// <summary>A <see cref="TempFolder"/> with helpers to craft (possibly malformed) safetensors files.</summary>
internal sealed class ScratchFolder : IDisposable
{
    readonly TempFolder _temp = new("lfu-ckpt");

    public string Path => _temp.Path;

    public string File(string name) => _temp.File(name);

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

    public void Dispose() => _temp.Dispose();
}

internal static class Fixtures
{
    public static string LlamaTiny => Path.Combine(AppContext.BaseDirectory, "Fixtures", "models", "llama-tiny");
}
