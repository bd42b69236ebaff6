using LfU.MLNet.Tokenization;

namespace LfU.MLNet.Training;

/// <summary>What a <see cref="FineTuningJob"/> hands back.</summary>
/// <param name="Base">The base model, now trained in place: its network (in eval mode, gradients off), tokenizer and template.</param>
/// <param name="Examples">The report of the training examples.</param>
/// <param name="ValidationExamples">The report of the validation examples; null without validation data.</param>
/// <param name="Training">The training run: per-step metrics, validation losses, the last checkpoint.</param>
public sealed record FineTuningResult(BaseModel Base, ExampleReport Examples, ExampleReport? ValidationExamples, TrainingResult Training);
