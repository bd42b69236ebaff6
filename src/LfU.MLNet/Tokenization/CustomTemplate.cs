namespace LfU.MLNet.Tokenization;

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
