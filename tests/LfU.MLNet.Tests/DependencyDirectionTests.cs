using Xunit;
using System.Text.RegularExpressions;

namespace LfU.MLNet.Tests;

/// <summary>
/// Keeps docs/architecture.md's one-way flow true: no file of the core library names a type declared in a folder
/// later in the flow (checkpoints → model → adapters → objectives → training → generation → evaluation → ML.NET pair),
/// and the benchmark satellite does not reach into the ML.NET pair.
/// Read from the sources, because the ML.NET folder's types live in the root namespace, which every other namespace
/// sees without a <c>using</c>.
/// </summary>
public class DependencyDirectionTests
{
    /// <summary>Each folder's place in the flow; a file may use its own and earlier places only. IO and Native are leaves.</summary>
    static readonly Dictionary<string, int> Layers = new()
    {
        ["IO"] = 0, ["Native"] = 0,
        ["Checkpoints"] = 1, ["Tokenization"] = 1,
        ["Model"] = 2,
        ["Adapters"] = 3,
        ["Objectives"] = 4,
        ["Training"] = 5,
        ["Generation"] = 6,
        ["Evaluation"] = 7,
        ["Benchmark"] = 8,
        ["MLNet"] = 9,
    };

    /// <summary>Where each folder's sources are, below src/.</summary>
    static string SourceFolder(string folder) => folder == "Benchmark" ? "LfU.MLNet.Benchmark" : Path.Combine("LfU.MLNet", folder);

    static readonly Regex Declaration = new(@"^(?:(?:public|internal|sealed|static|abstract|partial|readonly|ref)\s+)*(?:class|record\s+struct|record|struct|enum|interface)\s+(?<name>[A-Z]\w*)", RegexOptions.Compiled | RegexOptions.Multiline);
    static readonly Regex CommentsAndStrings = new(@"//[^\n]*|/\*.*?\*/|@""(?:""""|[^""])*""|""(?:\\.|[^""\\\n])*""|'(?:\\.|[^'\\\n])'", RegexOptions.Compiled | RegexOptions.Singleline);

    [Fact]
    public void NoFolderUsesATypeOfAFolderLaterInTheFlow()
    {
        string root = Path.Combine(TinyTextModel.RepositoryRoot(), "src");
        var files = Layers.Keys.SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, SourceFolder(folder)), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(path => (Folder: folder, Path: path, Code: CommentsAndStrings.Replace(File.ReadAllText(path), " ")))).ToList();
        Assert.NotEmpty(files);

        // Top-level types only (files use file-scoped namespaces, so they start a line); nested helpers are private to their type.
        var declaredIn = files.SelectMany(f => Declaration.Matches(f.Code).Select(m => (Name: m.Groups["name"].Value, f.Folder)))
            .Distinct().GroupBy(d => d.Name).Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.Single().Folder);

        var violations = new List<string>();
        foreach (var file in files)
            foreach (var name in Regex.Matches(file.Code, @"\b[A-Z]\w*\b").Select(m => m.Value).Distinct())
                if (declaredIn.TryGetValue(name, out var owner) && Layers[owner] > Layers[file.Folder])
                    violations.Add($"{Path.GetRelativePath(root, file.Path)} uses {name} from {owner}/");

        Assert.True(violations.Count == 0, "Dependencies must flow one way (docs/architecture.md):\n" + string.Join("\n", violations));
    }
}
