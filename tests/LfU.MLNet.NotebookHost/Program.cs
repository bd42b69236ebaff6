// Runs a Jupyter notebook's code cells, in order, in the .NET Interactive C# kernel (the kernel that Jupyter's
// .net-csharp and VS Code's Polyglot Notebooks host), in this fresh process: #r "nuget: ...", #i, display() and
// Console output behave as in a user's notebook. Prints every cell's output; exits 1 naming the first cell that fails,
// 0 when all ran.
//   dotnet LfU.MLNet.NotebookHost.dll NOTEBOOK.ipynb
using System.Diagnostics;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;

if (args.Length != 1 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: LfU.MLNet.NotebookHost NOTEBOOK.ipynb");
    return 2;
}
string path = Path.GetFullPath(args[0]);
// Jupyter starts the kernel in the notebook's folder: relative paths in cells (#i "nuget: ../..") mean the same here.
Directory.SetCurrentDirectory(Path.GetDirectoryName(path)!);
var document = Notebook.Parse(File.ReadAllText(path));
// Wired as dotnet-interactive's own C# kernel is: packages' assemblies are referenced; their native libraries are
// not put on any search path (each library finds its own, as in a user's notebook).
using var kernel = new CSharpKernel().UseKernelHelpers().UseNugetDirective((k, resolved) =>
{
    k.AddAssemblyReferences(resolved.SelectMany(r => r.AssemblyPaths));
    return Task.CompletedTask;
});

int cell = 0;
foreach (var element in document.Elements)
{
    if (element.KernelName is not ("csharp" or "C#" or null)) continue; // markdown
    cell++;
    var clock = Stopwatch.StartNew();
    Console.WriteLine($"--- cell {cell}");
    var result = await kernel.SendAsync(new SubmitCode(element.Contents));
    string? failure = null;
    foreach (var e in result.Events)
        switch (e)
        {
            case StandardOutputValueProduced o: Console.Write(Text(o)); break;
            case StandardErrorValueProduced o: Console.Error.Write(Text2(o)); break;
            case DisplayedValueProduced d: Console.WriteLine($"[display {string.Join(", ", d.FormattedValues.Select(v => v.MimeType))}] {Shorten(d.FormattedValues.FirstOrDefault()?.Value)}"); break;
            case ReturnValueProduced r: Console.WriteLine($"[value] {Shorten(r.FormattedValues.FirstOrDefault()?.Value)}"); break;
            case CommandFailed f: failure = f.Exception?.ToString() ?? f.Message; break;
        }
    if (failure is not null)
    {
        Console.Error.WriteLine($"Notebook {Path.GetFileName(path)}: code cell {cell} failed after {clock.Elapsed.TotalSeconds:F1} s:\n{failure}");
        return 1;
    }
    Console.WriteLine($"--- cell {cell} ok ({clock.Elapsed.TotalSeconds:F1} s)");
}
Console.WriteLine($"Notebook {Path.GetFileName(path)}: all {cell} code cells ran.");
return 0;

static string Text(StandardOutputValueProduced o) => o.FormattedValues.FirstOrDefault(v => v.MimeType == "text/plain")?.Value ?? "";
static string Text2(StandardErrorValueProduced o) => o.FormattedValues.FirstOrDefault(v => v.MimeType == "text/plain")?.Value ?? "";
static string Shorten(string? text) => text is null ? "" : text.Length <= 200 ? text : text[..200] + $"… ({text.Length} characters)";
