using QuickStart;
using Xunit;

namespace LfU.MLNet.Tests.Examples;

/// <summary>Runs examples/QuickStart's Main in quick mode on the tiny random model (seconds).</summary>
[Collection("Console")] // redirects Console.Out
public sealed class QuickStartTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-quickstart-test-");
    string _output => _temp.Path;

    public void Dispose() => _temp.Dispose();

    static (int ExitCode, string Out, string Error) RunQuickStart(params string[] args)
    {
        var (savedOut, savedError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            object? exit = typeof(QuickStartSettings).Assembly.EntryPoint!.Invoke(null, [args]);
            return ((int)exit!, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(savedOut);
            Console.SetError(savedError);
        }
    }

    [Fact]
    public void QuickModeTrainsEvaluatesSavesAndPredicts()
    {
        var (exit, stdout, stderr) = RunQuickStart("--quick", "--model", TinyTextModel.Path, "--output", _output);

        Assert.True(exit == 0, $"exit code {exit}\n{stderr}\n{stdout}");
        Assert.Contains("8 training rows; test rows: 4 new task, 4 knowledge, 4 arithmetic, 4 reasoning", stdout);
        Assert.Contains("step    2/2", stdout);
        Assert.Matches(@"accuracy\s+base model\s+SFT\s+LfU", stdout);
        foreach (string skill in new[] { "new task", "knowledge", "arithmetic", "reasoning" })
            Assert.Matches(skill + @"\s+\d+(\.\d)? ?%\s+\d+(\.\d)? ?%\s+\d+(\.\d)? ?%", stdout);
        Assert.Matches(@"SFT: new task [+-]\d", stdout);
        Assert.Matches(@"LfU: new task [+-]\d", stdout);
        Assert.Contains("  Q: Lena buys 3 kites", stdout);
        Assert.True(new FileInfo(Path.Combine(_output, "lfu-model.zip")).Length > 0);
        Assert.True(new FileInfo(Path.Combine(_output, "loss.png")).Length > 0);
        Assert.True(File.Exists(Path.Combine(_output, "adapter", "adapter_model.safetensors")));
    }

    [Fact]
    public void DefaultsResolveToTheRepositoryFromAnyWorkingDirectory()
    {
        var settings = QuickStartSettings.Parse([]);

        string root = TinyTextModel.RepositoryRoot();
        Assert.Equal(Path.Combine(root, "data", "models", "mini-world"), settings.ModelFolder);
        Assert.Equal(Path.Combine(root, "data", "mini-world"), settings.DataFolder);
        Assert.Equal(Path.Combine(root, "artifacts", "quickstart"), settings.OutputFolder);
        Assert.Equal((10, null, null, 50), (settings.Epochs, settings.MaxSteps, settings.MaxTrainRows, settings.EvalRows));
    }

    [Theory]
    [InlineData(new[] { "--epochs", "zero" }, "--epochs needs a positive whole number, not 'zero'.")]
    [InlineData(new[] { "--max-train", "-3" }, "--max-train needs a positive whole number, not '-3'.")]
    [InlineData(new[] { "--model" }, "--model needs a value.")]
    [InlineData(new[] { "--lambda", "-1" }, "--lambda needs a non-negative number, not '-1'.")]
    [InlineData(new[] { "--fast" }, "Unknown option '--fast'.")]
    public void BadArgumentsExitWithTheReasonAndUsage(string[] args, string reason)
    {
        var (exit, _, stderr) = RunQuickStart(args);

        Assert.Equal(2, exit);
        Assert.Contains($"quickstart: error: {reason}", stderr);
        Assert.Contains("usage: dotnet run --project examples/QuickStart", stderr);
    }

    [Fact]
    public void AMissingModelFolderIsReportedWithWhatToPass()
    {
        var (exit, _, stderr) = RunQuickStart("--model", Path.Combine(_output, "no-model"), "--output", _output);

        Assert.Equal(1, exit);
        Assert.Contains("no model in", stderr);
        Assert.Contains("Pass --model", stderr);
    }

    [Fact]
    public void AMissingDataFolderIsReportedWithWhatToPass()
    {
        var (exit, _, stderr) = RunQuickStart("--model", TinyTextModel.Path, "--data", Path.Combine(_output, "no-data"), "--output", _output);

        Assert.Equal(1, exit);
        Assert.Contains("no mini-world data in", stderr);
        Assert.Contains("Pass --data", stderr);
    }
}
