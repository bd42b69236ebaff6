using System.Text;

namespace LfU.MLNet.Tokenization;

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
