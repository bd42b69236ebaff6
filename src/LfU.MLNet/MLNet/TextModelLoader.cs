using System.Collections.Concurrent;
using Microsoft.ML.Runtime;

namespace LfU.MLNet;

/// <summary>
/// Rebuilds an <see cref="ITextModel"/> from the state blobs of a saved model, by <see cref="ITextModel.Kind"/>.
/// Loading a model zip runs only the loaders registered here: nothing in the file names code to run.
/// </summary>
internal static class TextModelLoader
{
    /// <summary>Rebuilds a model from its saved state blobs.</summary>
    internal delegate ITextModel Loader(IReadOnlyDictionary<string, byte[]> state, IHostEnvironment env);

    private static readonly ConcurrentDictionary<string, Loader> Loaders = new(StringComparer.Ordinal);

    /// <summary>Registers (or replaces) the loader for <paramref name="kind"/>.</summary>
    internal static void Register(string kind, Loader loader)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(loader);
        Loaders[kind] = loader;
    }

    internal static ITextModel Load(string kind, IReadOnlyDictionary<string, byte[]> state, IHostEnvironment env)
    {
        if (!Loaders.TryGetValue(kind, out var loader))
        {
            string known = Loaders.IsEmpty ? "none" : string.Join(", ", Loaders.Keys.Order(StringComparer.Ordinal));
            throw new InvalidOperationException(
                $"The saved LfU model is of kind '{kind}', for which no loader is registered (registered: {known}). " +
                "Load it with the version of LfU.MLNet that saved it.");
        }
        return loader(state, env);
    }
}
