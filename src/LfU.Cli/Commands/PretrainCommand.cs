using System.CommandLine;
using System.Text.Json.Nodes;
using LfU.MLNet.Objectives;
using LfU.MLNet.Benchmark;
using LfU.MLNet.IO;
using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu pretrain</c>: trains a small Llama-style model from scratch on the mini world's pretraining mixture (alpaca
/// template, loss on prompt and response) and writes it as a Hugging Face model folder with its tokenizer.
/// </summary>
internal static class PretrainCommand
{
    internal static Command Create()
    {
        var data = new Option<FileInfo>("--data") { Description = "Pretraining JSONL (prompt/response per line), e.g. data/mini-world/pretrain.jsonl.", Required = true };
        var tokenizer = new Option<DirectoryInfo>("--tokenizer") { Description = "Folder with tokenizer.json and tokenizer_config.json (e.g. data/mini-world/tokenizer).", Required = true };
        var output0 = new Option<DirectoryInfo>("--output") { Description = "Model folder to write (config.json, model.safetensors, tokenizer files).", Required = true };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size.", DefaultValueFactory = _ => 192 };
        var layers = new Option<int>("--layers") { Description = "Decoder layers.", DefaultValueFactory = _ => 6 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 6 };
        var kvHeads = new Option<int>("--kv-heads") { Description = "Key/value heads (grouped-query attention).", DefaultValueFactory = _ => 2 };
        var intermediate = new Option<int>("--intermediate") { Description = "MLP intermediate size.", DefaultValueFactory = _ => 512 };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the data.", DefaultValueFactory = _ => 2 };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop after this many steps instead." };
        var batch = new Option<int>("--batch") { Description = "Examples per step.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (cosine, 5 % warm-up).", DefaultValueFactory = _ => 3e-3 };
        var seed = new Option<long>("--seed") { Description = "Seed of initialisation and shuffling.", DefaultValueFactory = _ => 0 };
        var checkpoints = new Option<DirectoryInfo?>("--checkpoint-dir") { Description = "Write resumable checkpoints here (every 200 steps and on Ctrl+C)." };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "Resume from a checkpoint (folder) written by --checkpoint-dir." };
        var pack = new Option<int>("--pack") { Description = "Pack examples into rows of this many tokens (each example attends only to itself); 0 pads one example per row.", DefaultValueFactory = _ => 128 };
        var attention = CliOptions.Attention("eager");
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW's decoupled weight decay.", DefaultValueFactory = _ => 0.1 };
        var precision = CliOptions.Precision("Compute dtype: auto (bfloat16 where the CPU or GPU runs it natively), bf16 or fp32. Weights and optimizer stay float32.", "auto");
        var initFrom = new Option<DirectoryInfo?>("--init-from") { Description = "Continue pretraining from this model folder's weights and shape (e.g. a second stage with a fresh schedule) instead of a random initialisation; the shape options are then ignored." };
        var overwrite = OutputFolder.OverwriteOption("Replace what --output holds; the new model is swapped in only once training finished.");
        var threads = new Option<int?>("--threads") { Description = "CPU threads for TorchSharp (default: all cores); leave one free to keep the machine usable." };
        foreach (var size in new[] { hidden, layers, heads, kvHeads, intermediate, epochs, batch }) CliOptions.AtLeast(size, 1);
        CliOptions.AtLeast(maxSteps, 1);
        CliOptions.AtLeast(pack, 0);
        CliOptions.AtLeast(threads, 1);
        CliOptions.InRange(lr, double.Epsilon, double.MaxValue, "positive");
        CliOptions.InRange(weightDecay, 0, double.MaxValue, "0 or more");
        CliOptions.AnyWhole(seed);
        var command = new Command("pretrain", "Train a small Llama-style model from scratch on instruction data (the bundled mini-world model).")
            { data, tokenizer, output0, hidden, layers, heads, kvHeads, intermediate, epochs, maxSteps, batch, lr, seed, checkpoints, resume, pack, precision, attention, weightDecay, initFrom, threads, overwrite };
        command.SetAction((parse, cancellationToken) =>
        {
            using var output = OutputFolder.Open(parse.GetValue(output0)!.FullName, parse.GetValue(overwrite),
                keep: [parse.GetValue(checkpoints)?.FullName, parse.GetValue(resume)?.FullName, parse.GetValue(data)!.FullName, parse.GetValue(tokenizer)!.FullName]);
            if (parse.GetValue(threads) is int n) torch.set_num_threads(n);
            var shape = (parse.GetValue(hidden), parse.GetValue(layers), parse.GetValue(heads), parse.GetValue(kvHeads), parse.GetValue(intermediate));
            Run(parse.GetValue(data)!.FullName, parse.GetValue(tokenizer)!.FullName, output, shape,
                new TrainerOptions
                {
                    Objective = new SftObjective(),
                    FineTuning = FineTuning.Full,
                    LearningRate = parse.GetValue(lr),
                    WarmupRatio = 0.05,
                    WeightDecay = parse.GetValue(weightDecay),
                    AdamBeta2 = 0.95, // the usual choice for pretraining from scratch (nanoGPT, Llama)
                    Epochs = parse.GetValue(epochs),
                    MaxSteps = parse.GetValue(maxSteps),
                    BatchSize = parse.GetValue(batch),
                    Seed = parse.GetValue(seed),
                    CheckpointFolder = parse.GetValue(checkpoints)?.FullName,
                    CheckpointEverySteps = parse.GetValue(checkpoints) is null ? null : 200,
                    Precision = parse.GetValue(precision),
                }, parse.GetValue(pack), CliOptions.ParseAttention(parse.GetValue(attention)!),
                parse.GetValue(initFrom)?.FullName, parse.GetValue(resume)?.FullName, cancellationToken);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>Longest pretraining example in tokens.</summary>
    const int CutoffLength = 256;

    static void Run(string dataPath, string tokenizerDir, OutputFolder output,
        (int Hidden, int Layers, int Heads, int KvHeads, int Intermediate) shape, TrainerOptions options, int packLength, AttentionImplementation attention, string? initFrom, string? resume, CancellationToken cancellationToken)
    {
        var tokenizer = HfTokenizer.FromFolder(tokenizerDir);
        if (shape.Hidden % shape.Heads != 0) throw new ArgumentException($"--hidden {shape.Hidden} must be a multiple of --heads {shape.Heads}.");
        var config = ModelConfig.FromJson(new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = tokenizer.VocabularySize,
            ["hidden_size"] = shape.Hidden,
            ["intermediate_size"] = shape.Intermediate,
            ["num_hidden_layers"] = shape.Layers,
            ["num_attention_heads"] = shape.Heads,
            ["num_key_value_heads"] = shape.KvHeads,
            ["head_dim"] = shape.Hidden / shape.Heads,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 512,
            ["tie_word_embeddings"] = true,
            ["bos_token_id"] = tokenizer.BosId,
            ["eos_token_id"] = tokenizer.EosId,
            ["pad_token_id"] = tokenizer.PadId,
            ["torch_dtype"] = "float32",
        }, "pretrain shape");

        var items = MiniWorldFiles.ReadJsonl(dataPath);
        using var model = initFrom is null ? new CausalLM(config) : PretrainedModel.Load(initFrom, ScalarType.Float32);
        model.AttentionImplementation = attention;
        if (initFrom is null) model.InitializeWeights(0.02, options.Seed);
        else if (model.Config.VocabSize != tokenizer.VocabularySize)
            throw new ArgumentException($"--init-from {initFrom} has a vocabulary of {model.Config.VocabSize} tokens but the tokenizer has {tokenizer.VocabularySize}; use the tokenizer it was trained with.");
        // The network is built here (random or continued), the rest is the fine-tuning path: alpaca, loss on the prompt too.
        var job = new FineTuningJob(new BaseModel(model, tokenizer, "alpaca"), options,
            new ExampleBuilderOptions { CutoffLength = CutoffLength, TrainOnPrompt = true });
        var built = job.BuildExamples(items.Select(i => (i.Prompt, i.Response)));
        Console.WriteLine($"{built.Report.Summary(CutoffLength)}");
        IReadOnlyList<TrainingExample> examples = built.Examples;
        long tokens = examples.Sum(e => (long)e.InputIds.Length);
        if (packLength > 0)
        {
            // Seeded shuffle before packing, so that rows mix categories however the file is ordered.
            var random = new Random(checked((int)(options.Seed & 0x7FFFFFFF)));
            var shuffled = examples.ToArray();
            random.Shuffle(shuffled);
            examples = SequencePacker.Pack(shuffled, packLength).ToList();
            Console.WriteLine($"Packed into {examples.Count} rows of at most {packLength} tokens ({100.0 * tokens / ((long)examples.Count * packLength):F1} % filled).");
        }
        long parameters = model.parameters().Sum(p => p.numel());
        // 6·N FLOPs per token (forward and backward) over every matmul weight; the tied embedding counts once, as the output head.
        double flopsPerToken = 6.0 * parameters;
        Console.WriteLine($"Model: {model.LayerCount} layers, hidden {model.Config.HiddenSize}, {parameters / 1e6:F2}M parameters{(initFrom is null ? "" : $" from {initFrom}")}; {tokens} tokens per epoch; " +
            $"compute {job.ComputeDType?.ToString() ?? "float32"}, {attention} attention, {torch.get_num_threads()} threads.");

        using var progress = new ConsoleProgress(Console.Out, !Console.IsOutputRedirected, printEvery: 20) { FlopsPerToken = flopsPerToken };
        var result = job.Train(built with { Examples = examples }, null, progress, resume, cancellationToken).Training;
        progress.Complete();

        string outputDir = output.Path; // a staging sibling when replacing an old model, swapped in below
        PretrainedModel.Save(model, outputDir);
        foreach (string file in Directory.GetFiles(tokenizerDir))
            AtomicFile.Write(Path.Combine(outputDir, Path.GetFileName(file)), s => { using var f = File.OpenRead(file); f.CopyTo(s); });
        AtomicFile.WriteAllText(Path.Combine(outputDir, "generation_config.json"),
            new JsonObject { ["bos_token_id"] = tokenizer.BosId, ["eos_token_id"] = tokenizer.EosId, ["pad_token_id"] = tokenizer.PadId, ["do_sample"] = false }.ToJsonString());
        var log = string.Join("\n", result.History.Select(m => $"{m.Step},{m.Sft:R},{m.LearningRate:R},{m.Seconds:R}"));
        AtomicFile.WriteAllText(Path.Combine(outputDir, "pretrain_log.csv"), "step,loss,lr,seconds\n" + log + "\n");
        output.Commit();
        double seconds = result.History.Sum(m => m.Seconds), trained = result.History.Sum(m => (double)m.Tokens);
        Console.WriteLine($"Wrote {output.Target}: final loss {result.Final.Sft:F4} after {result.History.Count} steps ({seconds / 60:F1} min of training, " +
            $"{trained / seconds:F0} tokens/s, {trained / seconds * flopsPerToken / 1e9:F1} model GFLOP/s).");
    }
}
