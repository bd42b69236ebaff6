namespace LfU.MLNet.Training;

/// <summary>One objective's timings from <see cref="StepBenchmark.Run"/>.</summary>
/// <param name="Objective">The objective's benchmark name (sft, lfu-lora, lfu-lora-independent, lfu-reps).</param>
/// <param name="MedianSeconds">Median wall-clock time of one training step (objective + AdamW), device synchronised.</param>
/// <param name="TokensPerSecond">batch · sequence / median step time.</param>
/// <param name="PeakMemoryBytes">Peak memory so far (see <see cref="MemoryProbe"/>): monotone over the run, so read it per objective in the order run.</param>
/// <param name="FlopsPerStep">Estimated matmul FLOPs of one step (see <see cref="StepBenchmark.StepFlops"/>).</param>
internal sealed record BenchmarkResult(string Objective, double MedianSeconds, double TokensPerSecond, long? PeakMemoryBytes, double FlopsPerStep)
{
    /// <summary>Achieved matmul throughput, FLOP/s.</summary>
    public double FlopsPerSecond => FlopsPerStep / MedianSeconds;
}
