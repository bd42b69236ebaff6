using System.Text;

namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>
/// GPT-2's reversible byte-to-character map used by byte-level BPE: every byte becomes one printable BMP char
/// (printable Latin-1 bytes map to themselves, the rest to U+0100 onwards, e.g. space to 'Ġ').
/// </summary>
internal static class ByteLevelAlphabet
{
    static readonly char[] ByteToChar = BuildByteToChar();
    static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    static Dictionary<char, byte> BuildCharToByte()
    {
        var inverse = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) inverse[ByteToChar[b]] = (byte)b;
        return inverse;
    }

    /// <summary>The UTF-8 bytes of <paramref name="text"/>, each written as its byte-level char.</summary>
    public static string Encode(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++) span[i] = ByteToChar[source[i]];
        });
    }

    /// <summary>
    /// Appends the bytes a token stands for. As in Hugging Face's ByteLevel decoder, a token holding any char outside
    /// the alphabet (e.g. an added token with a space) contributes its own UTF-8 bytes unchanged.
    /// </summary>
    public static void AppendBytes(string token, List<byte> bytes)
    {
        int start = bytes.Count;
        foreach (char c in token)
        {
            if (!CharToByte.TryGetValue(c, out byte b))
            {
                bytes.RemoveRange(start, bytes.Count - start);
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
                return;
            }
            bytes.Add(b);
        }
    }
}
