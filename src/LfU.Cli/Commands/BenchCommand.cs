using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using LfU.MLNet.Native;
using LfU.MLNet.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu bench</c>: times training steps of each objective on a randomly initialised model of a given shape and prints
/// a Markdown table (median step time, tokens/s, peak memory, matmul TFLOP/s and, given the device's peak, MFU).
/// </summary>
internal static class BenchCommand
{
    internal static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "A Hub-style config.json giving the model's shape (see data/configs).", Required = true };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 4 };
        var sequence = new Option<int>("--seq") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 512 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per objective (the median is reported).", DefaultValueFactory = _ => 8 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps before timing each objective.", DefaultValueFactory = _ => 2 };
        var dtype = new Option<string?>("--dtype") { Description = "Base weight dtype: bfloat16 or float32 (default: bfloat16 on CUDA, float32 on CPU). LoRA weights are float32." }.OneOf("bfloat16", "float32");
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" }.OneOf("cpu", "cuda");
        var objectives = new Option<string>("--objectives")
        {
            Description = $"Comma-separated, from: {string.Join(", ", StepBenchmark.Names)}.",
            DefaultValueFactory = _ => string.Join(",", StepBenchmark.DefaultObjectives),
        };
        var peak = new Option<double?>("--peak-tflops") { Description = "The device's peak dense TFLOP/s in this dtype (e.g. 989 for an H100 SXM in bfloat16), to report MFU." };
        var seed = new Option<long>("--seed") { Description = "Seed of the random weights.", DefaultValueFactory = _ => 0 };
        var pytorch = new Option<FileInfo?>("--pytorch-reference")
        {
            Description = "Also run this PyTorch benchmark script (shared/bench/pt_lfu_bench.py) with python3 in the same call, on the same shape, and print the ratios.",
        };
        var pytorchShape = new Option<string>("--pytorch-shape") { Description = "The script's shape name for --config (1b, 3b or 8b).", DefaultValueFactory = _ => "8b" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results (and PyTorch's, with --pytorch-reference) to this JSON file." };

        CliOptions.AtLeast(batch, 1);
        CliOptions.AtLeast(sequence, 2);
        CliOptions.AtLeast(steps, 1);
        CliOptions.AtLeast(warmup, 0);
        CliOptions.InRange(peak, double.Epsilon, double.MaxValue, "positive");
        CliOptions.AnyWhole(seed);
        var command = new Command("bench", "Benchmark training steps (SFT, LfU+LoRA same/independent batch, LfU+RepS) on a random model of a given shape.")
        {
            config, batch, sequence, steps, warmup, dtype, device, objectives, peak, seed, pytorch, pytorchShape, json,
        };
        command.SetAction(parse => Run(
            parse.GetValue(config)!, parse.GetValue(batch), parse.GetValue(sequence), parse.GetValue(steps), parse.GetValue(warmup),
            parse.GetValue(dtype), parse.GetValue(device)!, parse.GetValue(objectives)!, parse.GetValue(peak), parse.GetValue(seed),
            parse.GetValue(pytorch), parse.GetValue(pytorchShape)!, parse.GetValue(json)));
        return command;
    }

    static int Run(FileInfo configFile, int batch, int sequence, int steps, int warmup, string? dtypeName, string deviceName,
        string objectiveList, double? peakTflops, long seed, FileInfo? pytorchScript = null, string pytorchShape = "8b", FileInfo? jsonFile = null)
    {
        if (pytorchScript is { Exists: false }) throw new FileNotFoundException($"--pytorch-reference: '{pytorchScript.FullName}' does not exist.");
        bool cuda = deviceName == "cuda"; // the numbers' ranges and the words are checked by the parser
        var names = objectiveList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(n => !StepBenchmark.Names.Contains(n, StringComparer.OrdinalIgnoreCase)).ToList();
        if (names.Length == 0 || unknown.Count > 0)
            throw new CliUsageException($"--objectives: unknown {string.Join(", ", unknown.Select(u => $"'{u}'"))}; choose from {string.Join(", ", StepBenchmark.Names)}.");
        var dtype = PretrainedModel.ParseDType(dtypeName ?? (cuda ? "bfloat16" : "float32"));
        if (dtype is not (ScalarType.BFloat16 or ScalarType.Float32))
            throw new ArgumentException($"--dtype '{dtypeName}' is not supported; use bfloat16 or float32.");

        if (cuda) CliOptions.EnsureCuda();
        else TorchRuntime.EnsureInitialized();
        var config = ModelConfig.FromFile(configFile.FullName);
        if (sequence > config.MaxPositionEmbeddings)
            throw new ArgumentException($"--seq {sequence} exceeds the model's max_position_embeddings {config.MaxPositionEmbeddings} ({configFile.Name}).");
        var target = cuda ? CUDA : CPU;

        using var model = new CausalLM(config, dtype, target);
        model.InitializeWeights(0.02, seed);
        LoraAdapters.Attach(model, new LoraConfig(), seed);
        foreach (var (_, p) in LoraAdapters.Parameters(model)) p.requires_grad = true;
        long parameters = model.parameters().Sum(p => p.numel());
        var memory = new MemoryProbe(target);

        Console.WriteLine($"Model {configFile.Name}: {parameters / 1e6:F1} M parameters, {PretrainedModel.DTypeName(dtype)} on {deviceName}; " +
                          $"batch {batch} × seq {sequence}; LoRA r=8 α=16 on all block linears; median of {steps} steps after {warmup} warm-up.");
        Console.WriteLine();
        Console.WriteLine("| objective | median step (ms) | tokens/s | peak memory | matmul TFLOP/s | MFU |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        var rows = new List<BenchObjectiveRow>();
        foreach (string name in names)
        {
            BenchmarkResult r;
            try
            {
                r = StepBenchmark.Run(model, name, batch, sequence, steps, warmup, memory);
            }
            catch (Exception e) when (IsOutOfMemory(e))
            {
                // One objective too big for the device at this shape is a result, not the end of the run: the others
                // (and PyTorch's side) still get measured. Its step's tensors went with their dispose scopes.
                rows.Add(BenchObjectiveRow.OutOfMemory(name, GiB(memory.PeakBytes), CliApp.OneLine(e)));
                Console.WriteLine($"| {name} | out of memory at batch {batch} × seq {sequence} | | {FormatBytes(memory.PeakBytes)} | | |");
                continue;
            }
            double tflops = r.FlopsPerSecond / 1e12;
            rows.Add(new BenchObjectiveRow(r.Objective, r.MedianSeconds * 1000, r.TokensPerSecond,
                GiB(r.PeakMemoryBytes), tflops, peakTflops is double p ? tflops / p : null));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Objective} | {r.MedianSeconds * 1000:F1} | {r.TokensPerSecond:F0} | {FormatBytes(r.PeakMemoryBytes)} | {tflops:F2} | {(rows[^1].Mfu is double m ? $"{100 * m:F1}%" : "n/a")} |"));
        }
        Console.WriteLine();
        Console.WriteLine($"Peak memory: {memory.Description}; it only grows, so each row shows the peak up to that objective.");
        Console.WriteLine("FLOPs: forward F = tokens·(2·P + 4·L·T·H) (P: block projection and head weights; L layers; H = heads·head_dim); " +
                          "a LoRA backward ≈ F (input gradients only); SFT = 2F, LfU same-batch and RepS = 4F, LfU independent-batch = 6F.");
        var record = new BenchRecord(configFile.Name, deviceName, PretrainedModel.DTypeName(dtype), batch, sequence, steps, warmup, parameters,
            memory.Description, peakTflops, rows);
        // Written before PyTorch runs, so that our numbers survive a failing or killed reference.
        if (jsonFile is not null) record.Write(jsonFile.FullName);
        if (pytorchScript is not null)
        {
            model.Dispose(); // free the device for the PyTorch process
            var ours = rows.Where(r => r.Error is null).ToDictionary(r => r.Objective, r => r.MedianMs);
            IReadOnlyList<PyTorchReference.Timing> theirs;
            try
            {
                theirs = PyTorchReference.Run(pytorchScript.FullName, pytorchShape, batch, sequence, steps);
            }
            catch (Exception e) when (jsonFile is not null)
            {
                (record with { PyTorchError = CliApp.OneLine(e) }).Write(jsonFile.FullName);
                throw;
            }
            if (jsonFile is not null) (record with { PyTorch = theirs, Comparisons = PyTorchReference.Comparisons(ours, theirs) }).Write(jsonFile.FullName);
            Console.WriteLine();
            Console.WriteLine(PyTorchReference.Compare(ours, theirs));
        }
        return 0;
    }

    /// <summary>True for libtorch's allocation failures (CUDA's "out of memory", the CPU allocator's "can't allocate memory").</summary>
    internal static bool IsOutOfMemory(Exception e) =>
        e is ExternalException or OutOfMemoryException &&
        (e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase));

    static double? GiB(long? bytes) => bytes / (double)(1L << 30);

    static string FormatBytes(long? bytes) => GiB(bytes) is double g
        ? string.Create(CultureInfo.InvariantCulture, $"{g:F2} GiB")
        : "n/a";
}
