using LfU.MLNet.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Model;
using static TorchSharp.torch;

namespace LfU.MLNet.Adapters;

/// <summary>
/// Reads and writes LoRA adapters in PEFT's format: <c>adapter_config.json</c> + <c>adapter_model.safetensors</c>
/// with PEFT's key names (<c>base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight</c>), so adapters move
/// between Python's peft and .NET.
/// </summary>
public static class PeftAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>Reads adapter_config.json, rejecting PEFT features this library does not implement.</summary>
    public static LoraConfig ReadConfig(string folder)
    {
        string file = Path.Combine(folder, ConfigFile);
        if (!IO.RegularFile.Exists(file)) throw new FileNotFoundException($"No {ConfigFile} in '{folder}'. A PEFT adapter folder holds {ConfigFile} and {WeightsFile}.", file);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new InvalidDataException($"{file}: expected a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{file}: not valid JSON ({e.Message}).", e); }

        string? Str(string key) => json[key] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        bool Flag(string key) => json[key] is JsonValue v && v.TryGetValue(out bool b) && b;
        bool NonEmpty(string key) => json[key] switch { null => false, JsonObject o => o.Count > 0, JsonArray a => a.Count > 0, JsonValue v => !(v.TryGetValue(out string? s) && s.Length == 0), _ => true };
        Exception Unsupported(string field, string what) => new NotSupportedException($"{file}: {field} {what} is not supported by LfU.MLNet (plain LoRA only).");

        string peftType = Str("peft_type") ?? "LORA";
        if (peftType != "LORA") throw Unsupported("peft_type", $"'{peftType}'");
        if (Flag("use_dora")) throw Unsupported("use_dora", "true");
        if (Flag("fan_in_fan_out")) throw Unsupported("fan_in_fan_out", "true");
        if ((Str("bias") ?? "none") != "none") throw Unsupported("bias", $"'{Str("bias")}'");
        foreach (string key in new[] { "modules_to_save", "rank_pattern", "alpha_pattern", "layers_to_transform" })
            if (NonEmpty(key)) throw Unsupported(key, "(non-empty)");

        int rank = json["r"]?.GetValue<int>() ?? throw new InvalidDataException($"{file}: r is missing.");
        double alpha = json["lora_alpha"]?.GetValue<double>() ?? rank;
        double dropout = json["lora_dropout"]?.GetValue<double>() ?? 0;
        IReadOnlyList<string> targets = json["target_modules"] switch
        {
            JsonArray a => a.Select(n => n!.GetValue<string>()).ToList(),
            JsonValue v when v.TryGetValue(out string? s) && s == "all-linear" => LoraConfig.AllLinearTargets,
            JsonValue v when v.TryGetValue(out string? s) => throw Unsupported("target_modules", $"pattern '{s}' (give a list of module names)"),
            _ => throw new InvalidDataException($"{file}: target_modules is missing."),
        };
        var config = new LoraConfig { Rank = rank, Alpha = alpha, Dropout = dropout, UseRsLora = Flag("use_rslora"), TargetModules = targets };
        config.Validate();
        return config;
    }

    /// <summary>
    /// Attaches the adapter in <paramref name="folder"/> to the model and loads its weights (converted to
    /// <paramref name="dtype"/>). Missing, unexpected or mis-shaped tensors are one error listing them.
    /// </summary>
    public static LoraConfig Load(CausalLM model, string folder, ScalarType dtype = ScalarType.Float32)
    {
        var config = ReadConfig(folder);
        string weights = Path.Combine(folder, WeightsFile);
        if (!IO.RegularFile.Exists(weights)) throw new FileNotFoundException($"No {WeightsFile} in '{folder}' (adapter_model.bin is not supported; save with safe_serialization=True).", weights);
        LoraAdapters.Attach(model, config, seed: 0, dtype);
        try
        {
            using var reader = CheckpointReader.OpenFolder(weights);
            var expected = LoraAdapters.Parameters(model);
            var missing = expected.Where(p => !reader.Contains(p.Name)).Select(p => p.Name).ToList();
            var known = expected.Select(p => p.Name).ToHashSet();
            var unexpected = reader.Names.Where(n => !known.Contains(n)).ToList();
            var shapes = expected.Where(p => reader.Contains(p.Name) && !reader.Info(p.Name).Shape.SequenceEqual(p.Parameter.shape))
                .Select(p => $"{p.Name}: adapter {SafeTensorInfo.FormatShape(reader.Info(p.Name).Shape)}, model {SafeTensorInfo.FormatShape(p.Parameter.shape)}").ToList();
            if (missing.Count + unexpected.Count + shapes.Count > 0)
                throw new CheckpointMismatchException(weights, missing, unexpected, shapes);
            using var _ = no_grad();
            foreach (var (name, parameter) in expected)
            {
                using var scope = NewDisposeScope();
                parameter.copy_(reader.Read(name));
            }
        }
        catch
        {
            LoraAdapters.RemoveAll(model);
            throw;
        }
        return config;
    }

    /// <summary>Writes the model's attached adapter as a PEFT adapter folder (atomically, file by file).</summary>
    public static void Save(CausalLM model, LoraConfig config, string folder, string? baseModelNameOrPath = null)
    {
        var parameters = LoraAdapters.Parameters(model);
        if (parameters.Count == 0) throw new InvalidOperationException("The model has no LoRA adapter to save.");
        Directory.CreateDirectory(folder);
        SafeTensorsWriter.Write(Path.Combine(folder, WeightsFile), parameters.Select(p => (p.Name, (Tensor)p.Parameter)), SafeTensorsWriter.PyTorchFormat);
        var json = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["r"] = config.Rank,
            ["lora_alpha"] = config.Alpha,
            ["lora_dropout"] = config.Dropout,
            ["use_rslora"] = config.UseRsLora,
            ["use_dora"] = false,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["modules_to_save"] = null,
            ["target_modules"] = new JsonArray(config.TargetModules.Select(t => (JsonNode)t).ToArray()),
        };
        AtomicFile.WriteAllText(Path.Combine(folder, ConfigFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
