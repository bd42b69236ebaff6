using LfU.MLNet.Tokenization;

namespace LfU.MLNet.Training;

/// <summary>Training (or validation) examples built from rows, with the report of what was kept, cut and skipped.</summary>
/// <param name="Examples">The examples, in row order, without the skipped rows.</param>
/// <param name="Report">Counts of the rows and why each skipped one was skipped (by row position).</param>
public sealed record FineTuningExamples(IReadOnlyList<TrainingExample> Examples, ExampleReport Report);
