using System.Globalization;
using System.Text;

namespace LfU.MLNet.Benchmark;

/// <summary>The measurements of one benchmark run. Accuracies are exact-match fractions in [0, 1].</summary>
/// <param name="Run">The run measured.</param>
/// <param name="InDomain">Accuracy on the held-out fine-tuning questions (canonical template).</param>
/// <param name="OodKnowledge">Accuracy on the out-of-domain knowledge questions.</param>
/// <param name="OodMath">Accuracy on the out-of-domain math problems.</param>
/// <param name="OodReasoning">Accuracy on the out-of-domain reasoning tasks.</param>
/// <param name="OodAverage">Unweighted mean of the three out-of-domain categories.</param>
/// <param name="ParaphraseByTemplate">Accuracy on the paraphrased in-domain test per template id.</param>
/// <param name="ParaphraseMean">Mean of <paramref name="ParaphraseByTemplate"/>.</param>
/// <param name="ParaphraseStd">Population standard deviation of <paramref name="ParaphraseByTemplate"/> (the spread over templates).</param>
/// <param name="Steps">Optimizer steps trained (0 for the base model).</param>
/// <param name="FinalLoss">SFT loss of the last step, or null for the base model.</param>
/// <param name="Generations">Prompts generated for the evaluation.</param>
/// <param name="TrainSeconds">Time spent training (0 for the base model).</param>
/// <param name="EvalSeconds">Time spent generating the evaluation outputs.</param>
/// <param name="WallSeconds">Time of the whole run: loading, training, evaluation.</param>
internal sealed record BenchmarkRunResult(
    BenchmarkRun Run,
    double InDomain,
    double OodKnowledge,
    double OodMath,
    double OodReasoning,
    double OodAverage,
    IReadOnlyDictionary<int, double> ParaphraseByTemplate,
    double ParaphraseMean,
    double ParaphraseStd,
    int Steps,
    double? FinalLoss,
    int Generations,
    double TrainSeconds,
    double EvalSeconds,
    double WallSeconds);

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
            "method", "setting", "seed", "epochs", "lr", "lambda", "alpha", "reps_alpha", "noise_alpha", "l2_weight", "steps", "final_loss",
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
                r.Run.Method.Name(), r.Run.Setting, r.Run.Seed.ToString(Invariant), h.Epochs.ToString(Invariant), Number(h.LearningRate),
                Number(h.Lambda), Number(h.Alpha), Number(h.RepsAlpha), Number(h.NoiseAlpha), Number(h.L2Weight),
                r.Steps.ToString(Invariant), r.FinalLoss is double loss ? loss.ToString("F4", Invariant) : "",
                Accuracy(r.InDomain), Accuracy(r.OodKnowledge), Accuracy(r.OodMath), Accuracy(r.OodReasoning), Accuracy(r.OodAverage),
                Accuracy(r.ParaphraseMean), Accuracy(r.ParaphraseStd),
            };
            cells.AddRange(templates.Select(t => r.ParaphraseByTemplate.TryGetValue(t, out double a) ? Accuracy(a) : ""));
            cells.AddRange([r.Generations.ToString(Invariant), Seconds(r.TrainSeconds), Seconds(r.EvalSeconds), Seconds(r.WallSeconds)]);
            text.Append(string.Join(',', cells.Select(CsvField))).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The runs of one method and setting, over seeds, in plan order.</summary>
    internal sealed record Group(BenchmarkMethod Method, string Setting, IReadOnlyList<BenchmarkRunResult> Runs)
    {
        public (double Mean, double Std) Stat(Func<BenchmarkRunResult, double> metric) =>
            BenchmarkMetrics.MeanAndSampleStd(Runs.Select(metric).ToList());
    }

    public static IReadOnlyList<Group> Groups(IReadOnlyList<BenchmarkRunResult> results) =>
        results.GroupBy(r => (r.Run.Method, r.Run.Setting))
            .OrderBy(g => (int)g.Key.Method)
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
        text.Append(Invariant, $"NEFTune noise α={Number(d.NoiseAlpha)}; L2 weight {Number(d.L2Weight)}.\n");
        if (options.Sweeps.Count > 0)
            text.Append("- Sweeps (each method runs every value of the parameters it uses, others at the defaults): ")
                .Append(string.Join("; ", options.Sweeps.Select(s => $"{Sweep.NameOf(s.Parameter)} = {string.Join(", ", s.Values.Select(Number))}"))).Append(".\n");
        text.Append(Invariant, $"- Evaluation: greedy decoding, at most {options.MaxNewTokens} new tokens; exact match of the final answer (text after the last `####`, else the whole output, trimmed). ");
        text.Append(Invariant, $"In-domain: {Limit(options.TestLimit)} of finetune_test; OOD: {Limit(options.OodLimit)} per category; paraphrases: {Limit(options.ParaphraseLimit)} per template. ");
        text.Append("OOD avg is the unweighted mean of the three categories; paraphrase mean/std are over the templates of finetune_test_paraphrased (std: population). ");
        text.Append("Cells are mean ± sample std over seeds.\n\n");

        text.Append("| method | setting | seeds | in-domain | OOD knowledge | OOD math | OOD reasoning | OOD avg | paraphrase mean | paraphrase std | wall (s) |\n");
        text.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var g in Groups(results))
        {
            text.Append(Invariant, $"| {g.Method.Name()} | {g.Setting} | {g.Runs.Count} | ");
            text.Append(string.Join(" | ", new Func<BenchmarkRunResult, double>[]
            {
                r => r.InDomain, r => r.OodKnowledge, r => r.OodMath, r => r.OodReasoning, r => r.OodAverage, r => r.ParaphraseMean, r => r.ParaphraseStd,
            }.Select(metric => MeanStd(g.Stat(metric), g.Runs.Count, "F3"))));
            text.Append(" | ").Append(MeanStd(g.Stat(r => r.WallSeconds), g.Runs.Count, "F1")).Append(" |\n");
        }
        return text.ToString();
    }

    static string MeanStd((double Mean, double Std) s, int count, string format) => count > 1
        ? $"{s.Mean.ToString(format, Invariant)} ± {s.Std.ToString(format, Invariant)}"
        : s.Mean.ToString(format, Invariant);

    static string Limit(int? limit) => limit is int n ? $"the first {n}" : "all";

    static string Number(double value) => value.ToString("G6", Invariant);

    static string Accuracy(double value) => value.ToString("F4", Invariant);

    static string Seconds(double value) => value.ToString("F2", Invariant);

    /// <summary>RFC 4180 quoting for fields that need it.</summary>
    internal static string CsvField(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
}
