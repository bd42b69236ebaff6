using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Generation;
using LfU.MLNet.IO;
using LfU.MLNet.Native;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Objectives;
using LfU.MLNet.Training;
using static TorchSharp.torch;

namespace LfU.MLNet.Benchmark;

/// <summary>
/// The forgetting benchmark: for each method and seed, fine-tune the mini world's pretrained base model (LoRA) on the
/// narrow new task and measure exact-match accuracy in-domain, on each out-of-domain category and under paraphrased
/// instructions. Results are rewritten (atomically) after every run, so an interrupted benchmark keeps what it measured.
/// </summary>
/// <remarks>On the CPU a benchmark is deterministic: training is seeded and decoding is greedy in a fixed batching.</remarks>
internal sealed class ForgettingBenchmark
{
    public const string CsvFile = "results.csv";
    public const string MarkdownFile = "results.md";
    public const string ScatterChartFile = "tradeoff.png";
    public const string BarChartFile = "categories.png";
    public const string PredictionsFolder = "predictions";
    /// <summary>The settings every run of a results folder shares; a resume must match them.</summary>
    public const string SettingsFile = "benchmark.json";

    /// <summary>Generation also stops at the start of a new alpaca section ("\n### "); "####" answer markers never match it.</summary>
    internal static readonly string[] StopStrings = ["\n### "];

    readonly BenchmarkOptions _options;
    readonly TextWriter _log;

    public ForgettingBenchmark(BenchmarkOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        _options = options;
        _log = log;
    }

    /// <summary>
    /// Runs every planned run and returns the results. On cancellation the files hold every completed run and
    /// <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    public IReadOnlyList<BenchmarkRunResult> Run(CancellationToken cancellationToken = default)
    {
        var plan = BenchmarkRun.Plan(_options);
        var data = BenchmarkData.Load(_options.DataFolder, _options.TestLimit, _options.OodLimit, _options.ParaphraseLimit);
        bool cuda = _options.Device == "cuda";
        TorchRuntime.EnsureInitialized(cuda); // with cuda: says what is missing when no GPU can be used
        var device = cuda ? CUDA : CPU;
        string modelFolder = Path.GetFullPath(_options.ModelFolder);
        // Fails early on a missing or mismatched model folder, before any run.
        BaseModel.Load(modelFolder, _options.Template, ScalarType.Float32, CPU).Network.Dispose();
        string fingerprint = ModelFingerprint.Of(modelFolder);
        // One benchmark per results folder: two would overwrite each other's results.csv after every run.
        using var outputLock = FolderLock.Acquire(_options.OutputFolder, "benchmark");
        if (outputLock.TakeOverWarning is { } warning) _log.WriteLine(warning);
        var previous = PrepareOutputFolder(plan, fingerprint);
        if (_options.ReportOnly)
        {
            var kept = plan.Select(run => previous.FirstOrDefault(r => r.Run == run)).OfType<BenchmarkRunResult>().ToList();
            WriteOutputs(kept, plan.Count);
            _log.WriteLine($"Report rewritten from {kept.Count} of {plan.Count} planned runs in {Path.Combine(_options.OutputFolder, CsvFile)}; nothing was run.");
            return kept;
        }

        int tests = data.AllTests().Count;
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Benchmark: {plan.Count} runs ({string.Join(", ", _options.Methods.Select(m => m.Name))}; {_options.Seeds} seed(s)); " +
            $"{data.Train.Count} training examples; {tests} test prompts per run (in-domain {data.InDomain.Count}, OOD {data.OodKnowledge.Count}+{data.OodMath.Count}+{data.OodReasoning.Count}, paraphrased {data.Paraphrased.Count}); output {_options.OutputFolder}"));

        var results = new List<BenchmarkRunResult>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < plan.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var run = plan[i];
            if (previous.FirstOrDefault(r => r.Run == run) is { } earlier)
            {
                results.Add(earlier);
                _log.WriteLine($"[{i + 1}/{plan.Count}] {run.Describe()}: kept from the previous results.");
                continue;
            }
            var result = RunOne(run, data, modelFolder, device, cancellationToken);
            results.Add(result);
            // Earlier results of runs not reached yet stay in the files: a resume interrupted again loses nothing.
            WriteOutputs(results.Concat(previous.Where(p => !results.Any(r => r.Run == p.Run))).ToList(), plan.Count);
            _log.WriteLine(ProgressLine(i + 1, plan, results));
        }
        WriteOutputs(results, plan.Count);
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Benchmark done in {Duration(clock.Elapsed.TotalSeconds)}; results in {Path.Combine(_options.OutputFolder, MarkdownFile)}."));
        return results;
    }

    BenchmarkRunResult RunOne(BenchmarkRun run, BenchmarkData data, string modelFolder, Device device, CancellationToken cancellationToken)
    {
        var wall = Stopwatch.StartNew();
        var baseModel = BaseModel.Load(modelFolder, _options.Template, ScalarType.Float32, device);
        using var network = baseModel.Network;
        network.AttentionImplementation = _options.Attention;
        int steps = 0;
        double? finalLoss = null;
        double trainSeconds = 0;
        if (run.Trains)
        {
            var train = Stopwatch.StartNew();
            var job = new FineTuningJob(baseModel, TrainerOptionsFor(run));
            var examples = job.BuildExamples(data.Train.Select(item => (item.Prompt, item.Response)));
            if (examples.Examples.Count != data.Train.Count)
                throw new InvalidDataException($"Only {examples.Examples.Count} of {data.Train.Count} fine-tuning examples could be built: {examples.Report.Summary(job.ExampleOptions.CutoffLength)}");
            var result = job.Train(examples, cancellationToken: cancellationToken).Training;
            steps = result.History.Count;
            finalLoss = result.Final.Sft;
            trainSeconds = train.Elapsed.TotalSeconds;
            // The network is evaluated and thrown away: merging the adapter saves its extra operations on every token.
            LoraAdapters.MergeAll(network);
        }
        else
        {
            foreach (var p in network.parameters()) p.requires_grad = false;
            network.eval();
        }

        var evaluation = Stopwatch.StartNew();
        var tests = data.AllTests();
        var outputs = GenerateSortedByLength(new TextGenerator(network, baseModel.Tokenizer, baseModel.Template), tests, cancellationToken);
        double evalSeconds = evaluation.Elapsed.TotalSeconds;
        WritePredictions(run, tests, outputs);

        int offset = 0;
        IReadOnlyList<string> Next(int count)
        {
            var slice = outputs.Skip(offset).Take(count).ToList();
            offset += count;
            return slice;
        }
        double inDomain = BenchmarkMetrics.Accuracy(data.InDomain, Next(data.InDomain.Count));
        double knowledge = BenchmarkMetrics.Accuracy(data.OodKnowledge, Next(data.OodKnowledge.Count));
        double math = BenchmarkMetrics.Accuracy(data.OodMath, Next(data.OodMath.Count));
        double reasoning = BenchmarkMetrics.Accuracy(data.OodReasoning, Next(data.OodReasoning.Count));
        var byTemplate = BenchmarkMetrics.AccuracyByTemplate(data.Paraphrased, Next(data.Paraphrased.Count));
        var (paraphraseMean, paraphraseStd) = BenchmarkMetrics.MeanAndPopulationStd(byTemplate.Values);
        return new BenchmarkRunResult(run, inDomain, knowledge, math, reasoning, (knowledge + math + reasoning) / 3,
            byTemplate, paraphraseMean, paraphraseStd, steps, finalLoss, tests.Count, trainSeconds, evalSeconds, wall.Elapsed.TotalSeconds);
    }

    /// <summary>Training settings of a run: LoRA r=8 α=16 on all block linears, cosine schedule with 10 % warm-up.</summary>
    internal TrainerOptions TrainerOptionsFor(BenchmarkRun run)
    {
        var h = run.Hyperparameters;
        if (!run.Trains) throw new ArgumentException($"Method {run.Method.Name} does not train.", nameof(run));
        // Every training method is a registered objective of the same name; each reads the grid's values it has, and
        // objectives that steer representations take the RepS α. "auto" leaves the objective's default as the first
        // step's α and calibrates from there.
        double alpha = Sweep.Reads(run.Method, SweepParameter.RepsAlpha) ? h.RepsAlpha : h.Alpha;
        bool autoAlpha = Hyperparameters.IsAuto(alpha), autoLambda = Hyperparameters.IsAuto(h.Lambda);
        var objective = run.Method.ObjectiveWith(new ObjectiveParameters
        {
            Alpha = autoAlpha ? null : alpha, Lambda = autoLambda ? null : h.Lambda, NoiseAlpha = h.NoiseAlpha, PenaltyWeight = h.L2Weight,
            AscentSteps = h.AscentSteps,
            Calibration = LfUCalibration.ForAuto(autoAlpha, autoLambda),
        })!;
        return new TrainerOptions
        {
            Objective = objective,
            FineTuning = FineTuning.Lora,
            Lora = new LoraConfig(),
            LearningRate = h.LearningRate,
            Schedule = LearningRateSchedule.Cosine,
            WarmupRatio = 0.1,
            Epochs = h.Epochs,
            MaxSteps = _options.MaxSteps,
            BatchSize = _options.BatchSize,
            Seed = run.Seed,
            Precision = _options.Precision,
        };
    }

    /// <summary>
    /// Greedy generations for every item, in item order. Prompts are generated in batches of similar length (stable
    /// order by prompt length) so that little padding is computed; the batching is fixed, so results are reproducible.
    /// </summary>
    IReadOnlyList<string> GenerateSortedByLength(TextGenerator generator, IReadOnlyList<MiniWorldItem> items, CancellationToken cancellationToken)
    {
        var order = Enumerable.Range(0, items.Count).OrderBy(i => items[i].Prompt.Length).ThenBy(i => i).ToArray();
        var settings = new GenerationSettings { MaxNewTokens = _options.MaxNewTokens, Temperature = 0, StopStrings = StopStrings };
        var sorted = generator.Generate(order.Select(i => items[i].Prompt).ToList(), settings, _options.EvalBatchSize, cancellationToken);
        var outputs = new string[items.Count];
        for (int k = 0; k < order.Length; k++) outputs[order[k]] = sorted[k];
        return outputs;
    }

    void WritePredictions(BenchmarkRun run, IReadOnlyList<MiniWorldItem> items, IReadOnlyList<string> outputs)
    {
        using var buffer = new MemoryStream();
        for (int i = 0; i < items.Count; i++)
        {
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteString("category", items[i].Category);
                json.WriteString("task", items[i].Task);
                json.WriteNumber("template", items[i].Template);
                json.WriteString("prompt", items[i].Prompt);
                json.WriteString("answer", items[i].Answer);
                json.WriteString("output", outputs[i]);
                json.WriteBoolean("correct", BenchmarkMetrics.IsCorrect(outputs[i], items[i]));
                json.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
        }
        AtomicFile.WriteAllBytes(Path.Combine(_options.OutputFolder, PredictionsFolder, PredictionsFileName(run)), buffer.ToArray());
    }

    /// <summary>e.g. <c>lfu-lora_lambda-5_seed1.jsonl</c>: only file-name-safe characters.</summary>
    internal static string PredictionsFileName(BenchmarkRun run)
    {
        string setting = run.Setting == "default" ? "" : "_" + new string(run.Setting.Select(c => char.IsAsciiLetterOrDigit(c) || c == '.' ? c : '-').ToArray());
        return $"{run.Method.Name}{setting}_seed{run.Seed}.jsonl";
    }

    void WriteOutputs(IReadOnlyList<BenchmarkRunResult> results, int planned)
    {
        string folder = _options.OutputFolder;
        AtomicFile.WriteAllText(Path.Combine(folder, CsvFile), BenchmarkReport.Csv(results));
        AtomicFile.WriteAllText(Path.Combine(folder, MarkdownFile), BenchmarkReport.Markdown(results, _options, planned));
        AtomicFile.WriteAllBytes(Path.Combine(folder, ScatterChartFile), BenchmarkCharts.TradeOff(results));
        AtomicFile.WriteAllBytes(Path.Combine(folder, BarChartFile), BenchmarkCharts.Categories(results));
    }

    /// <summary>
    /// Creates the output folder and records the shared settings; with <see cref="BenchmarkOptions.Resume"/>, checks them
    /// against the recorded ones and returns the previous results of planned runs.
    /// </summary>
    List<BenchmarkRunResult> PrepareOutputFolder(IReadOnlyList<BenchmarkRun> plan, string fingerprint)
    {
        string folder = _options.OutputFolder;
        string settingsPath = Path.Combine(folder, SettingsFile), csvPath = Path.Combine(folder, CsvFile);
        string settings = SettingsJson(fingerprint);
        var previous = new List<BenchmarkRunResult>();
        if (_options.ReportOnly && !File.Exists(csvPath))
            throw new FileNotFoundException($"Nothing to report: '{csvPath}' does not exist. Run the benchmark first (--report-only only rewrites the report of earlier runs).", csvPath);
        if ((_options.Resume || _options.ReportOnly) && File.Exists(csvPath))
        {
            string recorded = File.Exists(settingsPath) ? File.ReadAllText(settingsPath) : "";
            if (recorded != settings)
                throw new InvalidOperationException($"Cannot resume: the results in '{folder}' were produced with other settings (see {SettingsFile}: model weights, data, limits, " +
                                                    "generation length, batch sizes or template differ). Use the same options, another --output, or drop --resume to start over.");
            previous = BenchmarkReport.ParseCsv(File.ReadAllText(csvPath), csvPath, plan);
            _log.WriteLine($"Resuming: {previous.Count} of {plan.Count} runs are in {csvPath}.");
        }
        else if (!_options.Resume && Contents(folder) is { Count: > 0 } old)
        {
            // Results of another benchmark must not mix with this one's: start afresh only when asked to.
            if (!_options.Overwrite)
                throw new InvalidOperationException($"The output folder '{folder}' is not empty; resume the benchmark in it (Resume, --resume), " +
                                                    "start afresh (Overwrite, --overwrite), or give another folder.");
            foreach (string entry in old)
            {
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
            }
        }
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(settingsPath, settings);
        return previous;
    }

    /// <summary>What the output folder holds besides this run's lock.</summary>
    static List<string> Contents(string folder) => !Directory.Exists(folder) ? []
        : Directory.EnumerateFileSystemEntries(folder).Where(e => !FolderLock.IsLockFile(Path.GetFileName(e))).ToList();

    /// <summary>Everything besides the per-run hyper-parameters (which results.csv records) that a result depends on.</summary>
    string SettingsJson(string fingerprint)
    {
        var o = _options;
        var settings = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["model_sha256"] = fingerprint,
            // The content, not the path: a results folder stays resumable from another clone or machine.
            ["data_sha256"] = DataFingerprint(o.DataFolder),
            ["template"] = o.Template,
            ["device"] = o.Device,
            ["batch_size"] = o.BatchSize,
            ["max_steps"] = o.MaxSteps,
            ["test_limit"] = o.TestLimit,
            ["ood_limit"] = o.OodLimit,
            ["paraphrase_limit"] = o.ParaphraseLimit,
            ["max_new_tokens"] = o.MaxNewTokens,
            ["eval_batch_size"] = o.EvalBatchSize,
            ["compute_dtype"] = o.ComputeDType?.ToString() ?? "weights",
            ["attention"] = o.Attention.ToString(),
        };
        return JsonSerializer.Serialize(settings, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>SHA-256 over the data files a run reads (training, in-domain, paraphrased and out-of-domain tests).</summary>
    static string DataFingerprint(string folder)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (string file in new[] { MiniWorldFiles.FineTuneTrain, MiniWorldFiles.FineTuneTest, MiniWorldFiles.Robustness,
                     MiniWorldFiles.OodKnowledge, MiniWorldFiles.OodMath, MiniWorldFiles.OodReasoning })
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file + "\n"));
            hash.AppendData(File.ReadAllBytes(Path.Combine(folder, file)));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    static string ProgressLine(int done, IReadOnlyList<BenchmarkRun> plan, IReadOnlyList<BenchmarkRunResult> results)
    {
        var r = results[^1];
        // Remaining time from the mean wall time of finished runs of the same kind (trained or not).
        double Mean(bool trains) => results.Where(x => x.Run.Trains == trains).Select(x => x.WallSeconds).DefaultIfEmpty(results.Average(x => x.WallSeconds)).Average();
        double eta = plan.Skip(done).Sum(run => Mean(run.Trains));
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"[{done}/{plan.Count}] {r.Run.Describe()}: in-domain {r.InDomain:F3} | OOD {r.OodAverage:F3} ");
        line.Append(CultureInfo.InvariantCulture, $"(knowledge {r.OodKnowledge:F3}, math {r.OodMath:F3}, reasoning {r.OodReasoning:F3}) | paraphrase {r.ParaphraseMean:F3} ± {r.ParaphraseStd:F3} | ");
        if (r.Run.Trains) line.Append(CultureInfo.InvariantCulture, $"train {r.TrainSeconds:F1} s ({r.Steps} steps, loss {r.FinalLoss:F3}), ");
        line.Append(CultureInfo.InvariantCulture, $"eval {r.EvalSeconds:F1} s ({r.Generations} prompts, {r.Generations / Math.Max(r.EvalSeconds, 1e-9):F1}/s), wall {r.WallSeconds:F1} s");
        if (done < plan.Count) line.Append(" | ETA ").Append(Duration(eta));
        return line.ToString();
    }

    internal static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
    }
}
