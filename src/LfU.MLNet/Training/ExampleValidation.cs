using LfU.MLNet.Tokenization;

namespace LfU.MLNet.Training;

/// <summary>Checks of tokenized examples before any training time is spent.</summary>
internal static class ExampleValidation
{
    /// <summary>Checks every example up front so that a bad one is named before any training time is spent.</summary>
    public static void Validate(IReadOnlyList<TrainingExample> examples, long vocabSize, string what)
    {
        if (examples.Count == 0) throw new ArgumentException($"The {what} data is empty; give at least one example.");
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i] ?? throw new ArgumentException($"{what} example {i} is null.");
            if (e.InputIds is null || e.Labels is null) throw new ArgumentException($"{what} example {i} has no InputIds or Labels.");
            if (e.InputIds.Length == 0) throw new ArgumentException($"{what} example {i} has no tokens.");
            if (e.InputIds.Length != e.Labels.Length)
                throw new ArgumentException($"{what} example {i} has {e.InputIds.Length} input ids but {e.Labels.Length} labels; they must be the same length (-100 where nothing is learnt).");
            for (int t = 0; t < e.InputIds.Length; t++)
            {
                if (e.InputIds[t] < 0 || e.InputIds[t] >= vocabSize)
                    throw new ArgumentException($"{what} example {i}, position {t}: token id {e.InputIds[t]} is outside the model's vocabulary [0, {vocabSize}).");
                if (e.Labels[t] != TrainingExample.IgnoreIndex && (e.Labels[t] < 0 || e.Labels[t] >= vocabSize))
                    throw new ArgumentException($"{what} example {i}, position {t}: label {e.Labels[t]} is neither -100 nor a token id in [0, {vocabSize}).");
            }
            // The loss predicts position t from t-1, so a label on the first position is never learnt.
            if (!e.Labels.Skip(1).Any(l => l != TrainingExample.IgnoreIndex))
                throw new ArgumentException($"{what} example {i} has no response token to learn (all labels after the first position are -100); check the prompt/response split.");
        }
    }
}
