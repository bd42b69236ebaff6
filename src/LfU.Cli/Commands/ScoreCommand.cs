using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu score</c>: the log-probability of each row's response given its prompt; writes each input row plus
/// "score_mean" and "score_total" (natural log, over the response tokens and the end-of-turn token; null for an empty response).
/// </summary>
internal static class ScoreCommand
{
    const int Chunk = 16;

    internal static Command Create()
    {
        var model = CliOptions.ModelOptions.Create();
        var input = new Option<FileInfo>("--input") { Description = "JSONL (or CSV) with \"prompt\" and \"response\" fields.", Required = true }.AcceptExistingOnly();
        var output = new Option<FileInfo>("--output") { Description = "JSONL to write: each input row plus \"score_mean\" and \"score_total\".", Required = true }.NotAFolder();
        var command = new Command("score", "Score responses: mean and total log-probability of each response given its prompt.") { input, output };
        foreach (var option in model.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var records = DataFiles.Read(parse.GetValue(input)!.FullName);
            var pairs = records.Select(r => (Prompt: r.Prompt(), Response: r.Response())).ToList();
            using var lm = model.Load(parse);
            var scores = new List<(double Mean, double Total)>(pairs.Count);
            using (var stop = new StopSignals())
            using (var progress = ConsoleProgress.OnStandardOutput(printEvery: 100))
            {
                var clock = Stopwatch.StartNew();
                for (int start = 0; start < pairs.Count; start += Chunk)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    var chunk = pairs.Skip(start).Take(Chunk).ToList();
                    scores.AddRange(lm.Score(chunk.Select(p => p.Prompt).ToList(), chunk.Select(p => p.Response).ToList()));
                    progress.Update("row", scores.Count, pairs.Count, "", clock.Elapsed / scores.Count * (pairs.Count - scores.Count));
                }
            }
            string outputPath = parse.GetValue(output)!.FullName;
            DataFiles.WriteJsonLines(outputPath, records.Select((r, i) =>
            {
                var row = (JsonObject)r.Fields.DeepClone();
                row["score_mean"] = Finite(scores[i].Mean);
                row["score_total"] = Finite(scores[i].Total);
                return row;
            }));
            var valid = scores.Where(s => double.IsFinite(s.Mean)).ToList();
            Console.WriteLine($"Scored {records.Count} rows" + (valid.Count > 0 ? $"; mean log-probability per token {valid.Average(s => s.Mean):F4}" : "") +
                              (valid.Count < scores.Count ? $"; {scores.Count - valid.Count} empty responses have no score" : "") + $". Wrote {outputPath}.");
            return 0;
        });
        return command;
    }

    /// <summary>JSON has no NaN: an unscored row gets null.</summary>
    static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
