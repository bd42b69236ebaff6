using System.Text;

namespace LfU.MLNet.Tokenization;

/// <summary>One message of a chat: role ("system", "user", "assistant") and content.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// Turns a conversation (or an instruction) into the prompt text a model was trained on. Built-ins: <c>alpaca</c>,
/// <c>llama3</c>, <c>chatml</c>; or a user template with a <c>{prompt}</c> placeholder (<see cref="PromptTemplates.Custom"/>).
/// </summary>
public abstract class PromptTemplate
{
    /// <summary>The template's name, e.g. "llama3".</summary>
    public abstract string Name { get; }

    /// <summary>The text that ends an assistant turn, added after the response (e.g. "&lt;|eot_id|&gt;"); empty when
    /// the tokenizer's EOS id ends the response instead.</summary>
    public abstract string EndOfTurn { get; }

    /// <summary>
    /// The prompt for the next assistant turn: every message rendered, then the assistant header, so that the model's
    /// reply continues the text directly.
    /// </summary>
    public abstract string RenderGenerationPrompt(IReadOnlyList<ChatMessage> messages);

    /// <summary>The whole conversation as the model's chat template renders it (used for display and checks).</summary>
    public abstract string Render(IReadOnlyList<ChatMessage> messages);

    /// <summary>Prompt for a single instruction (and optional system message).</summary>
    public string RenderGenerationPrompt(string prompt, string? system = null) =>
        RenderGenerationPrompt(system is null ? [new ChatMessage("user", prompt)] : [new ChatMessage("system", system), new ChatMessage("user", prompt)]);

    private protected static void RequireMessages(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) throw new ArgumentException("A conversation needs at least one message.", nameof(messages));
        foreach (ChatMessage m in messages)
            if (m.Role is not ("system" or "user" or "assistant"))
                throw new ArgumentException($"Unknown chat role '{m.Role}' (expected system, user or assistant).", nameof(messages));
    }
}

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

/// <summary>
/// The Alpaca template the official LfU code trains with. A system message, if given, is used as the "input"
/// (context) field; a previous turn is not representable, so only the last user message is used.
/// </summary>
sealed class AlpacaTemplate : PromptTemplate
{
    const string NoInput = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{0}\n\n### Response:\n";
    const string WithInput = "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{0}\n\n### Input:\n{1}\n\n### Response:\n";

    public override string Name => "alpaca";
    public override string EndOfTurn => "";

    /// <summary>The prompt for an instruction with an optional input, exactly as Stanford Alpaca writes it.</summary>
    public static string Format(string instruction, string? input) =>
        string.IsNullOrEmpty(input) ? string.Format(NoInput, instruction) : string.Format(WithInput, instruction, input);

    public override string RenderGenerationPrompt(IReadOnlyList<ChatMessage> messages)
    {
        RequireMessages(messages);
        ChatMessage user = messages.LastOrDefault(m => m.Role == "user") ?? throw new ArgumentException("The alpaca template needs a user message (the instruction).", nameof(messages));
        string? input = messages.FirstOrDefault(m => m.Role == "system")?.Content;
        return Format(user.Content, input);
    }

    public override string Render(IReadOnlyList<ChatMessage> messages)
    {
        RequireMessages(messages);
        var beforeReply = messages.TakeWhile((m, i) => !(i == messages.Count - 1 && m.Role == "assistant")).ToList();
        string reply = messages[^1].Role == "assistant" ? messages[^1].Content : "";
        return RenderGenerationPrompt(beforeReply) + reply;
    }
}

/// <summary>Llama 3 chat: BOS, then per message a header, the trimmed content and &lt;|eot_id|&gt;.</summary>
sealed class Llama3Template(bool appendsGenerationPromptAlways, string bos = "<|begin_of_text|>") : PromptTemplate
{
    const string AssistantHeader = "<|start_header_id|>assistant<|end_header_id|>\n\n";

    public override string Name => "llama3";
    public override string EndOfTurn => "<|eot_id|>";

    public override string RenderGenerationPrompt(IReadOnlyList<ChatMessage> messages) => RenderMessages(messages) + AssistantHeader;

    public override string Render(IReadOnlyList<ChatMessage> messages) =>
        RenderMessages(messages) + (appendsGenerationPromptAlways ? AssistantHeader : "");

    string RenderMessages(IReadOnlyList<ChatMessage> messages)
    {
        RequireMessages(messages);
        var text = new StringBuilder(bos);
        foreach (ChatMessage m in messages)
            text.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(m.Content.Trim()).Append("<|eot_id|>");
        return text.ToString();
    }
}

/// <summary>
/// ChatML (Qwen): "&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n". Qwen3's template writes an empty
/// "&lt;think&gt;\n\n&lt;/think&gt;\n\n" block before the content of an assistant reply after the last user turn.
/// </summary>
sealed class ChatMlTemplate(bool qwen3EmptyThink) : PromptTemplate
{
    public override string Name => "chatml";
    public override string EndOfTurn => "<|im_end|>";

    public override string RenderGenerationPrompt(IReadOnlyList<ChatMessage> messages) => Render(messages) + "<|im_start|>assistant\n";

    public override string Render(IReadOnlyList<ChatMessage> messages)
    {
        RequireMessages(messages);
        int lastUser = -1;
        for (int i = 0; i < messages.Count; i++) if (messages[i].Role == "user") lastUser = i;
        var text = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            ChatMessage m = messages[i];
            text.Append("<|im_start|>").Append(m.Role).Append('\n');
            if (m.Role == "assistant" && qwen3EmptyThink)
            {
                // As Qwen3's template: reasoning is split off; the think block is written after the last user turn
                // for the final reply, or for an earlier reply that carried reasoning.
                string thinkBlock = AssistantContentPrefix(m.Content, out string content);
                if (i > lastUser && (i == messages.Count - 1 || m.Content.Contains("</think>", StringComparison.Ordinal))) text.Append(thinkBlock);
                text.Append(content);
            }
            else text.Append(m.Content);
            text.Append("<|im_end|>\n");
        }
        return text.ToString();
    }

    /// <summary>The think block Qwen3 writes for a final assistant reply (its own reasoning if the reply has one).</summary>
    internal static string AssistantContentPrefix(string reply, out string content)
    {
        int close = reply.IndexOf("</think>", StringComparison.Ordinal);
        if (close < 0) { content = reply; return "<think>\n\n</think>\n\n"; }
        content = reply[(close + "</think>".Length)..].TrimStart('\n');
        string reasoning = reply[..close].TrimEnd('\n');
        int open = reasoning.LastIndexOf("<think>", StringComparison.Ordinal);
        if (open >= 0) reasoning = reasoning[(open + "<think>".Length)..];
        return "<think>\n" + reasoning.Trim('\n') + "\n</think>\n\n";
    }

    /// <summary>For training: Qwen3's reply text as its template renders it after the generation prompt.</summary>
    internal string RenderReply(string reply) =>
        qwen3EmptyThink ? AssistantContentPrefix(reply, out string content) + content : reply;
}

/// <summary>A user template with {prompt} and optional {system}; the response follows the rendered text.</summary>
sealed class CustomTemplate(string template, string? defaultSystem) : PromptTemplate
{
    public override string Name => "custom";
    public override string EndOfTurn => "";

    public override string RenderGenerationPrompt(IReadOnlyList<ChatMessage> messages)
    {
        RequireMessages(messages);
        ChatMessage user = messages.LastOrDefault(m => m.Role == "user") ?? throw new ArgumentException("A custom template needs a user message for {prompt}.", nameof(messages));
        string system = messages.FirstOrDefault(m => m.Role == "system")?.Content ?? defaultSystem ?? "";
        return template.Replace("{system}", system, StringComparison.Ordinal).Replace("{prompt}", user.Content, StringComparison.Ordinal);
    }

    public override string Render(IReadOnlyList<ChatMessage> messages)
    {
        RequireMessages(messages);
        var beforeReply = messages[^1].Role == "assistant" ? messages.Take(messages.Count - 1).ToList() : messages.ToList();
        return RenderGenerationPrompt(beforeReply) + (messages[^1].Role == "assistant" ? messages[^1].Content : "");
    }
}
