using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// The model a fine-tuning starts from: the network, its tokenizer and the prompt template (by name or custom
/// string), checked to belong together. <see cref="Load"/> reads a Hugging Face model folder; a network built in code
/// (pretraining from scratch) is wrapped with the constructor. The network is the caller's to dispose.
/// </summary>
/// <param name="Network">The decoder.</param>
/// <param name="Tokenizer">Its tokenizer.</param>
/// <param name="TemplateSpec">The prompt template: alpaca, llama3, chatml, or a custom string containing {prompt}.</param>
public sealed record BaseModel(CausalLM Network, HfTokenizer Tokenizer, string TemplateSpec)
{
    /// <summary>The template prompts are rendered with (<see cref="TemplateSpec"/> resolved).</summary>
    public PromptTemplate Template => PromptTemplates.Resolve(TemplateSpec);

    /// <summary>Loads the network, tokenizer and template of a model folder, checking that they belong together.</summary>
    /// <param name="modelFolder">config.json, *.safetensors and tokenizer files.</param>
    /// <param name="template">Built-in template name or a custom template with {prompt}; null picks it from the
    /// tokenizer's chat template, else alpaca (the template the LfU paper trains with).</param>
    /// <param name="dtype">Weight dtype; null keeps the checkpoint's.</param>
    /// <param name="device">Device; null = CPU.</param>
    public static BaseModel Load(string modelFolder, string? template = null, ScalarType? dtype = null, Device? device = null)
    {
        if (!Directory.Exists(modelFolder))
            throw new DirectoryNotFoundException($"Model folder '{modelFolder}' does not exist. Point at a Hugging Face model folder (config.json, *.safetensors, tokenizer.json).");
        var tokenizer = HfTokenizer.FromFolder(modelFolder);
        var config = ModelConfig.FromFile(modelFolder);
        if (tokenizer.VocabularySize > config.VocabSize)
            throw new InvalidDataException($"The tokenizer in '{modelFolder}' has {tokenizer.VocabularySize} tokens but the model's vocab_size is {config.VocabSize}: they do not belong together.");
        string templateSpec = template ?? PromptTemplates.FromTokenizer(tokenizer)?.Name ?? "alpaca";
        PromptTemplates.Resolve(templateSpec); // fail early on a bad template, before loading weights
        return new BaseModel(PretrainedModel.Load(modelFolder, dtype, device), tokenizer, templateSpec);
    }
}
