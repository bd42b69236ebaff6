using System.Text.Json;
using LfU.MLNet.Training;

namespace QuickStart;

/// <summary>One line of a mini-world .jsonl file; ML.NET makes each property a column.</summary>
public sealed class QuestionRow
{
    /// <summary>The instruction: the estimator's input column (LfUOptions.PromptColumnName, default "Prompt").</summary>
    public string Prompt { get; set; } = "";
    /// <summary>The worked answer to learn (LfUOptions.ResponseColumnName, default "Response").</summary>
    public string Response { get; set; } = "";
    /// <summary>The final answer alone, the label of the evaluation.</summary>
    public string Answer { get; set; } = "";
}

/// <summary>A question without its answer: what a prediction engine is given.</summary>
public sealed class Question
{
    public string Prompt { get; set; } = "";
}

/// <summary>What the fine-tuned transformer adds: the generated text (LfUOptions.GeneratedColumnName, default "Generated").</summary>
public sealed class Prediction
{
    public string Generated { get; set; } = "";
}

public static class MiniWorldData
{
    static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    /// <summary>Reads the first <paramref name="maxRows"/> rows (all when null) of a .jsonl file.</summary>
    public static List<QuestionRow> Read(string path, int? maxRows = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Data file '{path}' not found; pass --data with the mini-world folder (data/mini-world in this repository).", path);
        var rows = new List<QuestionRow>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (rows.Count == maxRows) break;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try { rows.Add(JsonSerializer.Deserialize<QuestionRow>(line, Json)!); }
            catch (JsonException e) { throw new InvalidDataException($"{path}, line {lineNumber}: not a JSON object ({e.Message}).", e); }
        }
        return rows;
    }
}

/// <summary>Prints training progress on the console as it happens (Progress&lt;T&gt; would post it to the thread pool, out of order).</summary>
public sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        var m = p.Metrics;
        int every = Math.Max(1, p.TotalSteps / 15);
        if (m.Step % every != 0 && m.Step != p.TotalSteps && m.Step != 1) return;
        string consistency = m.Consistency is double c ? $"  consistency {c,8:F5}" : "";
        Console.WriteLine($"  step {m.Step,4}/{p.TotalSteps}  epoch {m.Epoch,4:F2}  loss {m.Sft,7:F4}{consistency}  lr {m.LearningRate,-7:G2}  " +
                          $"{p.TokensPerSecond,6:F0} tok/s  ETA {p.Remaining:mm\\:ss}");
    }
}
