namespace LfU.MLNet.Tokenization;

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
