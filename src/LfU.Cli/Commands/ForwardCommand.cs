using System.CommandLine;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Generation;
using LfU.MLNet.Model;
using static TorchSharp.torch;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu forward --model DIR --input IN.safetensors --output OUT.safetensors [--generate N] [--dtype float32]</c>:
/// reads <c>input_ids</c> and <c>attention_mask</c> (int64 [B, T]); writes <c>logits</c> and <c>hidden_states.0..L</c>
/// (float32) and, with --generate, <c>generated</c> (int64 [1, T'+N]): greedy continuation of row 0's unmasked tokens.
/// </summary>
internal static class ForwardCommand
{
    internal static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Hugging Face model folder (config.json + *.safetensors).", Required = true };
        var input = new Option<FileInfo>("--input") { Description = "safetensors with input_ids and attention_mask, int64 [B, T].", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "safetensors to write: logits, hidden_states.0..L (float32), generated.", Required = true };
        var generate = new Option<int>("--generate") { Description = "Also greedily generate this many tokens from row 0 with the KV cache.", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "Compute dtype: float32 (default), bfloat16, float16, float64.", DefaultValueFactory = _ => "float32" }
            .OneOf("float32", "bfloat16", "float16", "float64");
        CliOptions.AtLeast(generate, 0);
        var command = new Command("forward", "Run a model on token ids and write logits, hidden states and a greedy continuation.")
            { model, input, output, generate, dtype };
        command.SetAction(parse =>
        {
            Run(parse.GetValue(model)!.FullName, parse.GetValue(input)!.FullName, parse.GetValue(output)!.FullName,
                parse.GetValue(generate), parse.GetValue(dtype)!);
            return 0;
        });
        return command;
    }

    static void Run(string modelDir, string inputPath, string outputPath, int generate, string dtypeName)
    {
        var dtype = PretrainedModel.ParseDType(dtypeName);
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"Input file '{inputPath}' does not exist.");
        using var scope = NewDisposeScope();
        Tensor ids, mask;
        using (var file = SafeTensorsFile.Open(inputPath))
        {
            ids = ReadInt64Matrix(file, "input_ids", inputPath);
            mask = file.Tensors.ContainsKey("attention_mask") ? ReadInt64Matrix(file, "attention_mask", inputPath) : ones_like(ids);
        }
        if (!ids.shape.SequenceEqual(mask.shape))
            throw new InvalidDataException($"{inputPath}: attention_mask {Shape(mask)} must have the shape of input_ids {Shape(ids)}.");
        using var lm = PretrainedModel.Load(modelDir, dtype);
        long vocab = lm.Config.VocabSize;
        if (ids.numel() > 0 && (ids.min().item<long>() < 0 || ids.max().item<long>() >= vocab))
            throw new InvalidDataException($"{inputPath}: input_ids must lie in [0, {vocab}) for this model (found {ids.min().item<long>()}..{ids.max().item<long>()}).");

        var tensors = new List<(string, Tensor)>();
        using (no_grad())
        {
            var result = lm.Forward(ids, new ForwardOptions { AttentionMask = mask, OutputHiddenStates = true });
            tensors.Add(("logits", result.Logits.to(ScalarType.Float32)));
            for (int i = 0; i < result.HiddenStates!.Count; i++) tensors.Add(($"hidden_states.{i}", result.HiddenStates[i].to(ScalarType.Float32)));
        }
        if (generate > 0)
        {
            var row = ids[0][mask[0].to(ScalarType.Bool)].unsqueeze(0); // (1, T') unmasked tokens of row 0
            var fresh = TokenGenerator.Generate(lm, row, ones_like(row), generate)[0];
            tensors.Add(("generated", cat(new[] { row, tensor(fresh, new long[] { 1, fresh.Length }) }, 1)));
        }
        SafeTensorsWriter.Write(outputPath, tensors);
        Console.WriteLine($"wrote {outputPath}: logits {Shape(tensors[0].Item2)}, {lm.LayerCount + 1} hidden states" + (generate > 0 ? $", {generate} generated tokens" : ""));
    }

    static Tensor ReadInt64Matrix(SafeTensorsFile file, string name, string path)
    {
        if (!file.Tensors.TryGetValue(name, out var info))
            throw new InvalidDataException($"{path}: no tensor named '{name}' (found: {string.Join(", ", file.Tensors.Keys)}).");
        if (info.DType != ScalarType.Int64 || info.Shape.Length != 2)
            throw new InvalidDataException($"{path}: '{name}' must be int64 [B, T], found {info}.");
        return file.Read(name);
    }

    static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
