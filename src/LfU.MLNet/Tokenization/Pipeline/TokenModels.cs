using Microsoft.ML.Tokenizers;

namespace LfU.MLNet.Tokenization.Pipeline;

/// <summary>
/// What a tokenizer does between added tokens: plain text to ids, and ids (with their token strings) back to text.
/// </summary>
internal interface ITokenModel
{
    IReadOnlyDictionary<string, int> Vocabulary { get; }
    void Encode(TextSegment plainText, List<int> ids);
    string Decode(IReadOnlyList<int> ids, IReadOnlyList<string> tokens);
}

/// <summary>The normalizer → pre-tokenizer → BPE → decoder pipeline described by a tokenizer.json.</summary>
internal sealed class TokenizerJsonModel(TextNormalizer? normalizer, TextPreTokenizer? preTokenizer, BpeModel model, TokenDecoder? decoder, AddedVocabulary added)
    : ITokenModel
{
    public IReadOnlyDictionary<string, int> Vocabulary => model.Vocabulary;

    public void Encode(TextSegment plainText, List<int> ids)
    {
        string normalized = normalizer?.Normalize(plainText.Text) ?? plainText.Text;
        foreach (TextSegment part in added.SplitNormalized(plainText with { Text = normalized }))
        {
            if (part.AddedTokenId is int addedId) { ids.Add(addedId); continue; }
            var pieces = new List<Piece>();
            var whole = new Piece(part.Text, part.AtTextStart);
            if (preTokenizer is null) pieces.Add(whole);
            else preTokenizer.Split(whole, pieces);
            foreach (Piece piece in pieces) model.EncodeWord(piece.Text, ids);
        }
    }

    public string Decode(IReadOnlyList<int> ids, IReadOnlyList<string> tokens) =>
        decoder is null ? string.Join(' ', tokens) : string.Concat(decoder.DecodeChain(tokens.ToList()));
}

/// <summary>A SentencePiece <c>tokenizer.model</c>, run by Microsoft.ML.Tokenizers' <see cref="LlamaTokenizer"/>.</summary>
internal sealed class SentencePieceModel(SentencePieceTokenizer tokenizer) : ITokenModel
{
    public IReadOnlyDictionary<string, int> Vocabulary => tokenizer.Vocabulary;

    public void Encode(TextSegment plainText, List<int> ids) =>
        ids.AddRange(tokenizer.EncodeToIds(plainText.Text, addBeginningOfSentence: false, addEndOfSentence: false));

    public string Decode(IReadOnlyList<int> ids, IReadOnlyList<string> tokens) => tokenizer.Decode(ids, considerSpecialTokens: true);
}
