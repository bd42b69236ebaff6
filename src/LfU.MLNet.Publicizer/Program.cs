using Mono.Cecil;

namespace LfU.MLNet.Publicizer;

/// <summary>
/// Usage: <c>LfU.MLNet.Publicizer &lt;input.dll&gt; &lt;output.dll&gt; [&lt;input.dll&gt; &lt;output.dll&gt; ...]</c>.
/// Writes a copy of each input assembly in which every type, method and field is public. The copies are compile-time
/// reference assemblies only: at run time the original assemblies are loaded and the consuming assembly declares
/// <c>IgnoresAccessChecksTo</c> for them.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0 || args.Length % 2 != 0)
        {
            Console.Error.WriteLine("usage: LfU.MLNet.Publicizer <input.dll> <output.dll> [<input.dll> <output.dll> ...]");
            return 2;
        }
        try
        {
            for (int i = 0; i < args.Length; i += 2)
                Publicize(args[i], args[i + 1]);
            return 0;
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"LfU.MLNet.Publicizer: error: {ex.Message}");
            return 1;
        }
    }

    private static void Publicize(string inputPath, string outputPath)
    {
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(inputPath)));
        using var assembly = AssemblyDefinition.ReadAssembly(inputPath, new ReaderParameters { AssemblyResolver = resolver });

        foreach (var type in assembly.MainModule.GetTypes())
            PublicizeType(type);

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        // Written beside the target then moved, so that an interrupted build never leaves a half-written reference.
        string tempPath = outputPath + ".tmp";
        assembly.Write(tempPath);
        File.Move(tempPath, outputPath, overwrite: true);
    }

    private static void PublicizeType(TypeDefinition type)
    {
        if (type.IsNested)
            type.IsNestedPublic = true;
        else
            type.IsPublic = true;

        foreach (var method in type.Methods)
        {
            // Explicit interface implementations keep their accessibility: they cannot be called by name anyway.
            if (method.HasOverrides)
                continue;
            method.IsPublic = true;
        }

        // Event and auto-property backing fields share names with members; making them public would make those
        // names ambiguous to the compiler.
        var eventNames = type.Events.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var field in type.Fields)
        {
            bool compilerGenerated = field.CustomAttributes.Any(a =>
                a.AttributeType.FullName == "System.Runtime.CompilerServices.CompilerGeneratedAttribute");
            if (compilerGenerated || eventNames.Contains(field.Name))
                continue;
            field.IsPublic = true;
        }
    }
}
