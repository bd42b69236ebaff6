using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Generation;
using LfU.MLNet.IO;
using LfU.MLNet.Model;
using LfU.MLNet.Native;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet;

/// <summary>
/// A (fine-tuned) language model with its tokenizer and prompt template: generation, scoring and export, usable
/// with or without ML.NET. <see cref="LfUTransformer.Model"/> exposes the one inside a transformer.
/// Not thread-safe: use one instance per thread, or the transformer, which serialises calls.
/// </summary>
public sealed class LfUModel : ITextModel, ITextScorer
{
    internal const string StateKind = "lfu-causal-lm";
    const int FormatVersion = 1;
    static readonly string[] TokenizerFiles = { "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json", "generation_config.json" };

    readonly TextGenerator _generator;
    readonly string _templateSpec;
    // Kept in memory (they are small) so that exports and saves still work when the base folder is gone, as it may
    // be for a model loaded from a zip with embedded weights.
    readonly IReadOnlyDictionary<string, byte[]> _tokenizerFiles;
    bool _disposed;

    internal CausalLM Network { get; }
    internal HfTokenizer Tokenizer { get; }

    /// <summary>The prompt template prompts are rendered with.</summary>
    public PromptTemplate Template { get; }
    /// <summary>The base model folder this model was built on.</summary>
    public string BaseModelFolder { get; }
    /// <summary>SHA-256 over the base model's weights and every file that changes its answers (see <see cref="ModelFingerprint"/>); loading checks it.</summary>
    public string BaseModelSha256 { get; }
    /// <summary>The SHA-256 of each base file behind <see cref="BaseModelSha256"/>, so that a load can say which one changed; null when unknown.</summary>
    internal IReadOnlyDictionary<string, string>? BaseModelFiles { get; }
    /// <summary>LoRA adapter or full fine-tuning.</summary>
    public FineTuning Mode { get; }
    /// <summary>The LoRA configuration when <see cref="Mode"/> is LoRA and an adapter is attached.</summary>
    public LoraConfig? Lora { get; internal set; }
    /// <summary>Embed the merged weights in saved ML.NET models, so they load without the base model folder.</summary>
    public bool EmbedWeightsWhenSaving { get; set; }

    /// <summary>Wraps a base model loaded from <paramref name="modelFolder"/> that is (or is being) fine-tuned with <paramref name="training"/>.</summary>
    internal static LfUModel FromBase(BaseModel baseModel, string modelFolder, TrainerOptions training, bool embedWeightsWhenSaving = false)
    {
        string folder = Path.GetFullPath(modelFolder);
        return new LfUModel(baseModel.Network, baseModel.Tokenizer, baseModel.TemplateSpec, folder, folder, ModelFingerprint.Of(folder),
            training.FineTuning, training.FineTuning == FineTuning.Lora ? training.Lora : null)
        { EmbedWeightsWhenSaving = embedWeightsWhenSaving };
    }

    internal LfUModel(CausalLM network, HfTokenizer tokenizer, string templateSpec, string tokenizerFolder, string baseFolder, string baseSha256,
        FineTuning mode, LoraConfig? lora, IReadOnlyDictionary<string, string>? baseFiles = null)
    {
        // Hashes are cached per file, so this reuses the work behind baseSha256 when the folder is the base itself.
        BaseModelFiles = baseFiles ?? (Directory.Exists(baseFolder) ? ModelFingerprint.Files(baseFolder) : null);
        _tokenizerFiles = TokenizerFiles.Where(f => RegularFile.Exists(Path.Combine(tokenizerFolder, f)))
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(tokenizerFolder, f)));
        Network = network;
        Tokenizer = tokenizer;
        _templateSpec = templateSpec;
        Template = PromptTemplates.Resolve(templateSpec);
        BaseModelFolder = baseFolder;
        BaseModelSha256 = baseSha256;
        Mode = mode;
        Lora = lora;
        _generator = new TextGenerator(network, tokenizer, Template);
    }

    /// <summary>
    /// Loads a Hugging Face model folder and, optionally, a PEFT LoRA adapter folder on top of it.
    /// </summary>
    /// <param name="modelFolder">config.json, *.safetensors and tokenizer files.</param>
    /// <param name="adapterFolder">adapter_config.json + adapter_model.safetensors, or null for the base model alone.</param>
    /// <param name="template">Built-in template name (alpaca, llama3, chatml) or a custom template with {prompt};
    /// null picks it from tokenizer_config.json's chat template, else alpaca.</param>
    /// <param name="dtype">Weight dtype; null keeps the checkpoint's.</param>
    /// <param name="device">Device; null = CPU.</param>
    public static LfUModel Load(string modelFolder, string? adapterFolder = null, string? template = null, ScalarType? dtype = null, Device? device = null)
    {
        var (network, tokenizer, templateSpec) = BaseModel.Load(modelFolder, template, dtype, device);
        try
        {
            LoraConfig? lora = adapterFolder is null ? null : PeftAdapter.Load(network, adapterFolder, ScalarType.Float32);
            string folder = Path.GetFullPath(modelFolder);
            return new LfUModel(network, tokenizer, templateSpec, folder, folder, ModelFingerprint.Of(modelFolder), FineTuning.Lora, lora);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    // ---------------- generation and scoring ----------------

    /// <summary>Generates a response for each prompt (rendered with <see cref="Template"/>), in batches.</summary>
    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationSettings? settings = null, int batchSize = TextGenerator.DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _generator.Generate(prompts, settings, batchSize, cancellationToken);
    }

    /// <summary>Generates a response for one prompt.</summary>
    public string Generate(string prompt, GenerationSettings? settings = null) => Generate(new[] { prompt }, settings)[0];

    /// <summary>
    /// Mean and total log-probability (natural log) of each response given its prompt, over the response's tokens
    /// including the end-of-turn token that closes it. An empty response scores (NaN, NaN).
    /// </summary>
    public IReadOnlyList<(double Mean, double Total)> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _generator.Score(prompts, responses);
    }

    // ---------------- export ----------------

    /// <summary>Writes the LoRA adapter in PEFT's format (adapter_config.json + adapter_model.safetensors).</summary>
    public void SaveAdapter(string folder)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Lora is null) throw new InvalidOperationException("This model has no LoRA adapter (full fine-tuning, a base model, or a model loaded with its adapter merged into embedded weights); use SaveMerged to export its weights.");
        PeftAdapter.Save(Network, Lora, folder, BaseModelFolder);
    }

    /// <summary>
    /// Writes a complete Hugging Face checkpoint folder with any adapter merged into the weights: config.json,
    /// safetensors and the tokenizer files, loadable by transformers and by <see cref="Load"/>.
    /// </summary>
    public void SaveMerged(string folder)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        LoraAdapters.WithMerged(Network, () => PretrainedModel.Save(Network, folder));
        foreach (var (file, bytes) in _tokenizerFiles)
            AtomicFile.WriteAllBytes(Path.Combine(folder, file), bytes);
    }

    // ---------------- ITextModel: state for ML.NET model zips ----------------

    string ITextModel.Kind => StateKind;

    // The transformer already batches rows (LfUTransformer.BatchSize): generate each of its batches as one.
    IReadOnlyList<string> ITextModel.Generate(IReadOnlyList<string> prompts, GenerationSettings settings) =>
        Generate(prompts, settings, batchSize: Math.Max(1, prompts.Count));

    IReadOnlyList<(double Mean, double Total)> ITextModel.Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) => Score(prompts, responses);

    IReadOnlyDictionary<string, byte[]> ITextModel.SaveState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var blobs = new Dictionary<string, byte[]>();
        bool embed = EmbedWeightsWhenSaving || Mode == FineTuning.Full;
        var manifest = new JsonObject
        {
            ["format"] = FormatVersion,
            ["base_model_folder"] = BaseModelFolder,
            // Relative to the zip, so that a folder holding both the zip and the base can move (BaseModelLocation).
            ["base_model_relative"] = BaseModelLocation.RelativeToZip(BaseModelFolder),
            ["base_model_sha256"] = BaseModelSha256,
            ["base_model_files"] = BaseModelFiles is null ? null : new JsonObject(BaseModelFiles.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
            ["template"] = _templateSpec,
            ["mode"] = Mode.ToString(),
            ["dtype"] = PretrainedModel.DTypeName(Network.DType),
            ["embedded_weights"] = embed,
        };
        blobs["manifest.json"] = JsonSerializer.SerializeToUtf8Bytes(manifest);
        string scratch = Directory.CreateTempSubdirectory("lfu-save").FullName;
        try
        {
            if (embed)
            {
                SaveMerged(scratch);
                foreach (string file in Directory.GetFiles(scratch))
                    blobs["model/" + Path.GetFileName(file)] = File.ReadAllBytes(file);
            }
            else
            {
                if (Lora is not null)
                {
                    SaveAdapter(scratch);
                    blobs["adapter/" + PeftAdapter.ConfigFile] = File.ReadAllBytes(Path.Combine(scratch, PeftAdapter.ConfigFile));
                    blobs["adapter/" + PeftAdapter.WeightsFile] = File.ReadAllBytes(Path.Combine(scratch, PeftAdapter.WeightsFile));
                }
                foreach (var (file, bytes) in _tokenizerFiles) blobs["model/" + file] = bytes;
            }
        }
        finally { Directory.Delete(scratch, recursive: true); }
        return blobs;
    }

    /// <summary>Rebuilds a model saved by <see cref="ITextModel.SaveState"/>. Registered with <see cref="TextModelLoader"/>.</summary>
    internal static ITextModel LoadState(IReadOnlyDictionary<string, byte[]> state, IHostEnvironment env)
    {
        if (!state.TryGetValue("manifest.json", out var manifestBytes))
            throw new InvalidDataException("The saved LfU model has no manifest.json entry; the file is damaged. Save the model again.");
        JsonObject manifest;
        try
        {
            manifest = JsonNode.Parse(manifestBytes) as JsonObject ?? throw new InvalidDataException("The saved LfU model's manifest.json is not a JSON object. Save the model again.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The saved LfU model's manifest.json is not valid JSON ({e.Message}). Save the model again.", e);
        }
        int format = Field<int>(manifest, "format");
        if (format != FormatVersion)
            throw new InvalidDataException($"The saved LfU model uses state format {format}; this version of LfU.MLNet reads format {FormatVersion}. Load it with the version that saved it.");
        string savedBaseFolder = Field<string>(manifest, "base_model_folder");
        string? savedRelative = manifest["base_model_relative"] is JsonValue relative && relative.TryGetValue(out string? r) ? r : null;
        string baseSha = Field<string>(manifest, "base_model_sha256");
        string template = Field<string>(manifest, "template");
        bool embedded = Field<bool>(manifest, "embedded_weights");
        FineTuning mode;
        ScalarType dtype;
        try
        {
            mode = Enum.Parse<FineTuning>(Field<string>(manifest, "mode"));
            dtype = PretrainedModel.ParseDType(Field<string>(manifest, "dtype"));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The saved LfU model's manifest.json has an invalid mode or dtype ({e.Message}). Save the model again.", e);
        }

        // Blobs go to fixed file names in a private folder: their names are only matched, never used as paths.
        string scratch = Directory.CreateTempSubdirectory("lfu-load").FullName;
        try
        {
            string modelDir = Directory.CreateDirectory(Path.Combine(scratch, "model")).FullName;
            string adapterDir = Directory.CreateDirectory(Path.Combine(scratch, "adapter")).FullName;
            string[] modelFiles = TokenizerFiles.Concat(new[] { "config.json", SafeTensorsWriter.SingleFileName }).ToArray();
            foreach (string file in modelFiles)
                if (state.TryGetValue("model/" + file, out var bytes)) File.WriteAllBytes(Path.Combine(modelDir, file), bytes);
            foreach (string file in new[] { PeftAdapter.ConfigFile, PeftAdapter.WeightsFile })
                if (state.TryGetValue("adapter/" + file, out var bytes)) File.WriteAllBytes(Path.Combine(adapterDir, file), bytes);

            if (embedded)
            {
                var (network, tokenizer, spec) = BaseModel.Load(modelDir, template, dtype, null);
                return new LfUModel(network, tokenizer, spec, modelDir, savedBaseFolder, baseSha, mode, null, BaseFiles(manifest)) { EmbedWeightsWhenSaving = true };
            }
            // The saved place, or where the caller says the base now is; its files must hash as they did at saving.
            string baseFolder = BaseModelLocation.Resolve(savedBaseFolder, savedRelative);
            ModelFingerprint.EnsureUnchanged(baseFolder, baseSha, BaseFiles(manifest));
            var (baseNetwork, baseTokenizer, baseSpec) = BaseModel.Load(baseFolder, template, dtype, null);
            try
            {
                LoraConfig? lora = File.Exists(Path.Combine(adapterDir, PeftAdapter.ConfigFile)) ? PeftAdapter.Load(baseNetwork, adapterDir) : null;
                return new LfUModel(baseNetwork, baseTokenizer, baseSpec, baseFolder, baseFolder, baseSha, mode, lora);
            }
            catch
            {
                baseNetwork.Dispose();
                throw;
            }
        }
        finally { Directory.Delete(scratch, recursive: true); }
    }

    /// <summary>The manifest's per-file hashes of the base (absent in zips saved before they were recorded).</summary>
    static IReadOnlyDictionary<string, string>? BaseFiles(JsonObject manifest)
    {
        if (manifest["base_model_files"] is not JsonObject files) return null;
        return files.ToDictionary(f => f.Key, f => f.Value is JsonValue v && v.TryGetValue(out string? hash)
            ? hash
            : throw new InvalidDataException($"The saved LfU model's manifest.json has a malformed base_model_files entry '{f.Key}'. Save the model again."));
    }

    static T Field<T>(JsonObject manifest, string name)
    {
        try
        {
            return manifest[name] is { } node ? node.GetValue<T>() : throw new InvalidDataException($"The saved LfU model's manifest.json lacks \"{name}\". Save the model again.");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The saved LfU model's manifest.json field \"{name}\" is not a {typeof(T).Name}. Save the model again.", e);
        }
    }

    /// <summary>Registers the loader of saved LfU models (done once, before any model zip is loaded).</summary>
#pragma warning disable CA2255 // A library initializer on purpose: ML.NET may load a model zip before any LfU type is touched by the user.
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void RegisterLoader() => TextModelLoader.Register(StateKind, LoadState);
#pragma warning restore CA2255

    /// <summary>Releases the network's tensors; the model cannot be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Network.Dispose();
    }
}

