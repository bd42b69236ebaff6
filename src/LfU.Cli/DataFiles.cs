using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.MLNet.IO;
using LfU.MLNet.Tokenization;

namespace LfU.Cli;

/// <summary>
/// One row of a data file, with the file name and 1-based line where it starts (for error messages). Text fields:
/// <c>prompt</c> and <c>response</c>; or Alpaca's <c>instruction</c>, optional <c>input</c> and <c>output</c>;
/// or (JSONL) a chat <c>messages</c> list of <c>{"role", "content"}</c> whose last message is the reply to learn.
/// Field names (CSV header columns, JSONL keys) match case-insensitively: <c>Prompt,Response</c> works; a row that has
/// two spellings of one name (<c>prompt</c> and <c>Prompt</c>) is an error rather than a guess.
/// </summary>
internal sealed record DataRecord(string File, int Line, JsonObject Fields)
{
    /// <summary>"file, line N", the prefix of every error about this row.</summary>
    internal string Where => $"{File}, line {Line}";

    /// <summary>The instruction: <c>prompt</c>, or <c>instruction</c> followed by a blank line and <c>input</c> when given.</summary>
    internal string Prompt()
    {
        if (Text("prompt") is { } prompt) return prompt;
        if (Text("instruction") is { } instruction)
            return Text("input") is { Length: > 0 } input ? instruction + "\n\n" + input : instruction;
        if (Has("messages"))
            throw new InvalidDataException($"{Where}: chat \"messages\" rows can only be trained on; give a \"prompt\" field here.");
        throw new InvalidDataException($"{Where}: no \"prompt\" (or \"instruction\") field; found {FieldList()}.");
    }

    /// <summary>The response to learn or score: <c>response</c>, or <c>output</c>.</summary>
    internal string Response() =>
        Text("response") ?? Text("output") ?? throw new InvalidDataException($"{Where}: no \"response\" (or \"output\") field; found {FieldList()}.");

    /// <summary>The reference answer for evaluation: <c>answer</c>, else the response.</summary>
    internal string Answer() => Text("answer") ?? Text("response") ?? Text("output")
        ?? throw new InvalidDataException($"{Where}: no \"answer\" (or \"response\") field to compare the generation with; found {FieldList()}.");

    /// <summary>The conversation to train on: the chat messages, or the prompt followed by the response.</summary>
    internal IReadOnlyList<ChatMessage> Conversation()
    {
        if (!TryGet("messages", out var node)) return [new ChatMessage("user", Prompt()), new ChatMessage("assistant", Response())];
        if (node is not JsonArray array || array.Count < 2)
            throw new InvalidDataException($"{Where}: \"messages\" must be a list of at least two {{\"role\", \"content\"}} objects.");
        var messages = new List<ChatMessage>();
        foreach (var (item, i) in array.Select((m, i) => (m, i)))
        {
            if (item is not JsonObject m || Lookup(m, "role", $"messages[{i}]") is not JsonValue role || role.GetValueKind() != JsonValueKind.String
                || Lookup(m, "content", $"messages[{i}]") is not JsonValue content || content.GetValueKind() != JsonValueKind.String)
                throw new InvalidDataException($"{Where}: messages[{i}] must be an object with string \"role\" and \"content\".");
            string name = role.GetValue<string>();
            if (name is not ("system" or "user" or "assistant"))
                throw new InvalidDataException($"{Where}: messages[{i}] has role \"{name}\"; use system, user or assistant.");
            messages.Add(new ChatMessage(name, content.GetValue<string>()));
        }
        if (messages[^1].Role != "assistant")
            throw new InvalidDataException($"{Where}: the last message must be the assistant's reply to learn (it is \"{messages[^1].Role}\").");
        return messages;
    }

    /// <summary>A text field; numbers and booleans are taken as their JSON text; null when absent or JSON null.</summary>
    internal string? Text(string name)
    {
        if (!TryGet(name, out var node) || node is null) return null;
        if (node is JsonValue value)
        {
            return value.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
                _ => null,
            };
        }
        throw new InvalidDataException($"{Where}: field \"{name}\" must be text, not {(node is JsonArray ? "a list" : "an object")}.");
    }

    bool Has(string name) => TryGet(name, out _);

    /// <summary>The field called <paramref name="name"/> in any letter case; null node for JSON null.</summary>
    bool TryGet(string name, out JsonNode? node)
    {
        node = Lookup(Fields, name, null);
        return node is not null || Fields.Any(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The value of the one key of <paramref name="obj"/> equal to <paramref name="name"/> ignoring case; two such keys are an error.</summary>
    JsonNode? Lookup(JsonObject obj, string name, string? inside)
    {
        if (obj.TryGetPropertyValue(name, out var exact) && !obj.Any(f => f.Key != name && string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)))
            return exact;
        var matches = obj.Where(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count > 1)
            throw new InvalidDataException($"{Where}: {(inside is null ? "" : inside + ": ")}both {string.Join(" and ", matches.Select(f => $"\"{f.Key}\""))} are given; " +
                "field names match regardless of case, so keep only one.");
        return matches.Count == 1 ? matches[0].Value : null;
    }

    string FieldList() => Fields.Count == 0 ? "no fields" : string.Join(", ", Fields.Select(f => $"\"{f.Key}\""));
}

/// <summary>Reads and writes the CLI's data files: JSONL (one JSON object a line) and CSV with a header (RFC 4180).</summary>
internal static class DataFiles
{
    /// <summary>Reads a .jsonl or .csv file; every malformed line fails with the file and line named.</summary>
    internal static List<DataRecord> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.");
        string name = Path.GetFileName(path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        var records = extension switch
        {
            ".jsonl" or ".json" => ReadJsonLines(path, name),
            ".csv" => ReadCsv(Utf8TextFile.ReadAllText(path, name), name),
            _ => throw new InvalidDataException($"{name}: unknown data format '{extension}'; use .jsonl (one JSON object a line) or .csv (with a header row)."),
        };
        if (records.Count == 0) throw new InvalidDataException($"{name}: the file has no data rows.");
        return records;
    }

    static List<DataRecord> ReadJsonLines(string path, string name)
    {
        var records = new List<DataRecord>();
        foreach (var (line, text) in Utf8TextFile.ReadLines(path, name))
        {
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonNode? node;
            try { node = JsonNode.Parse(text); }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{name}, line {line}: not valid JSON ({e.Message}). Each line must be one JSON object, e.g. {{\"prompt\": \"...\", \"response\": \"...\"}}.");
            }
            if (node is not JsonObject fields)
                throw new InvalidDataException($"{name}, line {line}: expected a JSON object, found {node?.GetValueKind().ToString().ToLowerInvariant() ?? "null"}.");
            records.Add(new DataRecord(name, line, fields));
        }
        return records;
    }

    /// <summary>Parses CSV (RFC 4180: quoted fields may hold commas, quotes doubled, and line breaks) with a header row.</summary>
    internal static List<DataRecord> ReadCsv(string text, string name)
    {
        var rows = ParseCsv(text, name);
        if (rows.Count == 0) throw new InvalidDataException($"{name}: the file is empty; expected a header row such as prompt,response.");
        var (headerLine, header) = rows[0];
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"{name}, line {headerLine}: the header names column \"{duplicate.Key}\" twice.");
        var records = new List<DataRecord>();
        foreach (var (line, fields) in rows.Skip(1))
        {
            if (fields.Count == 1 && fields[0].Length == 0) continue; // a blank line
            if (fields.Count != header.Count)
                throw new InvalidDataException($"{name}, line {line}: {fields.Count} fields but the header has {header.Count} ({string.Join(",", header)}); quote fields that contain commas.");
            var json = new JsonObject();
            for (int i = 0; i < header.Count; i++) json[header[i]] = fields[i];
            records.Add(new DataRecord(name, line, json));
        }
        return records;
    }

    static List<(int Line, List<string> Fields)> ParseCsv(string text, string name)
    {
        var rows = new List<(int, List<string>)>();
        var field = new StringBuilder();
        var fields = new List<string>();
        int line = 1, rowLine = 1, i = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        bool quoted = false, afterQuote = false;
        int rowStart = i;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (i - rowStart > Utf8TextFile.MaxLineBytes)
                throw new InvalidDataException($"{name}, line {rowLine}: the row is longer than {Utf8TextFile.MaxLineBytes / 1024} KiB, the limit for one row; split or shorten it " +
                                               "(rows are cut to the cutoff length in tokens anyway).");
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else { quoted = false; afterQuote = true; }
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append(c);
                }
                continue;
            }
            switch (c)
            {
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    afterQuote = false;
                    break;
                case '\r' when i + 1 < text.Length && text[i + 1] == '\n':
                    break;
                case '\n' or '\r':
                    fields.Add(field.ToString());
                    rows.Add((rowLine, fields));
                    (field, fields, afterQuote) = (new StringBuilder(), new List<string>(), false);
                    rowLine = ++line;
                    rowStart = i + 1;
                    break;
                case '"' when field.Length == 0 && !afterQuote:
                    quoted = true;
                    break;
                case '"':
                    throw new InvalidDataException($"{name}, line {line}: a quote inside an unquoted field; enclose the field in quotes and double the quote (\"\").");
                default:
                    if (afterQuote)
                        throw new InvalidDataException($"{name}, line {line}: text after a closing quote; a quoted field must end at a comma or the end of the line.");
                    field.Append(c);
                    break;
            }
        }
        if (quoted) throw new InvalidDataException($"{name}, line {rowLine}: a quoted field is never closed (missing '\"').");
        if (field.Length > 0 || fields.Count > 0 || afterQuote)
        {
            fields.Add(field.ToString());
            rows.Add((rowLine, fields));
        }
        return rows;
    }

    // Non-ASCII text stays readable; JSON's own escapes (quotes, control characters) still apply.
    static readonly JsonSerializerOptions JsonLineOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One compact JSON line.</summary>
    internal static string ToJsonLine(JsonObject row) => row.ToJsonString(JsonLineOptions);

    /// <summary>Writes JSON objects one a line, atomically.</summary>
    internal static void WriteJsonLines(string path, IEnumerable<JsonObject> rows) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            foreach (var row in rows) writer.WriteLine(ToJsonLine(row));
        });
}
