using LfU.MLNet.Objectives;
using System.Globalization;
using System.Text;

namespace LfU.MLNet.Benchmark;

/// <summary>results.csv and results.md of the forgetting benchmark.</summary>
internal static class BenchmarkReport
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>One header line and one row per run, every metric in its own column (invariant culture, "\n" line ends).</summary>
    public static string Csv(IReadOnlyList<BenchmarkRunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var templates = results.SelectMany(r => r.ParaphraseByTemplate.Keys).Distinct().Order().ToList();
        var header = new List<string>
        {
            "method", "setting", "seed", "epochs", "lr", "lambda", "alpha", "reps_alpha", "noise_alpha", "l2_weight", "ascent_steps", "steps", "final_loss",
            "in_domain", "ood_knowledge", "ood_math", "ood_reasoning", "ood_avg", "paraphrase_mean", "paraphrase_std",
        };
        header.AddRange(templates.Select(t => $"paraphrase_t{t}"));
        header.AddRange(["generations", "train_s", "eval_s", "wall_s"]);
        var text = new StringBuilder();
        text.Append(string.Join(',', header)).Append('\n');
        foreach (var r in results)
        {
            var h = r.Run.Hyperparameters;
            var cells = new List<string>
            {
                r.Run.Method.Name, r.Run.Setting, r.Run.Seed.ToString(Invariant), h.Epochs.ToString(Invariant), RoundTrip(h.LearningRate),
                RoundTrip(h.Lambda), RoundTrip(h.Alpha), RoundTrip(h.RepsAlpha), RoundTrip(h.NoiseAlpha), RoundTrip(h.L2Weight),
                h.AscentSteps.ToString(Invariant), r.Steps.ToString(Invariant), r.FinalLoss is double loss ? loss.ToString("F4", Invariant) : "",
                Accuracy(r.InDomain), Accuracy(r.OodKnowledge), Accuracy(r.OodMath), Accuracy(r.OodReasoning), Accuracy(r.OodAverage),
                Accuracy(r.ParaphraseMean), Accuracy(r.ParaphraseStd),
            };
            cells.AddRange(templates.Select(t => r.ParaphraseByTemplate.TryGetValue(t, out double a) ? Accuracy(a) : ""));
            cells.AddRange([r.Generations.ToString(Invariant), Seconds(r.TrainSeconds), Seconds(r.EvalSeconds), Seconds(r.WallSeconds)]);
            text.Append(string.Join(',', cells.Select(CsvField))).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// The rows of a results.csv written by <see cref="Csv"/> that belong to runs of <paramref name="plan"/> (same method,
    /// setting, seed and hyper-parameters); other rows are left out. A malformed file is reported with its line.
    /// </summary>
    public static List<BenchmarkRunResult> ParseCsv(string text, string path, IReadOnlyList<BenchmarkRun> plan)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(plan);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count == 0 || lines[0].Length == 0) throw new InvalidDataException($"{path}: the file is empty; it has no header line.");
        var header = SplitCsvLine(lines[0], path, 1);
        var column = header.Select((name, index) => (name, index)).ToDictionary(c => c.name, c => c.index);
        var templates = header.Where(h => h.StartsWith("paraphrase_t", StringComparison.Ordinal))
            .Select(h => int.Parse(h["paraphrase_t".Length..], Invariant)).ToList();
        var results = new List<BenchmarkRunResult>();
        for (int n = 1; n < lines.Count; n++)
        {
            if (lines[n].Length == 0) continue;
            var cells = SplitCsvLine(lines[n], path, n + 1);
            if (cells.Count != header.Count) throw new InvalidDataException($"{path}:{n + 1}: {cells.Count} fields but the header has {header.Count}.");
            string Cell(string name) => column.TryGetValue(name, out int i) ? cells[i]
                : throw new InvalidDataException($"{path}: column '{name}' is missing; the file was not written by this version of lfu benchmark.");
            double Number(string name) => Hyperparameters.TryParse(Cell(name), out double v) ? v
                : throw new InvalidDataException($"{path}:{n + 1}: column '{name}' is '{Cell(name)}', not a number.");
            var run = plan.FirstOrDefault(r => r.Method.Name == Cell("method") && r.Setting == Cell("setting") && r.Seed == (int)Number("seed"));
            if (run is null) continue;
            var h = run.Hyperparameters;
            // Files from before the multistep method have no ascent_steps column: their runs used the default.
            int ascentSteps = column.ContainsKey("ascent_steps") ? (int)Number("ascent_steps") : Hyperparameters.Default.AscentSteps;
            if (h != new Hyperparameters((int)Number("epochs"), Number("lr"), Number("lambda"), Number("alpha"), Number("reps_alpha"), Number("noise_alpha"), Number("l2_weight"), ascentSteps))
                continue;
            var byTemplate = new SortedDictionary<int, double>();
            foreach (int t in templates) if (Cell($"paraphrase_t{t}").Length > 0) byTemplate[t] = Number($"paraphrase_t{t}");
            results.Add(new BenchmarkRunResult(run, Number("in_domain"), Number("ood_knowledge"), Number("ood_math"), Number("ood_reasoning"), Number("ood_avg"),
                byTemplate, Number("paraphrase_mean"), Number("paraphrase_std"), (int)Number("steps"),
                Cell("final_loss").Length == 0 ? null : Number("final_loss"), (int)Number("generations"),
                Number("train_s"), Number("eval_s"), Number("wall_s")));
        }
        return results;
    }

    /// <summary>Splits one RFC 4180 line (quoted fields may hold commas and doubled quotes).</summary>
    internal static List<string> SplitCsvLine(string line, string path, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"' && field.Length == 0) quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        if (quoted) throw new InvalidDataException($"{path}:{lineNumber}: a quoted field is not closed.");
        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>The runs of one method and setting, over seeds, in plan order.</summary>
    internal sealed record Group(BenchmarkMethod Method, string Setting, IReadOnlyList<BenchmarkRunResult> Runs)
    {
        public (double Mean, double Std) Stat(Func<BenchmarkRunResult, double> metric) =>
            BenchmarkMetrics.MeanAndSampleStd(Runs.Select(metric).ToList());
    }

    public static IReadOnlyList<Group> Groups(IReadOnlyList<BenchmarkRunResult> results) =>
        results.GroupBy(r => (r.Run.Method, r.Run.Setting))
            .OrderBy(g => g.Key.Method.Order)
            .Select(g => new Group(g.Key.Method, g.Key.Setting, g.ToList()))
            .ToList();

    /// <summary>Markdown: the command line, the setup, and per method and setting the mean ± sample std over seeds.</summary>
    /// <param name="results">The completed runs.</param>
    /// <param name="options">The benchmark's settings.</param>
    /// <param name="plannedRuns">Runs planned in all; when more than completed, the report says it is partial.</param>
    public static string Markdown(IReadOnlyList<BenchmarkRunResult> results, BenchmarkOptions options, int plannedRuns)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(options);
        var d = options.Defaults;
        var text = new StringBuilder();
        text.Append("# Forgetting benchmark (mini world)\n\n");
        if (results.Count < plannedRuns)
            text.Append(Invariant, $"**Partial: {results.Count} of {plannedRuns} runs completed.**\n\n");
        text.Append("Produced by:\n\n```\n").Append(options.CommandLine).Append("\n```\n\n");
        text.Append(Invariant, $"- Base model: `{options.ModelFolder}`; data: `{options.DataFolder}`; template {options.Template}; device {options.Device}.\n");
        text.Append(Invariant, $"- Training: LoRA r=8 α=16 on all block linears, batch {options.BatchSize}, ");
        text.Append(options.MaxSteps is int steps ? $"{steps} steps" : $"{d.Epochs} epochs");
        text.Append(Invariant, $", lr {Number(d.LearningRate)} (cosine, 10 % warm-up), seeds 1..{options.Seeds} (the base model is deterministic and runs once).\n");
        text.Append(Invariant, $"- Methods: LfU-LoRA λ={Number(d.Lambda)} α={Number(d.Alpha)} (ascent step α·g/‖g‖ on the adapter weights); ");
        text.Append(Invariant, $"LfU-RepS λ={Number(d.Lambda)} α={Number(d.RepsAlpha)} (additive steering h + α·d/‖d‖, one norm over all layers' vectors: a much weaker scale than the official code's norm-relative form, hence the larger α); ");
        text.Append(Invariant, $"NEFTune noise α={Number(d.NoiseAlpha)}; L2 weight {Number(d.L2Weight)}");
        if (options.Methods.Any(m => m.Objective is LfULoraMultiStepObjective))
            text.Append(Invariant, $"; LfU-LoRA-multistep λ={Number(d.Lambda)} α={Number(d.Alpha)} in k={d.AscentSteps} ascent steps of α/k");
        text.Append(".\n");
        if (options.Sweeps.Count > 0)
            text.Append("- Sweeps (each method runs every value of the parameters it uses, others at the defaults): ")
                .Append(string.Join("; ", options.Sweeps.Select(s => $"{Sweep.NameOf(s.Parameter)} = {string.Join(", ", s.Values.Select(Number))}"))).Append(".\n");
        if (options.Grid.Count > 0)
            text.Append("- Grid (each method runs every combination of the parameters it uses): ")
                .Append(string.Join(" × ", options.Grid.Select(s => $"{Sweep.NameOf(s.Parameter)} ∈ {{{string.Join(", ", s.Values.Select(Number))}}}"))).Append(".\n");
        text.Append(Invariant, $"- Compute: {options.ComputeDType?.ToString() ?? "float32"}, {options.Attention} attention.\n");
        text.Append(Invariant, $"- Evaluation: greedy decoding, at most {options.MaxNewTokens} new tokens; exact match of the final answer (text after the last `####`, else the whole output, trimmed). ");
        text.Append(Invariant, $"In-domain: {Limit(options.TestLimit)} of finetune_test; OOD: {Limit(options.OodLimit)} per category; paraphrases: {Limit(options.ParaphraseLimit)} per template. ");
        text.Append("OOD avg is the unweighted mean of the three categories; OOD Δ is the mean OOD avg minus the base model's (negative = forgetting); paraphrase mean/std are over the templates of finetune_test_paraphrased (std: population). ");
        text.Append("Cells are mean ± sample std over seeds.\n\n");

        // Forgetting is read against the base model's OOD accuracy when the base model was measured.
        double? baseOod = results.Where(r => r.Run.Method == BenchmarkMethod.Base).Select(r => (double?)r.OodAverage).FirstOrDefault();
        text.Append("| method | setting | seeds | in-domain | OOD knowledge | OOD math | OOD reasoning | OOD avg | OOD Δ vs base | paraphrase mean | paraphrase std | wall (s) |\n");
        text.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var g in Groups(results))
        {
            string Cell(Func<BenchmarkRunResult, double> metric) => MeanStd(g.Stat(metric), g.Runs.Count, "F3");
            var cells = new List<string>
            {
                g.Method.Name, g.Setting, g.Runs.Count.ToString(Invariant),
                Cell(r => r.InDomain), Cell(r => r.OodKnowledge), Cell(r => r.OodMath), Cell(r => r.OodReasoning), Cell(r => r.OodAverage),
                baseOod is double b ? (g.Stat(r => r.OodAverage).Mean - b).ToString("+0.000;-0.000;0.000", Invariant) : "n/a",
                Cell(r => r.ParaphraseMean), Cell(r => r.ParaphraseStd), MeanStd(g.Stat(r => r.WallSeconds), g.Runs.Count, "F1"),
            };
            text.Append("| ").Append(string.Join(" | ", cells)).Append(" |\n");
        }
        text.Append(Invariant, $"\nTotal time of these {results.Count} runs: {ForgettingBenchmark.Duration(results.Sum(r => r.WallSeconds))} (training {ForgettingBenchmark.Duration(results.Sum(r => r.TrainSeconds))}, evaluation {ForgettingBenchmark.Duration(results.Sum(r => r.EvalSeconds))}).\n");
        text.Append(BenchmarkFrontier.Markdown(results));
        return text.ToString();
    }

    static string MeanStd((double Mean, double Std) s, int count, string format) => count > 1
        ? $"{s.Mean.ToString(format, Invariant)} ± {s.Std.ToString(format, Invariant)}"
        : s.Mean.ToString(format, Invariant);

    static string Limit(int? limit) => limit is int n ? $"at most the first {n}" : "all";

    static string Number(double value) => Hyperparameters.Format(value, "G6");

    /// <summary>Shortest text that parses back to the same double, so that a resume recognises the run's hyper-parameters.</summary>
    static string RoundTrip(double value) => Hyperparameters.Format(value, "R");

    static string Accuracy(double value) => value.ToString("F4", Invariant);

    static string Seconds(double value) => value.ToString("F2", Invariant);

    /// <summary>RFC 4180 quoting for fields that need it.</summary>
    internal static string CsvField(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
}
