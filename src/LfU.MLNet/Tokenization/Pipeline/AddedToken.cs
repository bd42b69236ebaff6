namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>An added token of a Hugging Face tokenizer (special or not) and how it is matched in text.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool Normalized = false, bool LeftStrip = false, bool RightStrip = false, bool SingleWord = false);
