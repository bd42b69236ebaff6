using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet;
using LfU.MLNet.Adapters;
using LfU.MLNet.Evaluation;
using LfU.MLNet.IO;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu train --model DIR --data TRAIN.jsonl --output OUT</c>: fine-tunes with LfU (or a baseline) and writes
/// OUT/adapter (PEFT) or OUT/model (full fine-tuning), OUT/training_log.csv, OUT/loss.png and OUT/summary.json.
/// Every option of <see cref="LfUOptions"/> has a flag; defaults are the LfU paper's.
/// </summary>
internal static class TrainCommand
{
    internal const string LogFile = "training_log.csv", ChartFile = "loss.png", SummaryFile = "summary.json";

    internal static Command Create()
    {
        var defaults = new LfUOptions();
        var model = CliOptions.Model();
        var data = new Option<FileInfo>("--data") { Description = "Training data: .jsonl (prompt/response, instruction/input/output, or messages) or .csv with a prompt,response header.", Required = true }.AcceptExistingOnly();
        var validation = new Option<FileInfo>("--validation") { Description = "Validation data (same formats); its loss is logged and plotted." }.AcceptExistingOnly();
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for adapter/ (or model/), training_log.csv, loss.png and summary.json.", Required = true }.NotAFile();

        // "lfu" is lfu-lora or lfu-reps by --perturbation, as before objectives had one name each.
        var objective = Choice("--objective", "Objective: " + string.Join("; ", ObjectiveRegistry.All.Select(e => $"{e.Name} ({e.Summary})")) + "; lfu = lfu-<perturbation>.",
            "lfu", [.. ObjectiveRegistry.Names, "lfu"]);
        var perturbation = Choice("--perturbation", "With --objective lfu: lora (weights) or reps (representation steering).", "lora", "lora", "reps");
        var alpha = new Option<NumberOrAuto?>("--alpha") { Description = $"LfU's ascent step size α (default {LfUObjective.DefaultAlpha} for lfu-lora, {LfURepsObjective.DefaultStep} for lfu-reps), or auto: kept at a fixed relative change of the hidden states ({LfUCalibration.DefaultRelativeChange})." };
        var lambda = new Option<NumberOrAuto?>("--lambda") { Description = $"LfU's consistency weight λ (default {LfULoraObjective.DefaultLambda} for lfu-lora, {LfURepsObjective.DefaultLambda} for lfu-reps), or auto: λ·consistency = {LfUCalibration.DefaultConsistencyWeight} × (relative change of the hidden states)², scale-free." };
        var ascentSteps = new Option<int?>("--ascent-steps") { Description = $"With --objective lfu-lora-multistep: the number k of ascent steps of α / k (default {LfULoraMultiStepObjective.DefaultAscentSteps})." };
        var ascentBatch = Choice("--ascent-batch", "Batch of LfU's ascent gradient: same (the training batch) or independent (another batch, as the official code).", "same", "same", "independent");
        var consistency = Choice("--consistency", "LfU's consistency measure: mse or cosine of hidden states, or logit-kl.", "mse", "mse", "cosine", "logit-kl");
        var hiddenFrom = new Option<int>("--hidden-from") { Description = "First hidden state compared by LfU (0 = embeddings).", DefaultValueFactory = _ => 0 };
        var hiddenTo = new Option<int?>("--hidden-to") { Description = "Last hidden state compared by LfU, inclusive (default: the last)." };
        var noiseAlpha = new Option<double>("--noise-alpha") { Description = "NEFTune's noise scale α.", DefaultValueFactory = _ => NEFTuneObjective.DefaultNoiseAlpha };
        var penaltyWeight = new Option<double>("--penalty-weight") { Description = "Weight of the l1/l2 penalty.", DefaultValueFactory = _ => L2Objective.DefaultWeight };

        var full = new Option<bool>("--full") { Description = "Full fine-tuning of every weight instead of a LoRA adapter; writes a merged model folder." };
        var loraR = new Option<int>("--lora-r") { Description = "LoRA rank.", DefaultValueFactory = _ => defaults.Training.Lora.Rank };
        var loraAlpha = new Option<double>("--lora-alpha") { Description = "LoRA alpha (scale alpha / r).", DefaultValueFactory = _ => defaults.Training.Lora.Alpha };
        var loraDropout = new Option<double>("--lora-dropout") { Description = "Dropout on LoRA's input.", DefaultValueFactory = _ => defaults.Training.Lora.Dropout };
        var rslora = new Option<bool>("--rslora") { Description = "Rank-stabilised LoRA: scale alpha / √r." };

        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => defaults.Training.LearningRate };
        var schedule = Choice("--schedule", "Learning-rate schedule: cosine, linear or constant (after warm-up).", "cosine", "cosine", "linear", "constant");
        var warmup = new Option<double>("--warmup") { Description = "Fraction of the steps spent warming up.", DefaultValueFactory = _ => defaults.Training.WarmupRatio };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the data.", DefaultValueFactory = _ => defaults.Training.Epochs };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Train this many optimizer steps instead of --epochs." };
        var batch = new Option<int>("--batch") { Description = "Examples per micro-batch.", DefaultValueFactory = _ => defaults.Training.BatchSize };
        var accumulation = new Option<int>("--accum") { Description = "Micro-batches per optimizer step (gradient accumulation).", DefaultValueFactory = _ => defaults.Training.GradientAccumulationSteps };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW's decoupled weight decay.", DefaultValueFactory = _ => defaults.Training.WeightDecay };
        var maxGradNorm = new Option<double>("--max-grad-norm") { Description = "Clip the gradient's global norm to this; 0 disables clipping.", DefaultValueFactory = _ => defaults.Training.MaxGradNorm ?? 0 };
        var cutoff = new Option<int>("--cutoff") { Description = "Longest example in tokens; longer ones are cut (prompt first) and counted.", DefaultValueFactory = _ => defaults.CutoffLength };
        var trainOnPrompt = new Option<bool>("--train-on-prompt") { Description = "Also learn the prompt tokens." };
        var template = CliOptions.Template();
        var seed = new Option<long>("--seed") { Description = "Seed of the adapter initialisation, data order and noise.", DefaultValueFactory = _ => defaults.Training.Seed };
        var dtype = CliOptions.DType();
        var precision = CliOptions.Precision("Compute dtype over the weights: fp32, bf16 (mixed precision, 2-3x faster on CPUs with AVX512-BF16), auto (bf16 where native), or weights (the weights' own dtype).", "weights", "weights");
        var attention = CliOptions.Attention("sdpa");
        var device = CliOptions.Device();
        var evalEvery = new Option<int?>("--eval-every") { Description = "Compute the validation loss every this many steps (default: at the end only)." };
        var checkpointDir = new Option<DirectoryInfo?>("--checkpoint-dir") { Description = "Folder for resumable checkpoints (written at the end, every --checkpoint-every steps, and on Ctrl+C)." };
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Write a checkpoint every this many steps (needs --checkpoint-dir)." };
        var resume = new Option<DirectoryInfo>("--resume") { Description = "Resume from this checkpoint, or the newest in this folder; give the same data and options." }.AcceptExistingOnly();
        var overwrite = OutputFolder.OverwriteOption("Replace what --output holds; the new run is swapped in only once it finished, so a failed run leaves the old one whole.");

        CliOptions.InRangeOrAuto(alpha, 0, double.MaxValue, "0 or more (paper: 0.1)");
        CliOptions.InRangeOrAuto(lambda, 0, double.MaxValue, "0 or more (paper: 5 for lora, 0.1 for reps; ours: 5 for both)");
        CliOptions.AtLeast(hiddenFrom, 0);
        CliOptions.AtLeast(hiddenTo, 0);
        CliOptions.InRange(noiseAlpha, 0, double.MaxValue, "0 or more");
        CliOptions.InRange(penaltyWeight, 0, double.MaxValue, "0 or more");
        CliOptions.AtLeast(loraR, 1);
        CliOptions.InRange(loraAlpha, double.Epsilon, double.MaxValue, "positive");
        CliOptions.InRange(loraDropout, 0, Math.BitDecrement(1.0), "in [0, 1)");
        CliOptions.InRange(lr, double.Epsilon, double.MaxValue, "positive (paper: 1e-4)");
        CliOptions.InRange(warmup, 0, 1, "a fraction in [0, 1]");
        CliOptions.AtLeast(epochs, 1);
        CliOptions.AtLeast(maxSteps, 1);
        CliOptions.AtLeast(batch, 1);
        CliOptions.AtLeast(accumulation, 1);
        CliOptions.InRange(weightDecay, 0, double.MaxValue, "0 or more");
        CliOptions.InRange(maxGradNorm, 0, double.MaxValue, "0 (no clipping) or more");
        CliOptions.AtLeast(cutoff, 2);
        CliOptions.AtLeast(evalEvery, 1);
        CliOptions.AtLeast(checkpointEvery, 1);
        CliOptions.AnyWhole(seed);
        CliOptions.AtLeast(ascentSteps, 1);

        var command = new Command("train", "Fine-tune a model on prompt/response data with LfU (or SFT, NEFTune, L1/L2) and write the adapter, a log, a loss chart and a summary.")
        {
            model, data, validation, output, objective, perturbation, alpha, lambda, ascentBatch, ascentSteps, consistency, hiddenFrom, hiddenTo,
            noiseAlpha, penaltyWeight, full, loraR, loraAlpha, loraDropout, rslora, lr, schedule, warmup, epochs, maxSteps, batch,
            accumulation, weightDecay, maxGradNorm, cutoff, trainOnPrompt, template, seed, dtype, precision, attention, device, evalEvery,
            checkpointDir, checkpointEvery, resume, overwrite,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(checkpointEvery) is not null && parse.GetValue(checkpointDir) is null)
                throw new CliUsageException("--checkpoint-every needs --checkpoint-dir (where the checkpoints go).");
            if (parse.GetValue(evalEvery) is not null && parse.GetValue(validation) is null)
                throw new CliUsageException("--eval-every needs --validation (the data to evaluate on).");
            if (parse.GetValue(objective) is not "lfu" && Given(parse, perturbation))
                throw new CliUsageException($"--perturbation chooses lfu-lora or lfu-reps for --objective lfu; with --objective {parse.GetValue(objective)} leave it out.");
            string objectiveName = parse.GetValue(objective) is "lfu" ? "lfu-" + parse.GetValue(perturbation) : parse.GetValue(objective)!;
            RefuseUnread(parse, objectiveName, (alpha, ObjectiveSetting.Alpha), (lambda, ObjectiveSetting.Lambda), (ascentBatch, ObjectiveSetting.AscentBatch),
                (ascentSteps, ObjectiveSetting.AscentSteps), (consistency, ObjectiveSetting.Consistency), (hiddenFrom, ObjectiveSetting.HiddenStateFrom),
                (hiddenTo, ObjectiveSetting.HiddenStateTo), (noiseAlpha, ObjectiveSetting.NoiseAlpha), (penaltyWeight, ObjectiveSetting.PenaltyWeight));
            var options = new LfUOptions
            {
                ModelFolder = CliOptions.ModelFolder(parse.GetValue(model)!.FullName),
                Template = parse.GetValue(template),
                Training = new TrainerOptions
                {
                    Objective = ObjectiveRegistry.Create(objectiveName,
                        new ObjectiveParameters
                        {
                            Alpha = parse.GetValue(alpha)?.Value,
                            Lambda = parse.GetValue(lambda)?.Value,
                            Calibration = LfUCalibration.ForAuto(alpha: parse.GetValue(alpha)?.Auto == true, lambda: parse.GetValue(lambda)?.Auto == true),
                            AscentBatch = parse.GetValue(ascentBatch) == "independent" ? AscentBatchMode.IndependentBatch : AscentBatchMode.SameBatch,
                            AscentSteps = parse.GetValue(ascentSteps),
                            Consistency = parse.GetValue(consistency) switch { "cosine" => ConsistencyMeasure.Cosine, "logit-kl" => ConsistencyMeasure.LogitKl, _ => ConsistencyMeasure.Mse },
                            HiddenStateFrom = parse.GetValue(hiddenFrom),
                            HiddenStateTo = parse.GetValue(hiddenTo),
                            NoiseAlpha = parse.GetValue(noiseAlpha),
                            PenaltyWeight = parse.GetValue(penaltyWeight),
                        }),
                    FineTuning = parse.GetValue(full) ? FineTuning.Full : FineTuning.Lora,
                    Lora = new LoraConfig { Rank = parse.GetValue(loraR), Alpha = parse.GetValue(loraAlpha), Dropout = parse.GetValue(loraDropout), UseRsLora = parse.GetValue(rslora) },
                    LearningRate = parse.GetValue(lr),
                    Schedule = parse.GetValue(schedule) switch { "linear" => LearningRateSchedule.Linear, "constant" => LearningRateSchedule.Constant, _ => LearningRateSchedule.Cosine },
                    WarmupRatio = parse.GetValue(warmup),
                    Epochs = parse.GetValue(epochs),
                    MaxSteps = parse.GetValue(maxSteps),
                    BatchSize = parse.GetValue(batch),
                    GradientAccumulationSteps = parse.GetValue(accumulation),
                    WeightDecay = parse.GetValue(weightDecay),
                    MaxGradNorm = parse.GetValue(maxGradNorm) is > 0 and var norm ? norm : null,
                    Seed = parse.GetValue(seed),
                    CheckpointFolder = parse.GetValue(checkpointDir)?.FullName,
                    CheckpointEverySteps = parse.GetValue(checkpointEvery),
                    EvaluateEverySteps = parse.GetValue(evalEvery),
                    Precision = parse.GetValue(precision) is "weights" ? null : parse.GetValue(precision),
                },
                CutoffLength = parse.GetValue(cutoff),
                TrainOnPrompt = parse.GetValue(trainOnPrompt),
                Device = parse.GetValue(device) == "cuda" ? ComputeDevice.Cuda : ComputeDevice.Cpu,
                DType = parse.GetValue(dtype),
                Attention = CliOptions.ParseAttention(parse.GetValue(attention)!),
                ResumeFrom = parse.GetValue(resume)?.FullName,
            };
            // A checkpoint folder (a resume) or data file inside --output belongs to this run, not to the output it replaces.
            using var outputFolder = OutputFolder.Open(parse.GetValue(output)!.FullName, parse.GetValue(overwrite),
                keep: [options.Training.CheckpointFolder, options.ResumeFrom, parse.GetValue(data)!.FullName, parse.GetValue(validation)?.FullName]);
            return Run(options, parse.GetValue(data)!.FullName, parse.GetValue(validation)?.FullName, outputFolder, parse.GetValue(device)!);
        });
        return command;
    }

    static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>Refuses an objective setting given on the command line that the chosen objective would ignore.</summary>
    static void RefuseUnread(ParseResult parse, string objectiveName, params (Option Option, ObjectiveSetting Setting)[] settings)
    {
        var entry = ObjectiveRegistry.Find(objectiveName);
        foreach (var (option, setting) in settings)
            if (Given(parse, option) && !entry.Reads(setting))
                throw new CliUsageException($"{option.Name} does nothing with --objective {entry.Name}; it is read by {string.Join(", ", ObjectiveRegistry.Reading(setting))}. Leave it out or choose one of those.");
    }

    static Option<string> Choice(string name, string description, string defaultValue, params string[] values) =>
        new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue }.OneOf(values);

    static int Run(LfUOptions options, string dataPath, string? validationPath, OutputFolder output, string deviceName)
    {
        // Files are written to output.Path (a staging sibling when replacing an old run) and named by their final place.
        string outputFolder = output.Path;
        // Read and check every row before loading weights: a bad line should fail in a second, not after a minute of loading.
        var trainRecords = DataFiles.Read(dataPath);
        var validationRecords = validationPath is null ? null : DataFiles.Read(validationPath);
        var trainConversations = trainRecords.Select(r => r.Conversation()).ToList();
        var validationConversations = validationRecords?.Select(r => r.Conversation()).ToList();
        // One writer per output folder, taken now: a second run fails at once, not after training.
        using var outputLock = FolderLock.Acquire(output.Target, "output");
        if (outputLock.TakeOverWarning is { } takeOver) Console.Error.WriteLine($"lfu: warning: {takeOver}");
        var (device, dtype) = CliOptions.ResolveDevice(deviceName, options.DType);
        var training = options.Training;
        var baseModel = BaseModel.Load(options.ModelFolder, options.Template, dtype, device);
        baseModel.Network.AttentionImplementation = options.Attention;
        using var model = LfUModel.FromBase(baseModel, options.ModelFolder, training);
        var job = new FineTuningJob(baseModel, training, options.Examples)
        {
            Warning = warning => Console.Error.WriteLine($"lfu: warning: {warning}"),
        };

        var template = model.Template;
        var train = job.BuildExamples(trainConversations);
        var trainReport = train.Report;
        if (train.Examples.Count == 0)
            throw new InvalidDataException($"{Path.GetFileName(dataPath)}: none of the {trainReport.Total} rows has anything to learn ({DescribeSkipped(trainReport, trainRecords, 3)}).");
        var validation = validationConversations is null ? null : job.BuildExamples(validationConversations);
        var validationReport = validation?.Report;
        if (validation is { Examples.Count: 0 })
            throw new InvalidDataException($"{Path.GetFileName(validationPath)}: none of the {validationReport!.Total} rows can be evaluated ({DescribeSkipped(validationReport, validationRecords!, 3)}).");

        Console.WriteLine($"Training data: {trainReport.Summary(options.CutoffLength)}.");
        foreach (string line in SkippedLines(trainReport, trainRecords)) Console.WriteLine("  " + line);
        if (validationReport is not null) Console.WriteLine($"Validation data: {validationReport.Summary(options.CutoffLength)}.");
        Console.WriteLine($"Training {(training.FineTuning == FineTuning.Full ? "all weights" : $"a LoRA adapter (r={training.Lora.Rank}, alpha={training.Lora.Alpha})")} " +
                          $"with {training.Objective.Describe()} on {deviceName} ({PretrainedModel.DTypeName(dtype)}), template {template.Name}.");

        TrainingResult result;
        var clock = Stopwatch.StartNew();
        using (var stop = new StopSignals())
        using (var progress = ConsoleProgress.OnStandardOutput())
        {
            try
            {
                result = job.Train(train, validation, progress, options.ResumeFrom, stop.Token).Training;
            }
            catch (TrainingDivergedException diverged)
            {
                // The steps up to the failure are what the user needs to choose a lower learning rate.
                progress.Complete();
                WriteLog(Path.Combine(outputFolder, LogFile), new TrainingResult(diverged.History, diverged.Validations, diverged.LastCheckpoint, null));
                throw;
            }
            catch (OperationCanceledException)
            {
                progress.Complete();
                if (training.CheckpointFolder is not null)
                    Console.Error.WriteLine($"lfu: training stopped; a checkpoint is in {training.CheckpointFolder}. Continue with the same command and --resume {training.CheckpointFolder}.");
                throw;
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;

        string weightsFolder = training.FineTuning == FineTuning.Full ? "model" : "adapter";
        string weights = Path.Combine(output.Target, weightsFolder);
        if (training.FineTuning == FineTuning.Full) model.SaveMerged(Path.Combine(outputFolder, weightsFolder));
        else model.SaveAdapter(Path.Combine(outputFolder, weightsFolder));
        WriteLog(Path.Combine(outputFolder, LogFile), result);
        Charts.SaveLossCurves(result, Path.Combine(outputFolder, ChartFile), $"{training.Objective.Describe()} on {Path.GetFileName(dataPath)}");
        var summary = Summary(options, dataPath, validationPath, weights, result, seconds, trainReport, trainRecords, validationReport);
        AtomicFile.WriteAllText(Path.Combine(outputFolder, SummaryFile), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        output.Commit();

        var final = result.Final;
        double tokensPerSecond = result.History.Sum(m => m.Tokens) / Math.Max(result.History.Sum(m => m.Seconds), 1e-9);
        Console.WriteLine();
        Console.WriteLine(Invariant($"Trained {final.Step} steps ({final.Epoch:0.##} epochs){(options.ResumeFrom is null ? "" : ", resumed from a checkpoint,")} in {ConsoleProgress.FormatDuration(clock.Elapsed)}, {tokensPerSecond:F0} tokens/s."));
        Console.WriteLine(Invariant($"Final loss {final.Total:F4} (SFT {final.Sft:F4}") +
                          (final.Consistency is double c ? Invariant($", consistency {c:G4}") : "") +
                          (final.Penalty is double p2 ? Invariant($", penalty {p2:G4}") : "") + ")" +
                          (training.Objective is LfUObjective { Calibration: not null } ? Invariant($"; calibrated α {final.Alpha:G3}, λ {final.Lambda:G3}") : "") +
                          (result.Validations.Count > 0 ? Invariant($"; validation loss {result.Validations[^1].Loss:F4}") : "") + ".");
        Console.WriteLine($"Examples: {trainReport.Summary(options.CutoffLength)}.");
        Console.WriteLine($"Wrote {weights}{Path.DirectorySeparatorChar}, {LogFile}, {ChartFile} and {SummaryFile} in {output.Target}.");
        return 0;
    }

    static IEnumerable<string> SkippedLines(ExampleReport report, List<DataRecord> records, int limit = 5)
    {
        foreach (var s in report.Skipped.Take(limit)) yield return $"skipped {records[s.Index].Where}: {s.Reason}";
        if (report.Skipped.Count > limit) yield return $"... and {report.Skipped.Count - limit} more (see {SummaryFile})";
    }

    static string DescribeSkipped(ExampleReport report, List<DataRecord> records, int limit) =>
        string.Join("; ", report.Skipped.Take(limit).Select(s => $"line {records[s.Index].Line}: {s.Reason}"));

    /// <summary>One CSV row per step; the validation loss sits on the steps where it was computed.</summary>
    internal static void WriteLog(string path, TrainingResult result)
    {
        var validation = result.Validations.ToDictionary(v => v.Step, v => v.Loss);
        var csv = new StringBuilder("step,epoch,total_loss,sft_loss,consistency_loss,penalty,learning_rate,grad_norm,tokens,seconds,validation_loss,alpha,lambda,relative_change,gradient_ratio\n");
        foreach (var m in result.History)
        {
            csv.AppendLine(Invariant($"{m.Step},{m.Epoch:0.####},{m.Total:R},{m.Sft:R},{m.Consistency:R},{m.Penalty:R},{m.LearningRate:R},{m.GradNorm:R},{m.Tokens},{m.Seconds:0.####},") +
                           (validation.TryGetValue(m.Step, out double v) ? v.ToString("R", CultureInfo.InvariantCulture) : "") +
                           Invariant($",{m.Alpha:R},{m.Lambda:R},{m.RelativeChange:R},{m.GradientRatio:R}"));
        }
        AtomicFile.WriteAllText(path, csv.ToString());
    }

    static JsonObject Summary(LfUOptions options, string dataPath, string? validationPath, string weights, TrainingResult result, double seconds,
        ExampleReport report, List<DataRecord> records, ExampleReport? validationReport)
    {
        var final = result.Final;
        var t = options.Training;
        var o = t.Objective;
        return new JsonObject
        {
            ["model"] = options.ModelFolder,
            ["data"] = Path.GetFullPath(dataPath),
            ["validation_data"] = validationPath is null ? null : Path.GetFullPath(validationPath),
            ["output"] = weights,
            ["fine_tuning"] = t.FineTuning == FineTuning.Full ? "full" : "lora",
            // The objective's name and its own settings, as checkpoints record them.
            ["objective"] = JsonSerializer.SerializeToNode(o, TrainingCheckpoint.Json),
            ["lora"] = t.FineTuning == FineTuning.Full ? null : new JsonObject
            {
                ["r"] = t.Lora.Rank, ["alpha"] = t.Lora.Alpha, ["dropout"] = t.Lora.Dropout, ["rslora"] = t.Lora.UseRsLora,
            },
            ["learning_rate"] = t.LearningRate, ["schedule"] = t.Schedule.ToString(), ["warmup_ratio"] = t.WarmupRatio,
            ["epochs"] = t.Epochs, ["max_steps"] = t.MaxSteps, ["batch_size"] = t.BatchSize,
            ["gradient_accumulation_steps"] = t.GradientAccumulationSteps, ["weight_decay"] = t.WeightDecay,
            ["max_grad_norm"] = t.MaxGradNorm, ["cutoff"] = options.CutoffLength, ["train_on_prompt"] = options.TrainOnPrompt,
            ["seed"] = t.Seed,
            ["steps"] = final.Step,
            ["epochs_done"] = final.Epoch,
            ["final_loss"] = final.Total,
            ["final_sft_loss"] = final.Sft,
            ["final_consistency_loss"] = final.Consistency,
            ["final_penalty"] = final.Penalty,
            // LfU's α and λ as the last step used them (what a calibrated run settled on).
            ["final_alpha"] = final.Alpha,
            ["final_lambda"] = final.Lambda,
            ["final_validation_loss"] = result.Validations.Count > 0 ? result.Validations[^1].Loss : null,
            ["seconds"] = seconds,
            ["tokens_per_second"] = result.History.Sum(m => m.Tokens) / Math.Max(result.History.Sum(m => m.Seconds), 1e-9), // over the steps alone
            ["peak_memory_bytes"] = result.PeakMemoryBytes,
            ["examples"] = new JsonObject
            {
                ["total"] = report.Total, ["kept"] = report.Kept, ["truncated"] = report.Truncated,
                ["skipped"] = new JsonArray(report.Skipped.Select(s => (JsonNode)new JsonObject { ["line"] = records[s.Index].Line, ["reason"] = s.Reason }).ToArray()),
            },
            ["validation_examples"] = validationReport is null ? null : new JsonObject
            {
                ["total"] = validationReport.Total, ["kept"] = validationReport.Kept, ["truncated"] = validationReport.Truncated, ["skipped"] = validationReport.Skipped.Count,
            },
        };
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
