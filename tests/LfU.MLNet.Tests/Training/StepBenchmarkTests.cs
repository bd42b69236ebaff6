using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using LfU.MLNet.Training;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Training;

public class StepBenchmarkTests
{
    [Fact]
    public void EveryBenchmarkObjectiveRunsAndCountsItsPasses()
    {
        using var model = PretrainedModel.Load(FixturePaths.Model("llama-tiny"));
        LoraAdapters.Attach(model, new LoraConfig(), seed: 0);
        foreach (var (_, p) in LoraAdapters.Parameters(model)) p.requires_grad = true;
        var memory = new MemoryProbe(model.Device);
        var results = StepBenchmark.DefaultObjectives.ToDictionary(k => k, k => StepBenchmark.Run(model, k, batch: 2, sequence: 16, steps: 1, warmup: 0, memory));
        Assert.All(results.Values, r => Assert.True(r.MedianSeconds > 0 && r.TokensPerSecond > 0 && r.PeakMemoryBytes > 0));
        double sft = results["sft"].FlopsPerStep;
        Assert.Equal(2 * sft, results["lfu-lora"].FlopsPerStep);
        Assert.Equal(2 * sft, results["lfu-reps"].FlopsPerStep);
        Assert.Equal(3 * sft, results["lfu-lora-independent"].FlopsPerStep);
        // llama-tiny: 3 layers × (64·64·2 + 64·32·2 + 3·64·160) + 64·512 projection weights; 32 tokens of length 16, 4 heads × 16.
        double forward = 32 * (2 * (3 * (8192 + 4096 + 30720) + 32768.0) + 4.0 * 3 * 16 * 64);
        Assert.Equal(2 * forward, sft);
    }
}
