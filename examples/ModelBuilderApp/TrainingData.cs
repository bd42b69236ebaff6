using System.Text.Json;

namespace ModelBuilderApp;

/// <summary>One training example: an instruction and the answer to learn (the estimator's "Prompt" and "Response" columns).</summary>
public sealed class TrainingRow
{
    public string Prompt { get; set; } = "";
    public string Response { get; set; } = "";
}

/// <summary>Reads a .jsonl file of {"prompt": ..., "response": ...} objects (other fields are ignored), such as data/mini-world/finetune_train.jsonl.</summary>
/// <remarks>ML.NET's text loader reads delimited text, not JSON lines, so the rows are read here and given to LoadFromEnumerable.</remarks>
public static class TrainingData
{
    static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    public static List<TrainingRow> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Training data '{path}' not found; pass a .jsonl file of {{\"prompt\", \"response\"}} objects (data/mini-world/finetune_train.jsonl in this repository).", path);
        var rows = new List<TrainingRow>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            TrainingRow? row;
            try { row = JsonSerializer.Deserialize<TrainingRow>(line, Json); }
            catch (JsonException e) { throw new InvalidDataException($"{path}, line {lineNumber}: not a JSON object ({e.Message}).", e); }
            if (row is null || string.IsNullOrWhiteSpace(row.Prompt) || string.IsNullOrWhiteSpace(row.Response))
                throw new InvalidDataException($"{path}, line {lineNumber}: needs non-empty \"prompt\" and \"response\" fields.");
            rows.Add(row);
        }
        if (rows.Count == 0)
            throw new InvalidDataException($"{path} has no rows to train on.");
        return rows;
    }
}
