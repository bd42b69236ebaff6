using Xunit;

namespace LfU.MLNet.Tests.Examples;

/// <summary>
/// Runs examples/notebooks/LfU-QuickStart.ipynb cell by cell (see <see cref="NotebookRunner"/>). The notebook reads
/// LFU_NOTEBOOK_QUICK=1 (2 training steps on 8 rows, 4 test rows, 8 new tokens, output in a temporary folder) and
/// LFU_NOTEBOOK_MODEL (here the tiny random model), so the run takes seconds.
/// </summary>
[Collection("Console")] // the cells write to Console.Out
public sealed class NotebookTests
{
    static string NotebookPath => Path.Combine(TinyTextModel.RepositoryRoot(), "examples", "notebooks", "LfU-QuickStart.ipynb");

    [Fact]
    public async Task The_quick_start_notebook_runs_every_cell()
    {
        var cells = NotebookRunner.CodeCells(NotebookPath);
        var globals = new NotebookGlobals();
        var savedOut = Console.Out;
        Console.SetOut(new StringWriter());
        Environment.SetEnvironmentVariable("LFU_NOTEBOOK_QUICK", "1");
        Environment.SetEnvironmentVariable("LFU_NOTEBOOK_MODEL", TinyTextModel.Path);
        string? outputFolder = null;
        try
        {
            var state = await NotebookRunner.RunAsync(cells, globals);
            outputFolder = (string)state.GetVariable("outputFolder")!.Value;

            Assert.True(File.Exists((string)state.GetVariable("zipPath")!.Value), "the notebook saves the ML.NET model zip");
            Assert.True(File.Exists(Path.Combine(outputFolder, "loss.png")), "the notebook saves the loss plot");
            Assert.True(File.Exists(Path.Combine(outputFolder, "adapter", "adapter_config.json")), "the notebook exports the adapter");
            Assert.Contains(globals.Displayed, v => v is string html && html.StartsWith("<img src=\"data:image/png;base64,", StringComparison.Ordinal));
            object prediction = state.GetVariable("answer")!.Value;
            Assert.IsType<string>(prediction.GetType().GetProperty("Generated")!.GetValue(prediction)); // the prediction engine answered
        }
        finally
        {
            Environment.SetEnvironmentVariable("LFU_NOTEBOOK_QUICK", null);
            Environment.SetEnvironmentVariable("LFU_NOTEBOOK_MODEL", null);
            Console.SetOut(savedOut);
            if (outputFolder is not null) Directory.Delete(outputFolder, recursive: true);
        }
    }

    [Fact]
    public void TheNotebookIsACSharpNotebookReferencingThisRepositoryBuild()
    {
        var cells = NotebookRunner.CodeCells(NotebookPath);

        Assert.Contains("#r \"../QuickStart/bin/Release/net10.0/LfU.MLNet.dll\"", cells[0]);
        Assert.Contains("// ", cells[0]); // the NuGet alternative is a comment, not a line the kernel runs
        Assert.DoesNotContain(cells[0].Split('\n'), line => line.TrimStart().StartsWith("#r \"nuget:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_cell_that_throws_fails_the_run_naming_the_cell()
    {
        string[] cells = ["int x = 41;", "x++;", "if (x == 42) throw new System.IO.InvalidDataException(\"boom\");"];

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => NotebookRunner.RunAsync(cells, new NotebookGlobals()));

        Assert.StartsWith("Notebook code cell 3 threw InvalidDataException: boom", e.Message);
    }

    [Fact]
    public async Task A_cell_that_does_not_compile_fails_the_run_naming_the_cell()
    {
        string[] cells = ["var y = 1;", "string s = y;"];

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => NotebookRunner.RunAsync(cells, new NotebookGlobals()));

        Assert.StartsWith("Notebook code cell 2 does not compile:", e.Message);
        Assert.Contains("CS0029", e.Message);
    }

    [Fact]
    public async Task A_nuget_reference_is_refused_as_it_needs_the_kernel()
    {
        string[] cells = ["#r \"nuget: LfU.MLNet, 0.1.0\""];

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => NotebookRunner.RunAsync(cells, new NotebookGlobals()));

        Assert.Contains("Code cell 1: '#r \"nuget: LfU.MLNet, 0.1.0\"' needs a NuGet restore", e.Message);
    }
}
