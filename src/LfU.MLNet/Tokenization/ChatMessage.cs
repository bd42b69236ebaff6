namespace LfU.MLNet.Tokenization;

/// <summary>One message of a chat: role ("system", "user", "assistant") and content.</summary>
public sealed record ChatMessage(string Role, string Content);
