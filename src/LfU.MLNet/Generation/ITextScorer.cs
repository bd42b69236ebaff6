namespace LfU.MLNet.Generation;

/// <summary>Scores responses given prompts: what multiple-choice evaluation needs of a model.</summary>
public interface ITextScorer
{
    /// <summary>
    /// Mean and total log-probability (natural log) of each response given its prompt, over the response's tokens
    /// including the end-of-turn token that closes it; one pair per prompt, in order. An empty response scores (NaN, NaN).
    /// </summary>
    IReadOnlyList<(double Mean, double Total)> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses);
}
