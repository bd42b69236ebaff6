using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using LfU.MLNet.IO;
using LfU.MLNet.Tokenization;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu tokenize --tokenizer DIR --input TEXTS.jsonl --output IDS.jsonl</c>: encodes each <c>{"text": ...}</c> line
/// and writes <c>{"text", "ids_no_special", "ids_with_special", "decoded"}</c>, where <c>decoded</c> is the decode
/// of <c>ids_no_special</c> keeping special tokens: the original text whenever the tokenizer round-trips it, including
/// text that itself contains a special-token string (<c>&lt;|begin_of_text|&gt;</c>), which skipping would drop.
/// </summary>
internal static class TokenizeCommand
{
    internal static Command Create()
    {
        var tokenizerOption = new Option<DirectoryInfo>("--tokenizer")
        {
            Description = "Model folder with tokenizer.json (or tokenizer.model) and tokenizer_config.json.",
            Required = true,
        };
        var inputOption = new Option<FileInfo>("--input") { Description = "JSONL file, one {\"text\": \"...\"} per line.", Required = true };
        var outputOption = new Option<FileInfo>("--output") { Description = "JSONL file to write (replaced atomically).", Required = true };
        var command = new Command("tokenize", "Encode and decode texts with a Hugging Face tokenizer.") { tokenizerOption, inputOption, outputOption };
        command.SetAction(parse =>
        {
            Run(parse.GetValue(tokenizerOption)!.FullName, parse.GetValue(inputOption)!.FullName, parse.GetValue(outputOption)!.FullName);
            return 0;
        });
        return command;
    }

    static void Run(string tokenizerDir, string inputPath, string outputPath)
    {
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"Input file '{inputPath}' does not exist.");
        HfTokenizer tokenizer = HfTokenizer.FromFolder(tokenizerDir);
        string[] texts = ReadTexts(inputPath);

        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        AtomicFile.Write(outputPath, stream =>
        {
            foreach (string text in texts)
            {
                int[] noSpecial = tokenizer.Encode(text, addSpecialTokens: false);
                using (var writer = new Utf8JsonWriter(stream, options))
                {
                    writer.WriteStartObject();
                    writer.WriteString("text", text);
                    WriteIds(writer, "ids_no_special", noSpecial);
                    WriteIds(writer, "ids_with_special", tokenizer.Encode(text, addSpecialTokens: true));
                    writer.WriteString("decoded", tokenizer.Decode(noSpecial, skipSpecialTokens: false));
                    writer.WriteEndObject();
                }
                stream.WriteByte((byte)'\n');
            }
        });
    }

    static void WriteIds(Utf8JsonWriter writer, string name, int[] ids)
    {
        writer.WriteStartArray(name);
        foreach (int id in ids) writer.WriteNumberValue(id);
        writer.WriteEndArray();
    }

    /// <summary>The "text" of every non-blank line; a bad line is an error naming its number.</summary>
    static string[] ReadTexts(string path)
    {
        var texts = new List<string>();
        foreach (var (lineNumber, line) in Utf8TextFile.ReadLines(path, Path.GetFileName(path)))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            string where = $"{Path.GetFileName(path)} line {lineNumber}";
            try
            {
                using JsonDocument document = JsonDocument.Parse(line);
                if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("text", out JsonElement text))
                    throw new InvalidDataException($"{where}: expected an object with a \"text\" field, e.g. {{\"text\": \"Hello\"}}.");
                texts.Add(text.ValueKind == JsonValueKind.String
                    ? text.GetString()!
                    : throw new InvalidDataException($"{where}: \"text\" must be a string, not {text.ValueKind}."));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{where}: not valid JSON ({e.Message}).", e);
            }
        }
        return texts.ToArray();
    }
}
