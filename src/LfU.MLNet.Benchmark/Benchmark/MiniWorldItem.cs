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
