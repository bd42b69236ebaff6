using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace LfU.MLNet.IO;

/// <summary>
/// Reads data files as strict UTF-8: a byte that is not UTF-8 is an error naming the file and line (a lenient
/// reader would silently train on U+FFFD), and a line longer than <see cref="MaxLineBytes"/> is refused after reading
/// only that much, so one 50 MB row cannot take gigabytes to tokenize before being cut to the cutoff anyway.
/// </summary>
internal static class Utf8TextFile
{
    /// <summary>1 MiB: about 250,000 tokens, far beyond any cutoff a row is trained with.</summary>
    public const int MaxLineBytes = 1 << 20;

    /// <summary>The lines of <paramref name="path"/> (1-based numbers, without "\n" or "\r\n"); <paramref name="name"/> is named in errors.</summary>
    public static IEnumerable<(int Number, string Text)> ReadLines(string path, string name, int maxLineBytes = MaxLineBytes)
    {
        RegularFile.RequireIfPresent(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var line = new ArrayBufferWriter<byte>();
        byte[] buffer = new byte[1 << 16];
        int number = 1, read;
        while ((read = stream.Read(buffer)) > 0)
        {
            for (int start = 0; start < read;)
            {
                int end = buffer.AsSpan(start, read - start).IndexOf((byte)'\n');
                int length = end < 0 ? read - start : end;
                if (line.WrittenCount + length > maxLineBytes)
                    throw new InvalidDataException($"{name}, line {number}: the line is longer than {maxLineBytes / 1024} KiB, the limit for one row; split or shorten it " +
                                                   "(rows are cut to the cutoff length in tokens anyway).");
                line.Write(buffer.AsSpan(start, length));
                if (end < 0) break;
                yield return (number, Decode(line.WrittenSpan, name, number));
                line.ResetWrittenCount();
                number++;
                start += length + 1;
            }
        }
        if (line.WrittenCount > 0) yield return (number, Decode(line.WrittenSpan, name, number));
    }

    /// <summary>The whole text of <paramref name="path"/> (for formats whose records span lines, such as CSV).</summary>
    public static string ReadAllText(string path, string name)
    {
        RegularFile.RequireIfPresent(path);
        byte[] bytes = File.ReadAllBytes(path);
        RequireValid(bytes, name, firstLine: 1);
        return Encoding.UTF8.GetString(bytes);
    }

    static string Decode(ReadOnlySpan<byte> line, string name, int number)
    {
        if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
        if (number == 1 && line.StartsWith("\uFEFF"u8)) line = line[3..];
        RequireValid(line, name, number);
        return Encoding.UTF8.GetString(line);
    }

    /// <summary>Throws at the first byte that is not UTF-8, naming its line (counted from <paramref name="firstLine"/>).</summary>
    static void RequireValid(ReadOnlySpan<byte> bytes, string name, int firstLine)
    {
        if (Utf8.IsValid(bytes)) return;
        int offset = 0;
        char[] scratch = ArrayPool<char>.Shared.Rent(4096);
        try
        {
            // Advance over the valid prefix in chunks; the status stops at the first invalid sequence.
            while (true)
            {
                var status = Utf8.ToUtf16(bytes[offset..], scratch, out int consumed, out _, replaceInvalidSequences: false, isFinalBlock: true);
                offset += consumed;
                if (status != OperationStatus.DestinationTooSmall) break;
            }
        }
        finally { ArrayPool<char>.Shared.Return(scratch); }
        var before = bytes[..offset];
        int line = firstLine + before.Count((byte)'\n');
        int column = offset - (before.LastIndexOf((byte)'\n') + 1) + 1;
        throw new InvalidDataException($"{name}, line {line}: byte {column} (0x{bytes[offset]:X2}) is not valid UTF-8; save the file as UTF-8.");
    }
}
