using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// The trainer's batching: examples right-padded to a common length (rounded up to a multiple), attention mask 0 and
/// label -100 on padding. Kept minimal and in one place so that a shared collator can replace it.
/// </summary>
internal static class RightPaddingCollate
{
    public static TokenBatch Collate(IReadOnlyList<TrainingExample> examples, long padTokenId, int padToMultipleOf, Device device)
    {
        int longest = examples.Max(e => e.InputIds.Length);
        int length = (longest + padToMultipleOf - 1) / padToMultipleOf * padToMultipleOf;
        int rows = examples.Count;
        var ids = new long[rows * length];
        var mask = new long[rows * length];
        var labels = new long[rows * length];
        Array.Fill(ids, padTokenId);
        Array.Fill(labels, TrainingExample.IgnoreIndex);
        for (int r = 0; r < rows; r++)
        {
            var e = examples[r];
            e.InputIds.CopyTo(ids, r * length);
            e.Labels.CopyTo(labels, r * length);
            Array.Fill(mask, 1L, r * length, e.InputIds.Length);
        }
        return new TokenBatch(
            tensor(ids, new long[] { rows, length }).to(device),  // (B, T)
            tensor(mask, new long[] { rows, length }).to(device),
            tensor(labels, new long[] { rows, length }).to(device));
    }

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
