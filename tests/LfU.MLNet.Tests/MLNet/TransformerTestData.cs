using Microsoft.ML;
using Microsoft.ML.Data;

namespace LfU.MLNet.Tests.MLNet;

public sealed class PromptRow
{
    public string Prompt { get; set; } = "";
}

public sealed class PromptResponseRow
{
    public string Prompt { get; set; } = "";
    public string Response { get; set; } = "";
}

public sealed class TransformedRow
{
    public string Prompt { get; set; } = "";
    public string Response { get; set; } = "";
    public string Generated { get; set; } = "";
    public double ScoreMean { get; set; }
    public double ScoreTotal { get; set; }
}

internal static class TransformerTestData
{
    public static List<PromptResponseRow> Rows(int count) =>
        Enumerable.Range(0, count).Select(i => new PromptResponseRow { Prompt = $"prompt {i} é", Response = new string('r', i + 1) }).ToList();

    public static List<TransformedRow> Run(MLContext mlContext, ITransformer transformer, IEnumerable<PromptResponseRow> rows) =>
        mlContext.Data.CreateEnumerable<TransformedRow>(transformer.Transform(mlContext.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();
}
