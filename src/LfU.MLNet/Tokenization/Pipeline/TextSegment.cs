namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>A segment of input text: either plain text for the model or one added token.</summary>
internal readonly record struct TextSegment(string Text, int? AddedTokenId, bool AtTextStart);
