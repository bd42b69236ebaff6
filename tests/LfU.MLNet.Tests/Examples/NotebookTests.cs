using System.Text.Json.Nodes;
using Xunit;

namespace LfU.MLNet.Tests.Examples;

/// <summary>
/// Runs examples/notebooks/*.ipynb in the .NET Interactive C# kernel — the kernel Jupyter's .net-csharp and VS Code's
/// Polyglot Notebooks host — in a fresh process (tests/LfU.MLNet.NotebookHost), as a user's notebook runs: the first
/// cell's <c>#r "nuget: LfU.MLNet"</c> restores the packages that scripts/pack-local-feed.sh packed into a local feed
/// (a source of the user's NuGet configuration), and TorchSharp and SkiaSharp load from the NuGet cache with no build step (on Debian 12
/// TorchSharp's library needs LfU.MLNet's run-time GLIBCXX fix-up). LFU_NOTEBOOK_QUICK=1 (2 training steps on 8 rows,
/// 8 new tokens) on the tiny random model keeps the run short.
/// </summary>
public sealed class NotebookTests : IDisposable
{
    readonly TempFolder _temp = new("lfu-notebook-test-");

    public void Dispose() => _temp.Dispose();

    static string Root => TinyTextModel.RepositoryRoot();

    /// <summary>The host, built beside this test assembly's configuration.</summary>
    static string HostDll
    {
        get
        {
            string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0
            string dll = Path.Combine(Root, "tests", "LfU.MLNet.NotebookHost", "bin", configuration, "net10.0", "LfU.MLNet.NotebookHost.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing: build the solution (dotnet test LfU.MLNet.sln builds it).");
            return dll;
        }
    }

    /// <summary>The notebook host on <paramref name="notebook"/>, with the dotnet that runs these tests.</summary>
    static ChildProcessResult RunNotebook(string notebook, IReadOnlyDictionary<string, string>? environment = null) =>
        ChildProcess.RunDotnet(HostDll, [notebook], environment, workingDirectory: Root);

    [Fact]
    public void EveryNotebookRunsInTheRealKernelFromTheNuGetPackages()
    {
        ChildProcess.Run("bash", ["scripts/pack-local-feed.sh"], workingDirectory: Root).EnsureSuccess();

        var notebooks = Directory.GetFiles(Path.Combine(Root, "examples", "notebooks"), "*.ipynb").Order().ToList();
        Assert.Contains(notebooks, n => Path.GetFileName(n) == "LfU-QuickStart.ipynb");
        foreach (string notebook in notebooks)
        {
            var run = RunNotebook(notebook, new Dictionary<string, string>
            {
                ["LFU_NOTEBOOK_QUICK"] = "1", ["LFU_NOTEBOOK_MODEL"] = TinyTextModel.Path,
            });
            // Notebooks print "Output: FOLDER" when they write files (the quick start, into a temporary folder).
            string? output = run.Out.Split('\n').FirstOrDefault(l => l.StartsWith("Output: ", StringComparison.Ordinal))?[8..].Trim();
            try
            {
                Assert.True(run.ExitCode == 0, $"{Path.GetFileName(notebook)}: {run.Describe()}");
                Assert.Contains($"Notebook {Path.GetFileName(notebook)}: all ", run.Out);
                if (Path.GetFileName(notebook) != "LfU-QuickStart.ipynb") continue;
                Assert.NotNull(output);
                Assert.True(File.Exists(Path.Combine(output, "lfu-model.zip")), "the notebook saves the ML.NET model zip");
                Assert.True(File.Exists(Path.Combine(output, "loss.png")), "the notebook draws the loss curve (SkiaSharp loaded from the NuGet cache)");
                Assert.True(File.Exists(Path.Combine(output, "adapter", "adapter_config.json")), "the notebook exports the adapter");
                Assert.Contains("[display text/html] <img src=\"data:image/png;base64,", run.Out);
            }
            finally
            {
                if (output is not null && output.StartsWith(Path.GetTempPath(), StringComparison.Ordinal) && Directory.Exists(output)) Directory.Delete(output, recursive: true);
            }
        }
    }

    [Fact]
    public void TheNotebookTakesLfUAndItsBackendFromNuGet()
    {
        var notebook = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "examples", "notebooks", "LfU-QuickStart.ipynb")))!;
        Assert.Equal(".net-csharp", (string)notebook["metadata"]!["kernelspec"]!["name"]!);
        string first = string.Concat(notebook["cells"]!.AsArray().First(c => (string)c!["cell_type"]! == "code")!["source"]!.AsArray().Select(l => (string)l!));
        Assert.Contains("#r \"nuget: LfU.MLNet, 0.1.0\"", first);
        Assert.Contains("#r \"nuget: TorchSharp-cpu, 0.107.0\"", first);
        Assert.DoesNotContain("bin/Release", first);
    }

    [Fact]
    public void AFailingCellFailsTheRunNamingTheCell()
    {
        string file = Path.Combine(_temp.Path, "failing.ipynb");
        var cells = new JsonArray(
            Cell("markdown", "# a title"),
            Cell("code", "int x = 41;"),
            Cell("code", "x++;\nif (x == 42) throw new System.IO.InvalidDataException(\"boom\");"),
            Cell("code", "Console.WriteLine(\"never\");"));
        File.WriteAllText(file, new JsonObject
        {
            ["cells"] = cells, ["nbformat"] = 4, ["nbformat_minor"] = 5,
            ["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["name"] = ".net-csharp", ["language"] = "C#", ["display_name"] = ".NET (C#)" } },
        }.ToJsonString());

        var run = RunNotebook(file);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Notebook failing.ipynb: code cell 2 failed", run.Error);
        Assert.Contains("boom", run.Error);
        Assert.DoesNotContain("never", run.Out);

        static JsonObject Cell(string type, string source) => new()
        {
            ["cell_type"] = type, ["metadata"] = new JsonObject(), ["source"] = source,
            ["outputs"] = type == "code" ? new JsonArray() : null, ["execution_count"] = null,
        };
    }
}
