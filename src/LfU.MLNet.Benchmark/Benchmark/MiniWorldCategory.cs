namespace LfU.MLNet.Benchmark;

/// <summary>The <c>category</c> values of <see cref="MiniWorldItem"/>.</summary>
internal static class MiniWorldCategory
{
    public const string Knowledge = "knowledge";
    public const string Math = "math";
    public const string Reasoning = "reasoning";
    /// <summary>The narrow fine-tuning task, absent from pretraining.</summary>
    public const string FineTune = "finetune";
}
