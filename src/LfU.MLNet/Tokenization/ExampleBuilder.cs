namespace LfU.MLNet.Tokenization;

/// <summary>
/// Turns (prompt, response) pairs or chat conversations into <see cref="TrainingExample"/>s: the prompt rendered by a
/// <see cref="PromptTemplate"/>, the response followed by the end token (the template's end-of-turn token, else EOS),
/// labels -100 on the prompt unless <see cref="ExampleBuilderOptions.TrainOnPrompt"/>. Prompt and response are
/// tokenized separately, so the boundary between them is exact. Too-long examples are cut to keep as much of the
/// response as possible: first the prompt from the left (keeping BOS), then the end of the response. Every cut or
/// skipped example is counted in <see cref="Report"/>.
/// </summary>
public sealed class ExampleBuilder
{
    readonly HfTokenizer _tokenizer;
    readonly PromptTemplate _template;
    readonly ExampleBuilderOptions _options;
    readonly int _endId;
    readonly string? _bosText;

    /// <summary>The running count of examples built, truncated and skipped.</summary>
    public ExampleReport Report { get; } = new();

    /// <exception cref="ArgumentException">The cutoff is below 2, or the tokenizer has no token to end a response.</exception>
    public ExampleBuilder(HfTokenizer tokenizer, PromptTemplate template, ExampleBuilderOptions? options = null)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _template = template ?? throw new ArgumentNullException(nameof(template));
        _options = options ?? new ExampleBuilderOptions();
        if (_options.CutoffLength < 2) throw new ArgumentException($"CutoffLength must be at least 2, got {_options.CutoffLength}.", nameof(options));
        _endId = template.EndOfTurn.Length > 0
            ? tokenizer.TokenToId(template.EndOfTurn) ?? throw new ArgumentException($"The '{template.Name}' template ends turns with '{template.EndOfTurn}', which is not a token of this tokenizer; pick another template.", nameof(template))
            : tokenizer.EosId ?? throw new ArgumentException("The tokenizer has no eos_token (tokenizer_config.json), so responses cannot be ended; add one.", nameof(tokenizer));
        _bosText = tokenizer.BosId is int bos ? tokenizer.IdToToken(bos) : null;
    }

    /// <summary>Builds one example from an instruction and its response; null if it was skipped (see <see cref="Report"/>).</summary>
    public TrainingExample? Build(string prompt, string response, string? system = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(response);
        var messages = new List<ChatMessage>();
        if (system is not null) messages.Add(new ChatMessage("system", system));
        messages.Add(new ChatMessage("user", prompt));
        messages.Add(new ChatMessage("assistant", response));
        return Build(messages);
    }

    /// <summary>
    /// Builds one example from a conversation whose last message is the assistant reply to learn; earlier messages
    /// form the prompt. Null if it was skipped (see <see cref="Report"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The last message is not from the assistant.</exception>
    public TrainingExample? Build(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count < 2 || messages[^1].Role != "assistant")
            throw new ArgumentException("A training conversation must end with the assistant message to learn, after at least one other message.", nameof(messages));
        int index = Report.Total++;

        string reply = messages[^1].Content;
        if (reply.Length == 0) { Report.Skip(index, "empty response"); return null; }

        int[] promptIds = EncodePrompt(messages.Take(messages.Count - 1).ToList());
        string replyText = _template is ChatMlTemplate chatMl ? chatMl.RenderReply(reply) : reply;
        int[] responseIds = [.. _tokenizer.Encode(replyText, addSpecialTokens: false), _endId];

        (promptIds, responseIds, bool truncated) = Fit(promptIds, responseIds);
        if (responseIds.Length == 0) { Report.Skip(index, $"prompt alone fills the {_options.CutoffLength}-token cutoff"); return null; }

        var inputIds = new int[promptIds.Length + responseIds.Length];
        var labels = new int[inputIds.Length];
        promptIds.CopyTo(inputIds, 0);
        responseIds.CopyTo(inputIds, promptIds.Length);
        for (int i = 0; i < labels.Length; i++)
            labels[i] = i >= promptIds.Length || _options.TrainOnPrompt ? inputIds[i] : TrainingExample.IgnoreIndex;

        // The model predicts token t from tokens before it, so a label at position 0 teaches nothing.
        if (!labels.Skip(1).Any(l => l != TrainingExample.IgnoreIndex)) { Report.Skip(index, "no token left to predict"); return null; }
        if (truncated) Report.Truncated++;
        return new TrainingExample(inputIds, labels);
    }

    /// <summary>
    /// The token ids a model reads before it answers: the template's generation prompt for the conversation so far,
    /// exactly as training examples begin (no truncation).
    /// </summary>
    public int[] EncodePrompt(IReadOnlyList<ChatMessage> messages)
    {
        string promptText = _template.RenderGenerationPrompt(messages);
        // The rendered prompt may already start with BOS (Llama 3's template writes it); do not add a second one.
        bool promptHasBos = _bosText is not null && promptText.StartsWith(_bosText, StringComparison.Ordinal);
        return _tokenizer.Encode(promptText, addSpecialTokens: !promptHasBos);
    }

    /// <summary>The token that ends a response (the template's end of turn, else EOS).</summary>
    public int EndOfResponseId => _endId;

    /// <summary>Builds every (prompt, response) pair; skipped ones are left out and counted in <see cref="Report"/>.</summary>
    public List<TrainingExample> BuildAll(IEnumerable<(string Prompt, string Response)> pairs) =>
        pairs.Select(p => Build(p.Prompt, p.Response)).OfType<TrainingExample>().ToList();

    /// <summary>Cuts to the cutoff: prompt from the left first (keeping a leading BOS), then the response's end.</summary>
    (int[] Prompt, int[] Response, bool Truncated) Fit(int[] prompt, int[] response)
    {
        int cutoff = _options.CutoffLength;
        if (prompt.Length + response.Length <= cutoff) return (prompt, response, false);

        int keptBos = prompt.Length > 0 && prompt[0] == _tokenizer.BosId ? 1 : 0;
        int promptRoom = Math.Max(keptBos, cutoff - response.Length);
        if (promptRoom < prompt.Length)
            prompt = [.. prompt.AsSpan(0, keptBos), .. prompt.AsSpan(prompt.Length - (promptRoom - keptBos))];
        int responseRoom = Math.Max(0, cutoff - prompt.Length);
        if (responseRoom < response.Length) response = response[..responseRoom];
        return (prompt, response, true);
    }
}
