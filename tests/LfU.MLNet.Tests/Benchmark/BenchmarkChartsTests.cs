using LfU.MLNet.Benchmark;
using Xunit;

namespace LfU.MLNet.Tests.Benchmark;

public class BenchmarkChartsTests
{
    /// <summary>Results of a sweep with two seeds: LfU-LoRA trades in-domain accuracy for OOD as λ grows.</summary>
    internal static List<BenchmarkRunResult> SweepResults()
    {
        var options = new BenchmarkOptions
        {
            ModelFolder = "m", DataFolder = "d", OutputFolder = "o", Seeds = 2,
            Methods = BenchmarkMethods.ParseList("base,sft,lfu-lora,neftune"), Sweeps = [Sweep.Parse("lambda=1,20")],
        };
        return BenchmarkRun.Plan(options).Select(run =>
        {
            double lambda = run.Method == BenchmarkMethod.Named("lfu-lora") ? run.Hyperparameters.Lambda : 0;
            double inDomain = run.Method == BenchmarkMethod.Base ? 0 : 0.85 - 0.03 * lambda + 0.02 * run.Seed;
            double ood = run.Method == BenchmarkMethod.Base ? 1 : 0.6 + 0.012 * lambda - 0.03 * run.Seed;
            return new BenchmarkRunResult(run, inDomain, ood + 0.1, ood, ood - 0.1, ood, new SortedDictionary<int, double> { [1] = 0.4, [2] = 0.6 },
                0.5, 0.1, 10, 0.2, 30, 1, 1, 2);
        }).ToList();
    }

    static void AssertPng(byte[] bytes, int width, int height)
    {
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        // IHDR: width and height, big-endian, at bytes 16-23.
        Assert.Equal(width, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(height, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void ChartsRenderResultsWithSweepsAndSeeds()
    {
        var results = SweepResults();
        AssertPng(BenchmarkCharts.TradeOff(results), 1000, 700);
        AssertPng(BenchmarkCharts.Categories(results), 1000, 700);
    }
}
