namespace LfU.MLNet.Benchmark;

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
