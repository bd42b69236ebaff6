using LfU.MLNet.Benchmark;
using Xunit;

namespace LfU.MLNet.Tests.Benchmark;

public class BenchmarkMetricsTests
{
    static MiniWorldItem Item(string answer, int template = 0) => new("q", "r", answer, MiniWorldCategory.FineTune, template, "t");

    [Fact]
    public void ExactMatchComparesTheFinalAnswer()
    {
        Assert.True(BenchmarkMetrics.IsCorrect("Cost: 7 * 5 = 35\nChange: 40 - 35 = 5\n#### 5", Item("5")));
        Assert.True(BenchmarkMetrics.IsCorrect("  Lund \n", Item("Lund")));
        Assert.False(BenchmarkMetrics.IsCorrect("#### 55", Item("5")));
        Assert.False(BenchmarkMetrics.IsCorrect("The answer is 5", Item("5")));
        // Only the last marker counts.
        Assert.False(BenchmarkMetrics.IsCorrect("#### 5\n#### 6", Item("5")));
        Assert.False(BenchmarkMetrics.IsCorrect("lund", Item("Lund")));
    }

    [Fact]
    public void AccuracyAndPerTemplateAccuracy()
    {
        var items = new[] { Item("1", 1), Item("2", 1), Item("3", 2), Item("4", 2), Item("5", 2), Item("6", 3) };
        var outputs = new[] { "#### 1", "#### 0", "3", "#### 4", "#### 5", "nothing" };
        Assert.Equal(4.0 / 6, BenchmarkMetrics.Accuracy(items, outputs), 12);

        var byTemplate = BenchmarkMetrics.AccuracyByTemplate(items, outputs);
        Assert.Equal([1, 2, 3], byTemplate.Keys);
        Assert.Equal(0.5, byTemplate[1], 12);
        Assert.Equal(1.0, byTemplate[2], 12);
        Assert.Equal(0.0, byTemplate[3], 12);

        var (mean, std) = BenchmarkMetrics.MeanAndPopulationStd(byTemplate.Values);
        Assert.Equal(0.5, mean, 12);
        Assert.Equal(Math.Sqrt(1.0 / 6), std, 12); // deviations 0, 0.5, -0.5 over 3 templates

        Assert.Throws<ArgumentException>(() => BenchmarkMetrics.Accuracy(items, outputs.Take(5).ToList()));
        Assert.Throws<ArgumentException>(() => BenchmarkMetrics.Accuracy([], []));
    }

    [Fact]
    public void SampleStdOverSeeds()
    {
        var (mean, std) = BenchmarkMetrics.MeanAndSampleStd([0.5, 1.0]);
        Assert.Equal(0.75, mean, 12);
        Assert.Equal(Math.Sqrt(0.125), std, 12);
        Assert.Equal((0.3, 0.0), BenchmarkMetrics.MeanAndSampleStd([0.3]));
        Assert.Throws<ArgumentException>(() => BenchmarkMetrics.MeanAndSampleStd([]));
    }
}
