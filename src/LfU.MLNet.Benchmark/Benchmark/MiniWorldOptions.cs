namespace LfU.MLNet.Benchmark;

/// <summary>Sizes and seed of a generated mini world. Every split is drawn from its own random stream of
/// <see cref="Seed"/>, so changing one size leaves the other splits unchanged.</summary>
internal sealed record MiniWorldOptions
{
    public int Seed { get; init; } = 1234;
    /// <summary>Pretraining examples; the default suits a model of about 5-10M parameters.</summary>
    public int PretrainSize { get; init; } = 30_000;
    public int FineTuneTrainSize { get; init; } = 300;
    public int FineTuneTestSize { get; init; } = 200;
    public int OodKnowledgeSize { get; init; } = 300;
    public int OodMathSize { get; init; } = 300;
    public int OodReasoningSize { get; init; } = 300;
    /// <summary>People in the synthetic world (at most <see cref="MiniWorld.MaxPeople"/>).</summary>
    public int People { get; init; } = 200;

    /// <summary>Largest out-of-domain test set.</summary>
    public const int MaxOodSize = 1000;

    internal void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive, got {value}.");
        }
        Positive(PretrainSize, nameof(PretrainSize));
        Positive(FineTuneTrainSize, nameof(FineTuneTrainSize));
        Positive(FineTuneTestSize, nameof(FineTuneTestSize));
        Positive(OodKnowledgeSize, nameof(OodKnowledgeSize));
        Positive(OodMathSize, nameof(OodMathSize));
        Positive(OodReasoningSize, nameof(OodReasoningSize));
        Positive(People, nameof(People));
        // Out-of-domain questions are withheld from pretraining; large test sets would take whole small families
        // (string operations on a few dozen words) away from it.
        foreach (var (size, name) in new[] { (OodKnowledgeSize, nameof(OodKnowledgeSize)), (OodMathSize, nameof(OodMathSize)), (OodReasoningSize, nameof(OodReasoningSize)) })
            if (size > MaxOodSize)
                throw new ArgumentOutOfRangeException(name, size, $"{name} must be at most {MaxOodSize}, got {size}: its questions are withheld from pretraining.");
        if (People > MiniWorld.MaxPeople)
            throw new ArgumentOutOfRangeException(nameof(People), People, $"People must be at most {MiniWorld.MaxPeople} (one per first/last name pair), got {People}.");
    }
}
