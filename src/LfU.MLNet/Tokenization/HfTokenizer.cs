using System.Text.Json;
using LfU.MLNet.IO;
using LfU.MLNet.Tokenization.Pipeline;
using Microsoft.ML.Tokenizers;

namespace LfU.MLNet.Tokenization;

/// <summary>
/// A Hugging Face tokenizer loaded from a model folder: <c>tokenizer.json</c> (byte-level BPE as in Llama 3 and
/// Qwen2/2.5/3, or SentencePiece-style BPE with byte fallback as in Llama 2 and Mistral) or, for older models,
/// <c>tokenizer.model</c>; plus <c>tokenizer_config.json</c> and <c>generation_config.json</c> when present.
/// Encodes to exactly the ids Hugging Face <c>tokenizers</c> produces and decodes back to text.
/// </summary>
/// <remarks>
/// Why <c>tokenizer.json</c> goes through our own pipeline (Tokenization/Pipeline) rather than Microsoft.ML.Tokenizers'
/// <c>BpeTokenizer</c>/<c>TiktokenTokenizer</c>: (1) Microsoft.ML.Tokenizers has no <c>tokenizer.json</c> loader, so
/// its normalizer, pre-tokenizer, added-token and post-processor sections would have to be mapped by hand anyway;
/// (2) its BPE has no byte-fallback option (<c>&lt;0x..&gt;</c> tokens), which Llama 2 and Mistral use for characters
/// outside the vocabulary; (3) its regex pre-tokenizer splits surrogate pairs, so text with characters outside the
/// Basic Multilingual Plane tokenizes differently from Hugging Face (<c>"𝔘'll"</c>). The fixtures under
/// Fixtures/tokenizers (Llama 3, Qwen3) pin our ids to Hugging Face's, case by case. (A SentencePiece
/// <c>tokenizer.model</c> without a <c>tokenizer.json</c> is run by Microsoft.ML.Tokenizers' LlamaTokenizer.)
/// </remarks>
public sealed class HfTokenizer
{
    readonly ITokenModel _model;
    readonly AddedVocabulary _added;
    readonly Dictionary<int, string> _idToToken = new();
    readonly Dictionary<string, int> _addedTokenIds = new(StringComparer.Ordinal);
    readonly HashSet<int> _specialIds = new();
    readonly int[] _prefixIds, _suffixIds;
    readonly List<string> _warnings = new();

    /// <summary>Number of ids: the model vocabulary and the added tokens (largest id + 1).</summary>
    public int VocabularySize { get; }

    /// <summary>Beginning-of-sequence id from <c>tokenizer_config.json</c>'s <c>bos_token</c>, or null (e.g. Qwen).</summary>
    public int? BosId { get; }

    /// <summary>End-of-sequence id from <c>tokenizer_config.json</c>'s <c>eos_token</c> (else generation_config.json's first).</summary>
    public int? EosId { get; }

    /// <summary>
    /// Every id that ends a generation: <see cref="EosId"/>, the ids in <c>generation_config.json</c>'s
    /// <c>eos_token_id</c>, and the chat template's end-of-turn token (<c>&lt;|eot_id|&gt;</c>, <c>&lt;|im_end|&gt;</c>).
    /// </summary>
    public IReadOnlyList<int> EosIds { get; }

    /// <summary>Padding id: <c>pad_token</c> if configured, else the EOS id (see <see cref="Warnings"/>).</summary>
    public int PadId { get; }

    /// <summary>The Jinja chat template from <c>tokenizer_config.json</c>, if any.</summary>
    public string? ChatTemplate { get; }

    /// <summary>Fallbacks taken while loading (e.g. no pad token), worded for the user.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    HfTokenizer(ITokenModel model, AddedVocabulary added, TokenizerConfig config, IReadOnlyList<int> generationEosIds,
                (int[] Prefix, int[] Suffix)? postProcessor)
    {
        _model = model;
        _added = added;
        foreach (var (token, id) in model.Vocabulary) _idToToken[id] = token;
        foreach (AddedToken token in added.Tokens)
        {
            _idToToken[token.Id] = token.Content;
            _addedTokenIds[token.Content] = token.Id;
            if (token.Special) _specialIds.Add(token.Id);
        }
        VocabularySize = _idToToken.Count == 0 ? 0 : _idToToken.Keys.Max() + 1;  // ids are below int.MaxValue (JsonFields.AsTokenId)
        ChatTemplate = config.ChatTemplate;

        BosId = config.BosToken is { } bos ? RequireId(bos, "bos_token") : null;
        EosId = config.EosToken is { } eos ? RequireId(eos, "eos_token") : generationEosIds.Count > 0 ? generationEosIds[0] : null;

        var eosIds = new List<int>();
        if (EosId is int e) eosIds.Add(e);
        eosIds.AddRange(generationEosIds);
        foreach (string endOfTurn in new[] { "<|eot_id|>", "<|im_end|>" })
            if (ChatTemplate?.Contains(endOfTurn, StringComparison.Ordinal) == true && TokenToId(endOfTurn) is int turnEnd) eosIds.Add(turnEnd);
        EosIds = eosIds.Distinct().ToArray();

        if (config.PadToken is { } pad) PadId = RequireId(pad, "pad_token");
        else if (EosId is int eosForPad)
        {
            PadId = eosForPad;
            _warnings.Add($"tokenizer_config.json has no pad_token; padding with the EOS token '{IdToToken(eosForPad)}' ({eosForPad}). Padded positions are masked, so this does not change training.");
        }
        else
        {
            PadId = 0;
            _warnings.Add("tokenizer_config.json has neither pad_token nor eos_token; padding with id 0. Padded positions are masked.");
        }

        // tokenizer_config.json's add_bos_token/add_eos_token, when present, decide what Encode adds (transformers
        // rebuilds the post-processor from them); otherwise tokenizer.json's post_processor does.
        (_prefixIds, _suffixIds) = postProcessor ?? ([], []);
        if (config.AddBosToken is bool addBos) _prefixIds = addBos && BosId is int b ? [b] : [];
        if (config.AddEosToken is bool addEos) _suffixIds = addEos && EosId is int s ? [s] : [];
        if (config.AddBosToken == true && BosId is null) _warnings.Add("tokenizer_config.json sets add_bos_token but has no bos_token; no BOS is added.");
        foreach (int id in _prefixIds.Concat(_suffixIds))
            if (IdToToken(id) is null)
                throw new InvalidDataException($"tokenizer.json: post_processor adds token id {id}, which is not in the vocabulary (size {VocabularySize}); fix its special_tokens ids.");
    }

    int RequireId(string token, string field) =>
        TokenToId(token) ?? throw new InvalidDataException($"tokenizer_config.json: {field} '{token}' is not in the tokenizer's vocabulary.");

    /// <summary>
    /// Loads the tokenizer of a Hugging Face model folder: <c>tokenizer.json</c>, else <c>tokenizer.model</c>
    /// (SentencePiece, Llama 2 style); <c>tokenizer_config.json</c> and <c>generation_config.json</c> are optional.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither tokenizer.json nor tokenizer.model is in the folder.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or uses an unsupported component; the message names the field.</exception>
    public static HfTokenizer FromFolder(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Tokenizer folder '{directory}' does not exist.");
        using JsonDocument? configDocument = ReadJsonIfPresent(Path.Combine(directory, "tokenizer_config.json"));
        TokenizerConfig config = TokenizerConfig.Parse(configDocument);
        using JsonDocument? generationDocument = ReadJsonIfPresent(Path.Combine(directory, "generation_config.json"));
        IReadOnlyList<int> generationEos = ParseGenerationEos(generationDocument);

        string jsonPath = Path.Combine(directory, "tokenizer.json");
        if (RegularFile.Exists(jsonPath))
        {
            using JsonDocument document = ReadJsonIfPresent(jsonPath)!;
            var root = new JsonFields("tokenizer.json", "", document.RootElement);
            if (root.Element.ValueKind != JsonValueKind.Object) throw root.Error("must be a JSON object");
            var addedTokens = ParseAddedTokens(root);
            var model = BpeModel.FromJson(root.Field("model"));
            addedTokens = MergeConfigAddedTokens(addedTokens, config, model.Vocabulary);
            var added = new AddedVocabulary(addedTokens);
            var pipeline = new TokenizerJsonModel(
                TextNormalizer.FromJson(root.TryField("normalizer")),
                TextPreTokenizer.FromJson(root.TryField("pre_tokenizer")),
                model,
                TokenDecoder.FromJson(root.TryField("decoder")),
                added);
            var postProcessor = PostProcessor.FromJson(root.TryField("post_processor"), content =>
                added.Tokens.FirstOrDefault(t => t.Content == content)?.Id ?? (model.Vocabulary.TryGetValue(content, out int id) ? id : null));
            return new HfTokenizer(pipeline, added, config, generationEos, postProcessor);
        }

        string modelPath = Path.Combine(directory, "tokenizer.model");
        if (RegularFile.Exists(modelPath))
        {
            SentencePieceTokenizer sentencePiece;
            byte[] bytes = File.ReadAllBytes(modelPath); // real I/O errors surface here, as themselves
            try
            {
                sentencePiece = LlamaTokenizer.Create(new MemoryStream(bytes, writable: false), addBeginOfSentence: false, addEndOfSentence: false);
            }
            catch (Exception e)
            {
                // Any failure past this point is the file's content (protobuf errors derive from IOException).
                throw new InvalidDataException($"tokenizer.model: not a SentencePiece model this library can read ({e.Message}).", e);
            }
            // Like transformers' LlamaTokenizer: the model's own <s> and </s> unless tokenizer_config.json names others.
            config = config with
            {
                BosToken = config.BosToken ?? (sentencePiece.BeginningOfSentenceId >= 0 ? sentencePiece.BeginningOfSentenceToken : null),
                EosToken = config.EosToken ?? (sentencePiece.EndOfSentenceId >= 0 ? sentencePiece.EndOfSentenceToken : null),
            };
            var addedTokens = MergeConfigAddedTokens([], config, sentencePiece.Vocabulary);
            foreach (var (content, id) in new[] { (sentencePiece.BeginningOfSentenceToken, sentencePiece.BeginningOfSentenceId), (sentencePiece.EndOfSentenceToken, sentencePiece.EndOfSentenceId) })
                if (id >= 0 && addedTokens.All(t => t.Id != id)) addedTokens.Add(new AddedToken(id, content, Special: true));
            var bosDefault = config.AddBosToken is null && sentencePiece.BeginningOfSentenceId >= 0
                ? ((int[])[sentencePiece.BeginningOfSentenceId], (int[])[])   // Llama 2's slow tokenizer adds BOS by default
                : ((int[], int[])?)null;
            return new HfTokenizer(new SentencePieceModel(sentencePiece), new AddedVocabulary(addedTokens), config, generationEos, bosDefault);
        }

        throw new FileNotFoundException($"Tokenizer folder '{directory}' has neither tokenizer.json nor tokenizer.model.");
    }

    /// <summary>
    /// Token ids of <paramref name="text"/>. Added and special tokens written in the text (e.g. "&lt;|im_end|&gt;")
    /// are always recognised as single tokens; <paramref name="addSpecialTokens"/> adds what the tokenizer's
    /// post-processor (or tokenizer_config.json's add_bos_token / add_eos_token) adds, such as BOS.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens) ids.AddRange(_prefixIds);
        foreach (TextSegment segment in _added.SplitRaw(text))
        {
            if (segment.AddedTokenId is int id) ids.Add(id);
            else _model.Encode(segment, ids);
        }
        if (addSpecialTokens) ids.AddRange(_suffixIds);
        return ids.ToArray();
    }

    /// <summary>Text of <paramref name="ids"/>; with <paramref name="skipSpecialTokens"/>, special added tokens are left out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = new List<int>();
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            string token = IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (size {VocabularySize}).");
            if (skipSpecialTokens && _specialIds.Contains(id)) continue;
            kept.Add(id);
            tokens.Add(token);
        }
        return _model.Decode(kept, tokens);
    }

    /// <summary>The id of a token string (as stored in the vocabulary, e.g. "Ġthe"), or null.</summary>
    public int? TokenToId(string token) =>
        _addedTokenIds.TryGetValue(token, out int added) ? added : _model.Vocabulary.TryGetValue(token, out int id) ? id : null;

    /// <summary>The token string of an id, or null if the id is not in the vocabulary.</summary>
    public string? IdToToken(int id) => _idToToken.GetValueOrDefault(id);

    /// <summary>Whether <paramref name="id"/> is a special added token (skipped by <see cref="Decode"/>).</summary>
    public bool IsSpecial(int id) => _specialIds.Contains(id);

    static JsonDocument? ReadJsonIfPresent(string path)
    {
        if (!RegularFile.Exists(path)) return null;
        try
        {
            using FileStream stream = File.OpenRead(path);
            // Duplicate keys are refused: which of the two counts is a guess no file should leave to the reader.
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)}: not valid JSON ({e.Message}).", e);
        }
    }

    static List<AddedToken> ParseAddedTokens(JsonFields root)
    {
        var tokens = new List<AddedToken>();
        if (root.TryField("added_tokens") is not { } list) return tokens;
        foreach (JsonFields t in list.Items())
            tokens.Add(new AddedToken(t.TokenId("id"), t.String("content"), t.Bool("special", false), t.Bool("normalized", false),
                                      t.Bool("lstrip", false), t.Bool("rstrip", false), t.Bool("single_word", false)));
        return tokens;
    }

    /// <summary>Adds tokenizer_config.json's <c>added_tokens_decoder</c> entries that tokenizer.json lacks.</summary>
    static List<AddedToken> MergeConfigAddedTokens(List<AddedToken> tokens, TokenizerConfig config, IReadOnlyDictionary<string, int> vocabulary)
    {
        var known = tokens.Select(t => t.Id).ToHashSet();
        foreach (AddedToken token in config.AddedTokens)
        {
            if (known.Contains(token.Id)) continue;
            if (vocabulary.TryGetValue(token.Content, out int existing) && existing != token.Id)
                throw new InvalidDataException($"tokenizer_config.json: added_tokens_decoder gives '{token.Content}' id {token.Id}, but the vocabulary has it as {existing}.");
            tokens.Add(token);
            known.Add(token.Id);
        }
        return tokens;
    }

    static IReadOnlyList<int> ParseGenerationEos(JsonDocument? document)
    {
        if (document is null) return [];
        var root = new JsonFields("generation_config.json", "", document.RootElement);
        if (root.TryField("eos_token_id") is not { } eos) return [];
        return eos.Element.ValueKind == JsonValueKind.Array
            ? eos.Items().Select(i => i.AsTokenId()).ToArray()
            : [eos.AsTokenId()];
    }
}
