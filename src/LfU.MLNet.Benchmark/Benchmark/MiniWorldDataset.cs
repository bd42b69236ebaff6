namespace LfU.MLNet.Benchmark;

/// <summary>All splits of one generated mini world. <c>Robustness</c> holds the fine-tuning test questions again,
/// under every template other than the canonical one.</summary>
internal sealed record MiniWorldDataset(
    MiniWorldOptions Options,
    IReadOnlyList<InstructionTemplate> Templates,
    IReadOnlyList<MiniWorldItem> Pretrain,
    IReadOnlyList<MiniWorldItem> FineTuneTrain,
    IReadOnlyList<MiniWorldItem> FineTuneTest,
    IReadOnlyList<MiniWorldItem> Robustness,
    IReadOnlyList<MiniWorldItem> OodKnowledge,
    IReadOnlyList<MiniWorldItem> OodMath,
    IReadOnlyList<MiniWorldItem> OodReasoning);
