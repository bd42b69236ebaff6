using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.MLNet.IO;

namespace LfU.Cli;

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
