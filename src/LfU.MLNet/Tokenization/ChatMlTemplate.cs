using System.Text;

namespace LfU.MLNet.Tokenization;

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
