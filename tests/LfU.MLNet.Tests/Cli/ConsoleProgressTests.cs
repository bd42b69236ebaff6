using LfU.Cli;
using LfU.MLNet.Training;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

public sealed class ConsoleProgressTests
{
    static TrainingProgress Step(int step, int total, ValidationResult? validation = null) =>
        new(new StepMetrics(step, step / 10.0, 1.25, 0.0068, null, 1.284, 1e-4, 0.5, 100, 0.1), total,
            TimeSpan.FromSeconds(step), TimeSpan.FromSeconds(192), 850, validation, null);

    [Fact]
    public void RedirectedOutputGetsPlainLinesEveryNStepsAndTheLast()
    {
        var output = new StringWriter();
        using (var progress = new ConsoleProgress(output, inPlace: false, printEvery: 10))
            for (int step = 1; step <= 25; step++) progress.Report(Step(step, 25));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(new[] { "step 1/25", "step 10/25", "step 20/25", "step 25/25" }, lines.Select(l => string.Join(' ', l.Split(' ').Take(2))));
        Assert.Equal("step 10/25 loss 1.284 (sft 1.250, cons 0.0068) lr 1.0e-04 850 tok/s ETA 00:03:12", lines[1].TrimEnd());
        Assert.DoesNotContain('\r', output.ToString());
    }

    [Fact]
    public void ATerminalGetsOneLineRedrawnInPlace()
    {
        var output = new StringWriter();
        var progress = new ConsoleProgress(output, inPlace: true);
        progress.Report(Step(12, 300));
        progress.Report(Step(13, 300, new ValidationResult(13, 0.75, 40)));
        progress.Update("step", 300, 300, "", null);
        progress.Complete();
        progress.Complete(); // idempotent

        string text = output.ToString();
        Assert.StartsWith("\r[#...................] step 12/300 loss 1.284", text);
        Assert.Contains("\n" + "step 13: validation loss 0.7500 (40 tokens)\n", text);
        string last = text[(text.LastIndexOf('\r') + 1)..];
        Assert.Equal("[####################] step 300/300", last.TrimEnd()); // padded over the longer line before
        Assert.EndsWith("\n", last);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("validation"));
    }
}
