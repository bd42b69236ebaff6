namespace LfU.MLNet.Tokenization;

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
