namespace LfU.MLNet.Tokenization;

/// <summary>Finds prompt templates by name or from a tokenizer's chat template.</summary>
public static class PromptTemplates
{
    /// <summary>Names accepted by <see cref="ByName"/>.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = ["alpaca", "llama3", "chatml"];

    /// <summary>A built-in template by name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the built-ins.</exception>
    public static PromptTemplate ByName(string name) => name.ToLowerInvariant() switch
    {
        "alpaca" => new AlpacaTemplate(),
        "llama3" => new Llama3Template(appendsGenerationPromptAlways: false),
        "chatml" => new ChatMlTemplate(qwen3EmptyThink: false),
        _ => throw new ArgumentException($"Unknown prompt template '{name}'. Built-in templates: {string.Join(", ", BuiltInNames)}; or give a template text containing {{prompt}}."),
    };

    /// <summary>
    /// The template matching the tokenizer's <c>chat_template</c> (Llama 3 header tokens, or ChatML's
    /// &lt;|im_start|&gt;, with Qwen3's &lt;think&gt; block), or null when it is not recognised: then name one.
    /// </summary>
    public static PromptTemplate? FromTokenizer(HfTokenizer tokenizer)
    {
        string? chat = tokenizer.ChatTemplate;
        if (chat is null) return null;
        if (chat.Contains("<|start_header_id|>", StringComparison.Ordinal) && chat.Contains("<|eot_id|>", StringComparison.Ordinal))
        {
            string bos = tokenizer.BosId is int b ? tokenizer.IdToToken(b)! : "";
            // Some Llama 3 templates always end with the assistant header, whether or not a generation prompt was asked for.
            return new Llama3Template(appendsGenerationPromptAlways: !chat.Contains("add_generation_prompt", StringComparison.Ordinal), bos);
        }
        if (chat.Contains("<|im_start|>", StringComparison.Ordinal))
            return new ChatMlTemplate(qwen3EmptyThink: chat.Contains("<think>", StringComparison.Ordinal));
        return null;
    }

    /// <summary>
    /// A user template: text with a <c>{prompt}</c> placeholder (and optionally <c>{system}</c>), e.g.
    /// "Question: {prompt}\nAnswer:". The response follows the rendered text; EOS ends it.
    /// </summary>
    public static PromptTemplate Custom(string template, string? defaultSystem = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (!template.Contains("{prompt}", StringComparison.Ordinal))
            throw new ArgumentException($"A custom prompt template must contain the placeholder {{prompt}}; got \"{template}\".", nameof(template));
        return new CustomTemplate(template, defaultSystem);
    }

    /// <summary><see cref="ByName"/> for a built-in name, otherwise <see cref="Custom"/> when the text has {prompt}.</summary>
    public static PromptTemplate Resolve(string nameOrTemplate) =>
        nameOrTemplate.Contains("{prompt}", StringComparison.Ordinal) ? Custom(nameOrTemplate) : ByName(nameOrTemplate);
}
