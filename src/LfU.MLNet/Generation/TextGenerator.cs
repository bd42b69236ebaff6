using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using static TorchSharp.torch;

namespace LfU.MLNet.Generation;

/// <summary>
/// Text in, text out over a network: renders prompts with the template (one user message each), generates in batches
/// with stop strings, and scores responses. It borrows the network: disposing it is the owner's job.
/// </summary>
public sealed class TextGenerator : ITextScorer
{
    /// <summary>Prompts generated (or rows scored) together by default.</summary>
    public const int DefaultBatchSize = 8;

    readonly CausalLM _network;
    readonly HfTokenizer _tokenizer;
    readonly ExampleBuilder _prompts;
    readonly Collator _collator;

    /// <summary>Generates with <paramref name="network"/>, encoding and decoding with <paramref name="tokenizer"/>.</summary>
    public TextGenerator(CausalLM network, HfTokenizer tokenizer, PromptTemplate template)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        _network = network;
        _tokenizer = tokenizer;
        Template = template;
        _prompts = new ExampleBuilder(tokenizer, template, new ExampleBuilderOptions { CutoffLength = int.MaxValue / 2 });
        _collator = new Collator(tokenizer);
    }

    /// <summary>The prompt template prompts are rendered with.</summary>
    public PromptTemplate Template { get; }

    /// <summary>Generates a response for each prompt, <paramref name="batchSize"/> prompts at a time.</summary>
    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationSettings? settings = null, int batchSize = DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        settings ??= new GenerationSettings();
        settings.Validate();
        var results = new List<string>(prompts.Count);
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            var chunk = prompts.Skip(start).Take(batchSize).ToList();
            results.AddRange(GenerateBatch(chunk, settings, cancellationToken));
        }
        return results;
    }

    IReadOnlyList<string> GenerateBatch(IReadOnlyList<string> prompts, GenerationSettings settings, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var encoded = prompts.Select(p => _prompts.EncodePrompt(new[] { new ChatMessage("user", p ?? "") })).ToList();
        using var batch = _collator.CollatePrompts(encoded);
        var stops = settings.StopStrings;
        var eos = _tokenizer.EosIds.Append(_prompts.EndOfResponseId).Distinct().ToArray();
        var sampling = new SamplingOptions
        {
            Temperature = settings.Temperature, TopP = settings.TopP, TopK = settings.TopK,
            Seed = settings.Seed ?? Random.Shared.NextInt64(),
        };
        Func<int, IReadOnlyList<long>, bool>? stop = stops.Count == 0 ? null
            : (_, tokens) => { string text = Decode(tokens); return stops.Any(s => text.Contains(s, StringComparison.Ordinal)); };
        var tokens = TokenGenerator.Generate(_network, batch.InputIds, batch.AttentionMask, settings.MaxNewTokens, sampling, eos,
            _tokenizer.PadId, stop, cancellationToken);
        return tokens.Select(t => CutAtStop(Decode(t), stops)).ToList();
    }

    string Decode(IReadOnlyList<long> tokens) => _tokenizer.Decode(tokens.Select(t => (int)t), skipSpecialTokens: true);

    static string CutAtStop(string text, IReadOnlyList<string> stops)
    {
        int cut = text.Length;
        foreach (string s in stops)
        {
            int at = text.IndexOf(s, StringComparison.Ordinal);
            if (at >= 0 && at < cut) cut = at;
        }
        return text[..cut];
    }

    /// <inheritdoc/>
    /// <remarks>Rows are scored <see cref="DefaultBatchSize"/> at a time.</remarks>
    public IReadOnlyList<(double Mean, double Total)> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (prompts.Count != responses.Count) throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses; give one response per prompt.");
        var results = new (double, double)[prompts.Count];
        for (int start = 0; start < prompts.Count; start += DefaultBatchSize)
        {
            var rows = new List<(int Index, TrainingExample Example)>();
            for (int i = start; i < Math.Min(prompts.Count, start + DefaultBatchSize); i++)
            {
                var example = _prompts.Build(prompts[i] ?? "", responses[i] ?? "");
                if (example is null) results[i] = (double.NaN, double.NaN);
                else rows.Add((i, example));
            }
            if (rows.Count == 0) continue;
            using var scope = NewDisposeScope();
            using var batch = _collator.CollateForTraining(rows.Select(r => r.Example).ToList());
            var scores = SequenceScorer.Score(_network, batch.InputIds, batch.AttentionMask, batch.Labels!);
            for (int r = 0; r < rows.Count; r++) results[rows[r].Index] = scores[r];
        }
        return results;
    }
}
