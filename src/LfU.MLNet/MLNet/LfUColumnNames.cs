namespace LfU.MLNet;

/// <summary>
/// Names of the columns an <see cref="LfUTransformer"/> reads and adds.
/// </summary>
internal sealed record LfUColumnNames
{
    public string Prompt { get; init; } = "Prompt";
    public string Response { get; init; } = "Response";
    public string Generated { get; init; } = "Generated";
    public string ScoreMean { get; init; } = "ScoreMean";
    public string ScoreTotal { get; init; } = "ScoreTotal";

    internal void Validate()
    {
        string[] all = [Prompt, Response, Generated, ScoreMean, ScoreTotal];
        if (all.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("Column names must not be empty.");
        string[] outputs = [Generated, ScoreMean, ScoreTotal];
        if (outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Length)
            throw new ArgumentException($"The output column names must differ: '{Generated}', '{ScoreMean}', '{ScoreTotal}'.");
    }
}
