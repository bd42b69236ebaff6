using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LfU.MLNet.Tests.Examples;

/// <summary>
/// The README's quick-start code block (the first ```csharp block between &lt;!-- quickstart --&gt; and
/// &lt;!-- /quickstart --&gt;) compiles, as a console app referencing LfU.MLNet, without errors or warnings.
/// Until README.md has the markers, the block is read from examples/QuickStart/README-snippet.md.
/// </summary>
public sealed partial class ReadmeTests
{
    /// <summary>The global usings of a new console project (ImplicitUsings).</summary>
    const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    [GeneratedRegex(@"<!-- quickstart -->.*?```csharp\r?\n(?<code>.*?)```.*?<!-- /quickstart -->", RegexOptions.Singleline)]
    private static partial Regex QuickStartBlock();

    static (string File, string Code) QuickStartCode()
    {
        string root = TinyTextModel.RepositoryRoot();
        foreach (string file in new[] { Path.Combine(root, "README.md"), Path.Combine(root, "examples", "QuickStart", "README-snippet.md") })
        {
            if (!File.Exists(file)) continue;
            string text = File.ReadAllText(file);
            var match = QuickStartBlock().Match(text);
            if (!match.Success) continue;
            // Diagnostics then give the line in the Markdown file.
            int firstLine = text.AsSpan(0, match.Groups["code"].Index).Count('\n') + 1;
            return (file, $"#line {firstLine} \"{file}\"\n{match.Groups["code"].Value}");
        }
        throw new InvalidDataException("Neither README.md nor examples/QuickStart/README-snippet.md has a ```csharp block between <!-- quickstart --> and <!-- /quickstart -->.");
    }

    [Fact]
    public void TheQuickStartCodeBlockCompilesWithoutWarnings()
    {
        var (file, code) = QuickStartCode();
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("ReadmeQuickStart",
            [CSharpSyntaxTree.ParseText(code, parse, path: file), CSharpSyntaxTree.ParseText(ImplicitUsings, parse)],
            ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        using var assembly = new MemoryStream();
        var result = compilation.Emit(assembly);

        var problems = result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, $"The quick start in {file} does not compile cleanly:\n{string.Join("\n", problems)}");
        Assert.Contains("FineTuneWithLfU", code);
    }
}
