using LfU.MLNet.IO;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>Loads and saves <see cref="CausalLM"/> models as Hugging Face checkpoint folders (config.json + safetensors).</summary>
public static class PretrainedModel
{
    /// <summary>
    /// Loads a model folder: config.json plus model.safetensors or a sharded index. Weights keep the checkpoint's dtype
    /// unless <paramref name="dtype"/> asks for another; a tied <c>lm_head.weight</c> may be absent (or present and ignored).
    /// </summary>
    public static CausalLM Load(string folder, ScalarType? dtype = null, Device? device = null)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist. Point at a Hugging Face model folder (config.json + *.safetensors).");
        TorchRuntime.EnsureInitialized(device?.type == DeviceType.CUDA);
        var config = ModelConfig.FromFile(folder);
        using var reader = CheckpointReader.OpenFolder(folder);
        var model = new CausalLM(config, dtype ?? ParseDType(config.TorchDtype), device);
        try
        {
            StateDictLoader.LoadInto(model, reader,
                mayBeUnexpected: name => config.TieWordEmbeddings && name == "lm_head.weight");
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>
    /// Writes the model as a Hugging Face checkpoint folder: config.json, generation_config.json when given, and
    /// model.safetensors (sharded above <paramref name="maxShardBytes"/>). Any attached LoRA must be merged first
    /// (<c>LoraAdapters.MergeAll</c>); adapter tensors are never written here.
    /// </summary>
    public static void Save(CausalLM model, string folder, long maxShardBytes = 5L << 30)
    {
        Directory.CreateDirectory(folder);
        var tensors = StateDictLoader.NamedTensors(model).Where(t => !t.Name.Contains(".lora_")).ToList();
        var config = model.Config with { TorchDtype = DTypeName(model.DType) };
        AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        long total = tensors.Sum(t => t.Tensor.NumberOfElements * t.Tensor.ElementSize);
        if (total <= maxShardBytes)
            SafeTensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors, SafeTensorsWriter.PyTorchFormat);
        else
            SafeTensorsWriter.WriteSharded(folder, tensors, maxShardBytes);
    }

    /// <summary>Maps Hugging Face dtype names (torch_dtype) to TorchSharp types.</summary>
    public static ScalarType ParseDType(string name) => name switch
    {
        "float32" or "fp32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "half" => ScalarType.Float16,
        "float64" or "fp64" or "double" => ScalarType.Float64,
        _ => throw new ArgumentException($"Unsupported dtype '{name}'; use float32, bfloat16, float16 or float64."),
    };

    /// <summary>The Hugging Face name of a TorchSharp floating-point type.</summary>
    public static string DTypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => throw new ArgumentException($"{type} is not a floating-point model dtype."),
    };
}
