using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Generation;
using LfU.MLNet.IO;
using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;
using static TorchSharp.torch;

namespace LfU.MLNet;

/// <summary>
/// A (fine-tuned) language model with its tokenizer and prompt template: generation, scoring and export, usable
/// with or without ML.NET. <see cref="LfUTransformer.Model"/> exposes the one inside a transformer.
/// Not thread-safe: use one instance per thread, or the transformer, which serialises calls.
/// </summary>
public sealed partial class LfUModel : ITextModel, ITextScorer
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

    /// <summary>Releases the network's tensors; the model cannot be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Network.Dispose();
    }
}

