using LfU.MLNet.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LfU.MLNet.Benchmark;

/// <summary>
/// Writes a <see cref="MiniWorldDataset"/> as JSONL files plus <c>templates.json</c> and <c>manifest.json</c>, and
/// reads the JSONL files back. Each line is <c>{"prompt","response","answer","category","template","task"}</c>.
/// The bytes depend on the data alone (fixed property order, "\n" line ends), so the manifest's SHA-256 sums
/// identify a generation.
/// </summary>
internal static class MiniWorldFiles
{
    public const string Pretrain = "pretrain.jsonl";
    public const string FineTuneTrain = "finetune_train.jsonl";
    public const string FineTuneTest = "finetune_test.jsonl";
    /// <summary>The fine-tuning test questions under every non-canonical template, for the prompt-robustness measure.</summary>
    public const string Robustness = "finetune_test_paraphrased.jsonl";
    public const string OodKnowledge = "ood_knowledge.jsonl";
    public const string OodMath = "ood_math.jsonl";
    public const string OodReasoning = "ood_reasoning.jsonl";
    public const string TemplatesFile = "templates.json";
    public const string ManifestFile = "manifest.json";

    static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    static readonly JsonWriterOptions LineOptions = new() { Encoder = Encoder };
    static readonly JsonWriterOptions DocumentOptions = new() { Encoder = Encoder, Indented = true, NewLine = "\n" };

    /// <summary>Writes every file into <paramref name="directory"/> (created if missing), each atomically; the
    /// manifest last, so that a complete manifest means complete data.</summary>
    /// <param name="data">The generated splits.</param>
    /// <param name="directory">Output folder.</param>
    /// <param name="regenerateCommand">The command line that reproduces these files, recorded in the manifest.</param>
    public static void Write(MiniWorldDataset data, string directory, string regenerateCommand)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var written = new List<(string Name, int Lines, byte[] Bytes)>();
        void Emit(string name, int lines, byte[] bytes)
        {
            AtomicFile.WriteAllBytes(Path.Combine(directory, name), bytes);
            written.Add((name, lines, bytes));
        }
        foreach (var (name, items) in Splits(data)) Emit(name, items.Count, ToJsonl(items));
        Emit(TemplatesFile, data.Templates.Count, TemplatesJson(data.Templates));
        AtomicFile.WriteAllBytes(Path.Combine(directory, ManifestFile), ManifestJson(data, regenerateCommand, written));
    }

    /// <summary>The JSONL files and their items, in a fixed order.</summary>
    public static IEnumerable<(string File, IReadOnlyList<MiniWorldItem> Items)> Splits(MiniWorldDataset data) =>
    [
        (Pretrain, data.Pretrain),
        (FineTuneTrain, data.FineTuneTrain),
        (FineTuneTest, data.FineTuneTest),
        (Robustness, data.Robustness),
        (OodKnowledge, data.OodKnowledge),
        (OodMath, data.OodMath),
        (OodReasoning, data.OodReasoning),
    ];

    public static byte[] ToJsonl(IEnumerable<MiniWorldItem> items)
    {
        using var buffer = new MemoryStream();
        foreach (var item in items)
        {
            using (var json = new Utf8JsonWriter(buffer, LineOptions))
            {
                json.WriteStartObject();
                json.WriteString("prompt", item.Prompt);
                json.WriteString("response", item.Response);
                json.WriteString("answer", item.Answer);
                json.WriteString("category", item.Category);
                json.WriteNumber("template", item.Template);
                json.WriteString("task", item.Task);
                json.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
        }
        return buffer.ToArray();
    }

    /// <summary>Reads a mini-world JSONL file; a malformed line is reported with its file and line number.</summary>
    public static List<MiniWorldItem> ReadJsonl(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Mini-world data file '{path}' does not exist; run 'lfu make-data' to create it.", path);
        var items = new List<MiniWorldItem>();
        foreach (var (lineNumber, line) in IO.Utf8TextFile.ReadLines(path, path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the line is not a JSON object");
                items.Add(new MiniWorldItem(
                    RequiredString(root, "prompt"), RequiredString(root, "response"), RequiredString(root, "answer"),
                    RequiredString(root, "category"), RequiredInt(root, "template"), RequiredString(root, "task")));
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                throw new FormatException($"{path}:{lineNumber}: {e.Message}. Each line must be a JSON object with string fields prompt, response, answer, category, task and an integer template.", e);
            }
        }
        return items;
    }

    static string RequiredString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"field '{name}' is missing or not a string");

    static int RequiredInt(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number)
            ? number
            : throw new FormatException($"field '{name}' is missing or not an integer");

    static byte[] TemplatesJson(IReadOnlyList<InstructionTemplate> templates)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, DocumentOptions))
        {
            json.WriteStartObject();
            json.WriteString("generatorVersion", MiniWorld.GeneratorVersion);
            json.WriteString("slot", InstructionTemplate.QuestionSlot);
            json.WriteNumber("canonical", MiniWorld.CanonicalTemplate);
            json.WriteStartArray("templates");
            foreach (var template in templates)
            {
                json.WriteStartObject();
                json.WriteNumber("id", template.Id);
                json.WriteString("text", template.Text);
                json.WriteBoolean("inPretraining", template.InPretraining);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    static byte[] ManifestJson(MiniWorldDataset data, string regenerateCommand, List<(string Name, int Lines, byte[] Bytes)> files)
    {
        var options = data.Options;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, DocumentOptions))
        {
            json.WriteStartObject();
            json.WriteString("generator", "LfU.MLNet mini world");
            json.WriteString("generatorVersion", MiniWorld.GeneratorVersion);
            json.WriteNumber("seed", options.Seed);
            json.WriteString("regenerate", regenerateCommand);
            json.WriteString("note",
                "The same command, seed and generator version reproduce every file byte for byte (see the sha256 sums). " +
                "Test questions (finetune_test, the ood_* files) never appear in pretraining under any template; " +
                "the fine-tuning task (category finetune) does not appear in pretraining at all.");
            json.WriteString("answerExtraction", $"the text after the last '{MiniWorld.AnswerMarker}' of a response, else the whole response, trimmed; compare with 'answer' exactly");
            json.WriteStartObject("sizes");
            json.WriteNumber("pretrain", options.PretrainSize);
            json.WriteNumber("finetuneTrain", options.FineTuneTrainSize);
            json.WriteNumber("finetuneTest", options.FineTuneTestSize);
            json.WriteNumber("oodKnowledge", options.OodKnowledgeSize);
            json.WriteNumber("oodMath", options.OodMathSize);
            json.WriteNumber("oodReasoning", options.OodReasoningSize);
            json.WriteNumber("people", options.People);
            json.WriteEndObject();
            json.WriteStartObject("files");
            foreach (var (name, lines, bytes) in files)
            {
                json.WriteStartObject(name);
                json.WriteNumber(name.EndsWith(".jsonl", StringComparison.Ordinal) ? "lines" : "entries", lines);
                json.WriteNumber("bytes", bytes.Length);
                json.WriteString("sha256", Convert.ToHexStringLower(SHA256.HashData(bytes)));
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
