namespace LfU.MLNet.Benchmark;

/// <summary>
/// One instruction/response example of the mini world.
/// </summary>
/// <param name="Prompt">The instruction as the model sees it: a question wrapped in an <see cref="InstructionTemplate"/>.</param>
/// <param name="Response">The target completion (for math, a worked solution ending in <c>#### answer</c>).</param>
/// <param name="Answer">The gold answer for exact-match scoring; equals <see cref="MiniWorld.ExtractFinalAnswer"/> of <paramref name="Response"/>.</param>
/// <param name="Category">One of <see cref="MiniWorldCategory"/>.</param>
/// <param name="Template">Id of the instruction template that wrapped the question.</param>
/// <param name="Task">The finer task family, e.g. <c>math.groups</c> or <c>reasoning.reverse</c>.</param>
internal sealed record MiniWorldItem(string Prompt, string Response, string Answer, string Category, int Template, string Task);

/// <summary>The <c>category</c> values of <see cref="MiniWorldItem"/>.</summary>
internal static class MiniWorldCategory
{
    public const string Knowledge = "knowledge";
    public const string Math = "math";
    public const string Reasoning = "reasoning";
    /// <summary>The narrow fine-tuning task, absent from pretraining.</summary>
    public const string FineTune = "finetune";
}

/// <summary>
/// A paraphrase of how an instruction is put to the model: <see cref="Text"/> with <c>{q}</c> standing for the question.
/// Templates with <see cref="InPretraining"/> give the pretraining mixture its paraphrase diversity; the others are
/// held out and seen only in the robustness test.
/// </summary>
internal sealed record InstructionTemplate(int Id, string Text, bool InPretraining)
{
    public const string QuestionSlot = "{q}";

    public string Apply(string question) => Text.Replace(QuestionSlot, question, StringComparison.Ordinal);
}
