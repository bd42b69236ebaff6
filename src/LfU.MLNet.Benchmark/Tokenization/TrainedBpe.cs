using LfU.MLNet.IO;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LfU.MLNet.Tokenization;

/// <summary>A trained byte-level BPE: tokens in id order (the 256 byte characters by byte value, then merges) and the
/// merges by rank, and the pre-tokenizer pattern they were learnt with. The special tokens of
/// <see cref="BpeTrainer.SpecialTokens"/> follow the last token.</summary>
internal sealed class TrainedBpe(IReadOnlyList<string> tokens, IReadOnlyList<(string Left, string Right)> merges, string preTokenizerPattern)
{
    public const string TokenizerFile = "tokenizer.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";

    public IReadOnlyList<string> Tokens { get; } = tokens;
    public IReadOnlyList<(string Left, string Right)> Merges { get; } = merges;
    public string PreTokenizerPattern { get; } = preTokenizerPattern;

    /// <summary>Tokens plus special tokens.</summary>
    public int VocabSize => Tokens.Count + BpeTrainer.SpecialTokens.Count;

    public int SpecialTokenId(string special)
    {
        int index = BpeTrainer.SpecialTokens.ToList().IndexOf(special);
        if (index < 0) throw new ArgumentException($"'{special}' is not one of the special tokens {string.Join(", ", BpeTrainer.SpecialTokens)}.", nameof(special));
        return Tokens.Count + index;
    }

    /// <summary>Writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c> into <paramref name="directory"/>.</summary>
    public void Save(string directory, int modelMaxLength = 512)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (modelMaxLength <= 0) throw new ArgumentOutOfRangeException(nameof(modelMaxLength), modelMaxLength, "The model's maximum length must be positive.");
        AtomicFile.WriteAllBytes(Path.Combine(directory, TokenizerFile), ToTokenizerJson());
        AtomicFile.WriteAllBytes(Path.Combine(directory, TokenizerConfigFile), ToTokenizerConfigJson(modelMaxLength));
    }

    static readonly JsonWriterOptions JsonOptions = new()
    {
        Indented = true,
        NewLine = "\n",
        // Byte-level characters (Ġ, Ċ, ...) are written as themselves, as in Hugging Face's files.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The Hugging Face <c>tokenizer.json</c>, structured like Llama 3's (with its bos-adding post-processor).</summary>
    public byte[] ToTokenizerJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            foreach (string special in BpeTrainer.SpecialTokens)
            {
                json.WriteStartObject();
                json.WriteNumber("id", SpecialTokenId(special));
                json.WriteString("content", special);
                WriteAddedTokenFlags(json);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNull("normalizer");

            json.WriteStartObject("pre_tokenizer");
            json.WriteString("type", "Sequence");
            json.WriteStartArray("pretokenizers");
            json.WriteStartObject();
            json.WriteString("type", "Split");
            json.WriteStartObject("pattern");
            json.WriteString("Regex", PreTokenizerPattern);
            json.WriteEndObject();
            json.WriteString("behavior", "Isolated");
            json.WriteBoolean("invert", false);
            json.WriteEndObject();
            WriteByteLevel(json, addPrefixSpace: false, trimOffsets: true, useRegex: false);
            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteStartObject("post_processor");
            json.WriteString("type", "Sequence");
            json.WriteStartArray("processors");
            WriteByteLevel(json, addPrefixSpace: true, trimOffsets: false, useRegex: true);
            WriteBosTemplate(json);
            json.WriteEndArray();
            json.WriteEndObject();

            json.WritePropertyName("decoder");
            WriteByteLevel(json, addPrefixSpace: true, trimOffsets: true, useRegex: true);

            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteNull("continuing_subword_prefix");
            json.WriteNull("end_of_word_suffix");
            json.WriteBoolean("fuse_unk", false);
            json.WriteBoolean("byte_fallback", false);
            json.WriteBoolean("ignore_merges", false);
            json.WriteStartObject("vocab");
            for (int id = 0; id < Tokens.Count; id++) json.WriteNumber(Tokens[id], id);
            json.WriteEndObject();
            json.WriteStartArray("merges");
            foreach (var (left, right) in Merges) json.WriteStringValue($"{left} {right}");
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    static void WriteAddedTokenFlags(Utf8JsonWriter json)
    {
        json.WriteBoolean("single_word", false);
        json.WriteBoolean("lstrip", false);
        json.WriteBoolean("rstrip", false);
        json.WriteBoolean("normalized", false);
        json.WriteBoolean("special", true);
    }

    static void WriteByteLevel(Utf8JsonWriter json, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        json.WriteStartObject();
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", addPrefixSpace);
        json.WriteBoolean("trim_offsets", trimOffsets);
        json.WriteBoolean("use_regex", useRegex);
        json.WriteEndObject();
    }

    void WriteBosTemplate(Utf8JsonWriter json)
    {
        string bos = BpeTrainer.BeginOfText;
        void Special(int typeId)
        {
            json.WriteStartObject();
            json.WriteStartObject("SpecialToken");
            json.WriteString("id", bos);
            json.WriteNumber("type_id", typeId);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        void Sequence(string id, int typeId)
        {
            json.WriteStartObject();
            json.WriteStartObject("Sequence");
            json.WriteString("id", id);
            json.WriteNumber("type_id", typeId);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteStartObject();
        json.WriteString("type", "TemplateProcessing");
        json.WriteStartArray("single");
        Special(0);
        Sequence("A", 0);
        json.WriteEndArray();
        json.WriteStartArray("pair");
        Special(0);
        Sequence("A", 0);
        Special(1);
        Sequence("B", 1);
        json.WriteEndArray();
        json.WriteStartObject("special_tokens");
        json.WriteStartObject(bos);
        json.WriteString("id", bos);
        json.WriteStartArray("ids");
        json.WriteNumberValue(SpecialTokenId(bos));
        json.WriteEndArray();
        json.WriteStartArray("tokens");
        json.WriteStringValue(bos);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The <c>tokenizer_config.json</c> that transformers reads beside <c>tokenizer.json</c>.</summary>
    public byte[] ToTokenizerConfigJson(int modelMaxLength)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteBoolean("add_bos_token", true);
            json.WriteBoolean("add_eos_token", false);
            json.WriteStartObject("added_tokens_decoder");
            foreach (string special in BpeTrainer.SpecialTokens)
            {
                json.WriteStartObject(SpecialTokenId(special).ToString(System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("content", special);
                WriteAddedTokenFlags(json);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteString("bos_token", BpeTrainer.BeginOfText);
            json.WriteBoolean("clean_up_tokenization_spaces", false);
            json.WriteString("eos_token", BpeTrainer.EndOfText);
            json.WriteStartArray("model_input_names");
            json.WriteStringValue("input_ids");
            json.WriteStringValue("attention_mask");
            json.WriteEndArray();
            json.WriteNumber("model_max_length", modelMaxLength);
            json.WriteString("pad_token", BpeTrainer.Pad);
            json.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
