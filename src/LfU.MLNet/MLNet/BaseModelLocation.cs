using System.IO.Compression;
using System.Reflection;

namespace LfU.MLNet;

/// <summary>
/// Where a saved LfU model (an ML.NET zip without embedded weights) finds its base model folder when it is loaded,
/// first match wins:
/// <list type="number">
/// <item>the folder given to <see cref="LfUCatalog.LoadWithBaseModel"/>;</item>
/// <item>the folder in the environment variable <c>LFU_BASE_MODEL_DIR</c>;</item>
/// <item>the base's path relative to the zip, as saved (so a folder holding both can move as a whole);</item>
/// <item>the base's absolute path, as saved.</item>
/// </list>
/// Whichever is used, the base's files must still hash to the SHA-256 recorded at saving, or loading fails.
/// </summary>
internal static class BaseModelLocation
{
    /// <summary>The environment variable that points a load at a moved base model folder.</summary>
    internal const string EnvironmentVariable = "LFU_BASE_MODEL_DIR";

    static readonly AsyncLocal<string?> ExplicitBase = new();
    static readonly AsyncLocal<string?> ZipFolder = new();

    /// <summary>Makes loads on this flow of execution use <paramref name="folder"/> as the base model, until disposed.</summary>
    internal static IDisposable UseBase(string? folder) => Scope(ExplicitBase, folder is null ? null : Path.GetFullPath(folder));

    /// <summary>Records the folder of the zip being saved or loaded (null when unknown), until disposed.</summary>
    internal static IDisposable AtZipFolder(string? folder) => Scope(ZipFolder, folder);

    /// <summary>The base path to record relative to the zip being saved, with '/' separators; null when unknown or not relative (another drive).</summary>
    internal static string? RelativeToZip(string baseFolder)
    {
        if (ZipFolder.Value is not { } zip) return null;
        string relative = Path.GetRelativePath(zip, baseFolder);
        return Path.IsPathRooted(relative) ? null : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    /// <summary>The base model folder to load, by the order in the class summary.</summary>
    /// <exception cref="DirectoryNotFoundException">No candidate exists; the message names each place tried and the ways to point elsewhere.</exception>
    internal static string Resolve(string savedAbsolute, string? savedRelative)
    {
        if (ExplicitBase.Value is { } given)
            return Directory.Exists(given) ? given
                : throw new DirectoryNotFoundException($"The base model folder '{given}' given to load the LfU model does not exist.");
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            return Directory.Exists(fromEnvironment) ? Path.GetFullPath(fromEnvironment)
                : throw new DirectoryNotFoundException($"{EnvironmentVariable} is '{fromEnvironment}', which does not exist; point it at the base model folder of the saved LfU model, or unset it.");
        string? besideZip = savedRelative is not null && ZipFolder.Value is { } zip ? Path.GetFullPath(Path.Combine(zip, savedRelative)) : null;
        if (besideZip is not null && Directory.Exists(besideZip)) return besideZip;
        if (Directory.Exists(savedAbsolute)) return savedAbsolute;
        throw new DirectoryNotFoundException($"The saved LfU model needs its base model at '{savedAbsolute}', which does not exist" +
            (besideZip is not null && besideZip != savedAbsolute ? $" (nor does '{besideZip}', where it lay relative to the model file)" : "") +
            $". Point at its new place with mlContext.Model.LoadWithBaseModel(file, baseModelFolder, out schema) or the environment variable {EnvironmentVariable}, " +
            "restore the folder, or save the model with embedded weights (LfUOptions.EmbedWeightsInSavedModel).");
    }

    /// <summary>
    /// The folder of the zip file behind an ML.NET repository (ModelSaveContext.Repository, ModelLoadContext.Repository),
    /// or null. ML.NET does not expose it: this follows the repository's ZipArchive to its FileStream, and gives up
    /// (null) on any other layout, e.g. a model saved to a MemoryStream.
    /// </summary>
    internal static string? ZipFolderOf(object? repository)
    {
        try
        {
            var archive = FieldsOf(repository).OfType<ZipArchive>().FirstOrDefault();
            if (archive is null) return null;
            var stream = typeof(ZipArchive).GetProperty("ArchiveStream", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(archive)
                         ?? FieldsOf(archive).OfType<Stream>().FirstOrDefault();
            return stream is FileStream { Name: { Length: > 0 } name } ? Path.GetDirectoryName(Path.GetFullPath(name)) : null;
        }
        catch (Exception e) when (e is TargetException or MemberAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    static IEnumerable<object?> FieldsOf(object? instance)
    {
        for (var type = instance?.GetType(); type is not null; type = type.BaseType)
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                yield return field.GetValue(instance);
    }

    static IDisposable Scope(AsyncLocal<string?> slot, string? value)
    {
        string? previous = slot.Value;
        slot.Value = value;
        return new Restore(() => slot.Value = previous);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
