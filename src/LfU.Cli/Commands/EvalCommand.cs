using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using LfU.MLNet.Evaluation;
using Microsoft.ML;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu eval</c>: generates an answer for each row's prompt and compares it with the row's "answer" (else
/// "response") using <see cref="LfUEvaluator"/>: the final number (GSM8K's <c>#### 42</c> convention), exact or
/// normalised text match. Prints the metric overall and per "category" when rows have one.
/// </summary>
internal static class EvalCommand
{
    /// <summary>A row of the data view handed to <see cref="LfUEvaluator"/>.</summary>
    sealed class Prediction
    {
        public string Answer { get; set; } = "";
        public string Generated { get; set; } = "";
    }

    internal static Command Create()
    {
        var model = CliOptions.ModelOptions.Create();
        var generation = CliOptions.GenerationOptions.Create();
        var data = new Option<FileInfo>("--data") { Description = "JSONL (or CSV) with \"prompt\" and \"answer\" (or \"response\") fields, optionally \"category\".", Required = true }.AcceptExistingOnly();
        var metric = new Option<string>("--metric")
        {
            Description = "numeric: the final number matches (GSM8K '#### 42'); exact: the text matches; normalized: it matches ignoring case, spacing and final punctuation.",
            DefaultValueFactory = _ => "numeric",
        }.OneOf("numeric", "exact", "normalized");
        var output = new Option<FileInfo>("--output") { Description = "JSONL to write: each row plus \"generated\" and \"correct\"." }.NotAFolder();
        var command = new Command("eval", "Evaluate a model: generate answers for a data set and print accuracy (overall and per category).") { data, metric, output };
        foreach (var option in model.All.Concat(generation.All)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var records = DataFiles.Read(parse.GetValue(data)!.FullName);
            var prompts = records.Select(r => r.Prompt()).ToList();
            var answers = records.Select(r => r.Answer()).ToList();
            string metricName = parse.GetValue(metric)!;
            if (metricName == "numeric")
            {
                var unusable = records.FirstOrDefault(r => AnswerNormalization.ExtractFinalNumber(r.Answer()) is null);
                if (unusable is not null)
                    throw new InvalidDataException($"{unusable.Where}: the answer \"{unusable.Answer()}\" contains no number; use --metric exact or normalized for text answers.");
            }
            List<string> generated;
            using (var lm = model.Load(parse))
                generated = GenerateCommand.GenerateAll(lm, prompts, generation.Settings(parse), parse.GetValue(generation.Batch));

            var correct = Evaluate(metricName, answers, generated, out string overall);
            Console.WriteLine($"{metricName} accuracy: {overall}");
            var categories = records.Select(r => r.Text("category")).ToList();
            if (categories.Any(c => c is not null) && categories.Distinct().Count() > 1)
            {
                foreach (var group in categories.Select((c, i) => (Category: c ?? "(none)", Index: i)).GroupBy(x => x.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    var indices = group.Select(x => x.Index).ToList();
                    Evaluate(metricName, indices.Select(i => answers[i]).ToList(), indices.Select(i => generated[i]).ToList(), out string line);
                    Console.WriteLine($"  {group.Key,-24} {line}");
                }
            }
            if (parse.GetValue(output) is { } file)
            {
                DataFiles.WriteJsonLines(file.FullName, records.Select((r, i) =>
                {
                    var row = (JsonObject)r.Fields.DeepClone();
                    row["generated"] = generated[i];
                    row["correct"] = correct[i];
                    return row;
                }));
                Console.WriteLine($"Wrote {records.Count} predictions to {file.FullName}.");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Runs the evaluator; returns whether each row is correct and a one-line summary.</summary>
    static bool[] Evaluate(string metric, List<string> answers, List<string> generated, out string summary)
    {
        var view = new MLContext().Data.LoadFromEnumerable(answers.Select((a, i) => new Prediction { Answer = a, Generated = generated[i] }).ToList());
        if (metric == "numeric")
        {
            var m = LfUEvaluator.EvaluateNumericAnswer(view);
            summary = string.Create(CultureInfo.InvariantCulture, $"{100 * m.Accuracy:F1}% ({m.Matches}/{m.Count}; {m.NoAnswerCount} without a number)");
            return m.Rows.Select(r => r.IsMatch).ToArray();
        }
        var s = LfUEvaluator.EvaluateStringMatch(view);
        bool normalized = metric == "normalized";
        int matches = s.Rows.Count(r => normalized ? r.IsNormalizedMatch : r.IsExactMatch);
        summary = string.Create(CultureInfo.InvariantCulture, $"{100 * (normalized ? s.NormalizedMatch : s.ExactMatch):F1}% ({matches}/{s.Count})");
        return s.Rows.Select(r => normalized ? r.IsNormalizedMatch : r.IsExactMatch).ToArray();
    }
}
