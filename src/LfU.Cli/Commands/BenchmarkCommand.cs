using System.CommandLine;
using LfU.MLNet.Benchmark;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu benchmark</c>: fine-tunes the mini world's base model with each method and seed, and measures what it learnt
/// and what it forgot (<see cref="ForgettingBenchmark"/>). Ctrl+C stops after writing every completed run.
/// </summary>
internal static class BenchmarkCommand
{
    internal static Command Create()
    {
        var d = Hyperparameters.Default;
        var model = new Option<string>("--model") { Description = "The pretrained base model folder (config.json, model.safetensors, tokenizer.json).", DefaultValueFactory = _ => "data/models/mini-world" };
        var data = new Option<string>("--data") { Description = "The mini-world data folder (lfu make-data).", DefaultValueFactory = _ => "data/mini-world" };
        var output = new Option<string>("--output") { Description = "Folder for results.csv, results.md, the charts and the predictions.", DefaultValueFactory = _ => "results/benchmark" };
        var methods = new Option<string>("--methods") { Description = $"Comma-separated: {string.Join(", ", BenchmarkMethods.Known.Select(m => m.Name))}.", DefaultValueFactory = _ => string.Join(",", BenchmarkMethods.All.Select(m => m.Name)) };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per trained method (1..N); the base model runs once.", DefaultValueFactory = _ => 2 };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => d.Epochs };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Optimizer steps per run, overriding --epochs (smoke tests)." };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (cosine, 10 % warm-up).", DefaultValueFactory = _ => d.LearningRate };
        var batch = new Option<int>("--batch") { Description = "Training batch size.", DefaultValueFactory = _ => 16 };
        var lambda = new Option<NumberOrAuto?>("--lambda") { Description = $"LfU's consistency weight λ (LoRA and RepS; default {d.Lambda}), or auto (calibrated during training)." };
        var alpha = new Option<NumberOrAuto?>("--alpha") { Description = $"LfU-LoRA's ascent step α on the adapter weights (default {d.Alpha}), or auto (calibrated during training)." };
        var repsAlpha = new Option<NumberOrAuto?>("--reps-alpha") { Description = $"LfU-RepS's step α in the additive form h + α·d/‖d‖ (one norm over all layers; default {d.RepsAlpha}; 0.1 changes nothing measurable on the mini world), or auto." };
        var noiseAlpha = new Option<double>("--noise-alpha") { Description = "NEFTune's noise scale α.", DefaultValueFactory = _ => d.NoiseAlpha };
        var l2Weight = new Option<double>("--l2-weight") { Description = "The L2 baseline's penalty weight.", DefaultValueFactory = _ => d.L2Weight };
        var ascentSteps = new Option<int>("--ascent-steps") { Description = "lfu-lora-multistep's number k of ascent steps of α/k.", DefaultValueFactory = _ => d.AscentSteps };
        var sweep = new Option<string[]>("--sweep") { Description = "name=v1,v2,... (lambda, alpha, reps-alpha, epochs, lr, noise-alpha, l2-weight, ascent-steps); repeatable: each sweep runs on its own, not as a grid.", AllowMultipleArgumentsPerToken = false };
        var grid = new Option<string[]>("--grid") { Description = "name=v1,v2,... repeatable: the parameters given with --grid are varied together (every combination a method uses), e.g. --grid lambda=1,5,20 --grid alpha=0.05,0.1,0.3.", AllowMultipleArgumentsPerToken = false };
        var precision = CliOptions.Precision("Training compute dtype: fp32 (exact), bf16 (mixed precision; about 2-3x faster on CPUs with AVX512-BF16, and the RepS steering then rounds), or auto.", "fp32");
        var attention = CliOptions.Attention("eager");
        var threads = new Option<int?>("--threads") { Description = "CPU threads for TorchSharp (default: all cores)." };
        var testLimit = new Option<int>("--test-limit") { Description = "In-domain test items (0 = all 200).", DefaultValueFactory = _ => 100 };
        var oodLimit = new Option<int>("--ood-limit") { Description = "Items per out-of-domain category (0 = all).", DefaultValueFactory = _ => 100 };
        var paraphraseLimit = new Option<int?>("--paraphrase-limit") { Description = "Questions per paraphrase template (0 = all; default: --test-limit)." };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Generation length limit.", DefaultValueFactory = _ => 48 };
        var evalBatch = new Option<int>("--eval-batch") { Description = "Prompts per generation batch.", DefaultValueFactory = _ => 32 };
        var template = new Option<string>("--template") { Description = "Prompt template the base model was pretrained with.", DefaultValueFactory = _ => "alpaca" };
        var device = new Option<string>("--device") { Description = "cpu or cuda (deterministic on cpu).", DefaultValueFactory = _ => "cpu" }.OneOf("cpu", "cuda");
        var resume = new Option<bool>("--resume") { Description = "Keep the runs already in --output's results.csv (same settings required) and run only the missing ones." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete what --output holds (an earlier benchmark's results) before the first run and start afresh; --resume continues them instead." };
        var reportOnly = new Option<bool>("--report-only") { Description = "Run nothing: rewrite results.md, results.csv and the charts from the runs already in --output (same settings), e.g. after merging the results.csv rows of benchmarks run in parallel." };
        var quick = new Option<bool>("--quick") { Description = "A short end-to-end check: base,sft,lfu-lora, 1 seed, 3 epochs, 20 test items, 20 per OOD category, 5 per template, 32 new tokens (explicit options win)." };

        foreach (var count in new[] { seeds, epochs, batch, maxNewTokens, evalBatch }) CliOptions.AtLeast(count, 1);
        CliOptions.AtLeast(maxSteps, 1);
        CliOptions.AtLeast(threads, 1);
        CliOptions.AtLeast(testLimit, 0);
        CliOptions.AtLeast(oodLimit, 0);
        CliOptions.AtLeast(paraphraseLimit, 0);
        CliOptions.AtLeast(ascentSteps, 1);
        CliOptions.InRange(lr, double.Epsilon, double.MaxValue, "positive");
        foreach (var weight in new[] { noiseAlpha, l2Weight }) CliOptions.InRange(weight, 0, double.MaxValue, "0 or more");
        foreach (var weight in new[] { lambda, alpha, repsAlpha }) CliOptions.InRangeOrAuto(weight, 0, double.MaxValue, "0 or more");
        var command = new Command("benchmark", "Measure forgetting: fine-tune the mini-world base model with each method and seed; report in-domain, out-of-domain and paraphrase accuracy.")
        {
            model, data, output, methods, seeds, epochs, maxSteps, lr, batch, lambda, alpha, repsAlpha, noiseAlpha, l2Weight, ascentSteps, sweep, grid,
            precision, attention, threads, testLimit, oodLimit, paraphraseLimit, maxNewTokens, evalBatch, template, device, resume, overwrite, reportOnly, quick,
        };
        command.SetAction(parse =>
        {
            bool isQuick = parse.GetValue(quick);
            if (parse.GetValue(overwrite) && (parse.GetValue(resume) || parse.GetValue(reportOnly)))
                throw new CliUsageException($"Give --overwrite (start afresh) or {(parse.GetValue(resume) ? "--resume (continue the runs in --output)" : "--report-only (rewrite the report of the runs in --output)")}, not both.");
            // Refused before any work; the folder is emptied only once the model and data have loaded (ForgettingBenchmark).
            // --resume and --report-only work on the runs already there: not an overwrite.
            string outputPath = parse.GetValue(output)!;
            if (!parse.GetValue(resume) && !parse.GetValue(reportOnly) && !parse.GetValue(overwrite)
                && Directory.Exists(outputPath) && Directory.EnumerateFileSystemEntries(outputPath).Any(e => !LfU.MLNet.IO.FolderLock.IsLockFile(Path.GetFileName(e))))
                throw new CliUsageException($"--output '{Path.GetFullPath(outputPath)}' is not empty; add --resume to continue the benchmark in it, --overwrite to start afresh, or give another folder.");
            if (parse.GetValue(threads) is int n) TorchSharp.torch.set_num_threads(n);
            // --quick changes the defaults only: an option given on the command line keeps its value.
            T Value<T>(Option<T> option, T quickValue) => isQuick && parse.GetResult(option) is null or { Implicit: true } ? quickValue : parse.GetValue(option)!;
            static int? Limit(int value) => value == 0 ? null : value; // 0 = all items; negatives are parse errors
            double Setting(Option<NumberOrAuto?> option, double fallback) => parse.GetValue(option) is { } given ? given.Value ?? Hyperparameters.Auto : fallback;
            int tests = Value(testLimit, 20);
            int? paraphrases = parse.GetValue(paraphraseLimit) ?? (isQuick ? 5 : tests);
            var options = new BenchmarkOptions
            {
                ModelFolder = parse.GetValue(model)!,
                DataFolder = parse.GetValue(data)!,
                OutputFolder = parse.GetValue(output)!,
                Methods = BenchmarkMethods.ParseList(Value(methods, "base,sft,lfu-lora")),
                Seeds = Value(seeds, 1),
                Defaults = new Hyperparameters(Value(epochs, 3), parse.GetValue(lr), Setting(lambda, d.Lambda), Setting(alpha, d.Alpha),
                    Setting(repsAlpha, d.RepsAlpha), parse.GetValue(noiseAlpha), parse.GetValue(l2Weight), parse.GetValue(ascentSteps)),
                Sweeps = (parse.GetValue(sweep) ?? []).Select(Sweep.Parse).ToList(),
                Grid = (parse.GetValue(grid) ?? []).Select(Sweep.Parse).ToList(),
                Precision = parse.GetValue(precision),
                Attention = CliOptions.ParseAttention(parse.GetValue(attention)!),
                MaxSteps = parse.GetValue(maxSteps),
                BatchSize = parse.GetValue(batch),
                TestLimit = Limit(tests),
                OodLimit = Limit(Value(oodLimit, 20)),
                ParaphraseLimit = Limit(paraphrases.Value),
                MaxNewTokens = Value(maxNewTokens, 32),
                EvalBatchSize = parse.GetValue(evalBatch),
                Template = parse.GetValue(template)!,
                Device = parse.GetValue(device)!,
                Resume = parse.GetValue(resume),
                Overwrite = parse.GetValue(overwrite),
                ReportOnly = parse.GetValue(reportOnly),
                // The command that produces these results: --report-only only rewrites them, and --overwrite would delete them.
                CommandLine = "lfu " + string.Join(" ", parse.Tokens.Where(t => t.Value is not ("--report-only" or "--overwrite")).Select(t => Quote(t.Value))),
            };
            return Run(options);
        });
        return command;
    }

    static int Run(BenchmarkOptions options)
    {
        var benchmark = new ForgettingBenchmark(options, Console.Out);
        // The first Ctrl+C or SIGTERM stops after the current training step or generation batch; completed runs are kept.
        using var stop = new StopSignals();
        try
        {
            benchmark.Run(stop.Token);
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"lfu: benchmark cancelled; the results of the completed runs are in {options.OutputFolder} (add --resume to the same command to continue).");
            throw;
        }
    }

    static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=,:+@".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
