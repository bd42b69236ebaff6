using System.Collections;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace LfU.MLNet.Tests.Examples;

/// <summary>
/// What a Polyglot (.NET Interactive) C# kernel gives every cell besides the code: <c>display</c> and <c>HTML</c>.
/// The notebook runner passes an instance as the script globals. Public, as the script's code calls it.
/// </summary>
public sealed class NotebookGlobals
{
    /// <summary>Every value the notebook displayed, in order; enumerables materialised as the notebook would render them.</summary>
    public List<object?> Displayed { get; } = [];

    /// <summary>Records the value; like the kernel's formatter, enumerates a sequence (running any lazy query).</summary>
    public object? display(object? value, params string[] mimeTypes)
    {
        Displayed.Add(value is IEnumerable sequence and not string ? sequence.Cast<object?>().ToList() : value);
        return value;
    }

    /// <summary>Marks a string as HTML in the kernel; here the string itself.</summary>
    public string HTML(string content) => content;
}

/// <summary>
/// Executes the C# code cells of a .NET Interactive notebook in order with Roslyn scripting — the engine of the
/// .NET Interactive C# kernel, so cells share variables, types and usings as they do there. <c>#r "path/X.dll"</c>
/// lines are resolved to X.dll in this test's output folder (which holds this repository's build of the library and
/// its dependencies); <c>#r "nuget: ..."</c> and magic commands are refused, as they need the kernel.
/// </summary>
internal static partial class NotebookRunner
{
    /// <summary>The kernel's default usings (CSharpKernel).</summary>
    static readonly string[] KernelImports = ["System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq"];

    [GeneratedRegex("""^\s*#r\s+"(?<target>[^"]+)"\s*$""")]
    private static partial Regex ReferenceLine();

    /// <summary>The source of each code cell, in order; throws when the notebook is not a C# notebook.</summary>
    public static IReadOnlyList<string> CodeCells(string notebookPath)
    {
        using var notebook = JsonDocument.Parse(File.ReadAllText(notebookPath));
        var root = notebook.RootElement;
        string? kernel = root.GetProperty("metadata").GetProperty("kernelspec").GetProperty("name").GetString();
        if (kernel != ".net-csharp")
            throw new InvalidDataException($"{notebookPath}: kernelspec '{kernel}' is not the .NET Interactive C# kernel (.net-csharp).");
        var cells = new List<string>();
        foreach (var cell in root.GetProperty("cells").EnumerateArray())
        {
            if (cell.GetProperty("cell_type").GetString() != "code") continue;
            if (cell.GetProperty("metadata").TryGetProperty("polyglot_notebook", out var polyglot)
                && polyglot.GetProperty("kernelName").GetString() is { } name && name != "csharp")
                throw new InvalidDataException($"{notebookPath}: code cell {cells.Count + 1} runs in kernel '{name}'; this runner runs C# only.");
            var source = cell.GetProperty("source");
            cells.Add(source.ValueKind == JsonValueKind.Array ? string.Concat(source.EnumerateArray().Select(s => s.GetString())) : source.GetString() ?? "");
        }
        return cells;
    }

    /// <summary>Runs the cells in order; throws naming the cell when one does not compile or throws.</summary>
    public static async Task<ScriptState<object>> RunAsync(IReadOnlyList<string> cells, NotebookGlobals globals)
    {
        var references = FrameworkReferences();
        ScriptState<object>? state = null;
        for (int i = 0; i < cells.Count; i++)
        {
            string code = ResolveReferences(cells[i], references, cellNumber: i + 1);
            var options = ScriptOptions.Default.WithReferences(references).WithImports(KernelImports);
            try
            {
                state = state is null
                    ? await CSharpScript.RunAsync(code, options, globals, typeof(NotebookGlobals))
                    : await state.ContinueWithAsync(code, options);
            }
            catch (CompilationErrorException e)
            {
                throw new InvalidOperationException($"Notebook code cell {i + 1} does not compile:\n{string.Join("\n", e.Diagnostics)}\n--- cell ---\n{cells[i]}", e);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"Notebook code cell {i + 1} threw {e.GetType().Name}: {e.Message}\n--- cell ---\n{cells[i]}", e);
            }
        }
        return state ?? throw new InvalidDataException("The notebook has no code cells.");
    }

    /// <summary>Removes the cell's <c>#r</c> lines, adding the assemblies they name (from the test output) to <paramref name="references"/>.</summary>
    static string ResolveReferences(string cell, List<MetadataReference> references, int cellNumber)
    {
        var kept = new List<string>();
        foreach (string line in cell.Split('\n'))
        {
            if (line.TrimStart().StartsWith("#!", StringComparison.Ordinal))
                throw new InvalidDataException($"Code cell {cellNumber}: magic command '{line.Trim()}' needs the .NET Interactive kernel.");
            if (!line.TrimStart().StartsWith("#r", StringComparison.Ordinal)) { kept.Add(line); continue; }
            var match = ReferenceLine().Match(line);
            if (!match.Success)
                throw new InvalidDataException($"Code cell {cellNumber}: cannot read the reference line '{line.Trim()}'; write #r \"path/Assembly.dll\".");
            string target = match.Groups["target"].Value;
            if (target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"Code cell {cellNumber}: '{line.Trim()}' needs a NuGet restore by the kernel; reference this repository's build (#r \"path/X.dll\") in executable lines instead.");
            string local = Path.Combine(AppContext.BaseDirectory, Path.GetFileName(target));
            if (!File.Exists(local))
                throw new FileNotFoundException($"Code cell {cellNumber}: '{target}' has no counterpart '{Path.GetFileName(target)}' in the test output; is it a dependency of LfU.MLNet?", local);
            references.Add(MetadataReference.CreateFromFile(local));
            kept.Add(""); // keep line numbers of diagnostics
        }
        return string.Join('\n', kept);
    }

    /// <summary>The shared framework's assemblies, which the kernel references without #r.</summary>
    static List<MetadataReference> FrameworkReferences()
    {
        string frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => Path.GetDirectoryName(path) == frameworkDir)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToList();
    }
}
