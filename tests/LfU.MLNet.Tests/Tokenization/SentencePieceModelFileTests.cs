using System.Text;
using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

/// <summary>
/// Llama 2-style <c>tokenizer.model</c> (SentencePiece BPE with byte fallback), written here as a protobuf by hand:
/// there is no such file in the npm packages, and the format is small.
/// </summary>
public sealed class SentencePieceModelFileTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-spm");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    // SentencePiece piece types.
    const int Normal = 1, Unknown = 2, Control = 3, Byte = 6;

    static readonly string[] Merged = { "▁", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "llo", "▁he", "▁hello", "▁w", "or", "ld", "▁wor", "▁world" };

    /// <summary>Pieces: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, 256 byte pieces, then merges by decreasing score (BPE priority).</summary>
    static byte[] ModelProto()
    {
        var model = new MemoryStream();
        void Piece(string text, float score, int type)
        {
            var p = new MemoryStream();
            WriteString(p, 1, text);
            WriteTag(p, 2, 5); p.Write(BitConverter.GetBytes(score));
            WriteVarintField(p, 3, type);
            WriteBytes(model, 1, p.ToArray());
        }
        Piece("<unk>", 0, Unknown);
        Piece("<s>", 0, Control);
        Piece("</s>", 0, Control);
        for (int b = 0; b < 256; b++) Piece($"<0x{b:X2}>", 0, Byte);
        for (int i = 0; i < Merged.Length; i++) Piece(Merged[i], -i, Normal);

        var trainer = new MemoryStream();
        WriteVarintField(trainer, 3, 2);   // model_type = BPE
        WriteVarintField(trainer, 35, 1);  // byte_fallback = true
        WriteVarintField(trainer, 40, 0);  // unk_id
        WriteVarintField(trainer, 41, 1);  // bos_id
        WriteVarintField(trainer, 42, 2);  // eos_id
        WriteVarintField(trainer, 43, -1); // pad_id (none)
        WriteBytes(model, 2, trainer.ToArray());

        var normalizer = new MemoryStream();
        WriteString(normalizer, 1, "identity");
        WriteVarintField(normalizer, 3, 1); // add_dummy_prefix
        WriteVarintField(normalizer, 4, 0); // remove_extra_whitespaces
        WriteVarintField(normalizer, 5, 1); // escape_whitespaces
        WriteBytes(model, 3, normalizer.ToArray());
        return model.ToArray();
    }

    static void WriteTag(Stream s, int field, int wireType) => WriteVarint(s, (ulong)((field << 3) | wireType));
    static void WriteVarintField(Stream s, int field, long value) { WriteTag(s, field, 0); WriteVarint(s, unchecked((ulong)value)); }
    static void WriteString(Stream s, int field, string text) => WriteBytes(s, field, Encoding.UTF8.GetBytes(text));
    static void WriteBytes(Stream s, int field, byte[] bytes) { WriteTag(s, field, 2); WriteVarint(s, (ulong)bytes.Length); s.Write(bytes); }
    static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
        s.WriteByte((byte)v);
    }

    HfTokenizer Load()
    {
        File.WriteAllBytes(Path.Combine(_dir, "tokenizer.model"), ModelProto());
        return HfTokenizer.FromFolder(_dir);
    }

    [Fact]
    public void MergesKnownWordsAddsBosAndFallsBackToBytes()
    {
        var tokenizer = Load();
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        int first = 3 + 256; // first merged piece
        int Id(string piece) => first + Array.IndexOf(Merged, piece);

        Assert.Equal(new[] { Id("▁hello"), Id("▁world") }, tokenizer.Encode("hello world", addSpecialTokens: false));
        Assert.Equal(new[] { 1, Id("▁hello"), Id("▁world") }, tokenizer.Encode("hello world")); // Llama 2 adds BOS
        // "ü" is not a piece: byte fallback gives its two UTF-8 bytes.
        var ids = tokenizer.Encode("hello ü", addSpecialTokens: false);
        Assert.Equal(new[] { Id("▁hello"), Id("▁"), 3 + 0xC3, 3 + 0xBC }, ids);
        Assert.Equal("hello ü", tokenizer.Decode(ids));
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("hello world")));
    }

    [Fact]
    public void AMalformedModelFileIsAClearError()
    {
        File.WriteAllBytes(Path.Combine(_dir, "tokenizer.model"), new byte[] { 0x0a, 0xff, 0x01, 0x02 });
        var error = Assert.Throws<InvalidDataException>(() => HfTokenizer.FromFolder(_dir));
        Assert.StartsWith("tokenizer.model: not a SentencePiece model", error.Message);
    }
}
