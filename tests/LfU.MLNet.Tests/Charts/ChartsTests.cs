using LfU.MLNet.Evaluation;
using LfU.MLNet.Training;
using Xunit;

namespace LfU.MLNet.Tests.Charts;

using Charts = LfU.MLNet.Evaluation.Charts;

public sealed class ChartsTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-charts-");
    string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    static void AssertPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5000, $"{path} is only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }

    [Fact]
    public void LossCurvesWithConsistencyAndValidationAreWrittenAtomically()
    {
        var history = Enumerable.Range(1, 40).Select(s => new StepMetrics(s, s / 20.0, 2.0 / s + 0.5, 0.01 / s, null, 2.0 / s + 0.5 + 0.05 / s, 1e-4, 1, 64, 0.1)).ToList();
        var result = new TrainingResult(history, [new ValidationResult(20, 0.9, 100), new ValidationResult(40, 0.8, 100)], null, null);
        string png = Path.Combine(_dir, "sub", "loss.png");

        Charts.SaveLossCurves(result, png, "LfU on mini-world");

        AssertPng(png);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(png)!)); // no temporary left behind
    }

    [Fact]
    public void LinesNeedMatchingLengths()
    {
        string png = Path.Combine(_dir, "lines.png");
        Charts.SaveLines(png, "accuracy", "step", "accuracy", new Dictionary<string, (double[], double[])>
        {
            ["sft"] = ([0, 100, 200], [0.1, 0.5, 0.6]),
            ["lfu"] = ([0, 100, 200], [0.1, 0.45, double.NaN]),
        });
        AssertPng(png);

        var e = Assert.Throws<ArgumentException>(() => Charts.SaveLines(png, "t", "x", "y",
            new Dictionary<string, (double[], double[])> { ["bad"] = ([1, 2], [1]) }));
        Assert.Contains("Series 'bad' has 2 x values but 1 y values", e.Message);
        Assert.Throws<ArgumentException>(() => Charts.SaveLossCurves(Array.Empty<StepMetrics>(), png, "t"));
    }
}
