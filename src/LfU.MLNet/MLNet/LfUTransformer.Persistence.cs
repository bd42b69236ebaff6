// Why this file compiles against ML.NET internals
// -----------------------------------------------
// mlContext.Model.Save/Load can only round-trip a transformer's state through ML.NET's own persistence protocol:
// ICanSaveModel.Save(ModelSaveContext) writing with ModelSaveContext's members, and a loader found through an
// assembly-level [LoadableClass(..., typeof(SignatureLoadModel), ...)] with a static Create(IHostEnvironment,
// ModelLoadContext). All of those (ModelSaveContext's members, ModelLoadContext, LoadableClassAttribute,
// SignatureLoadModel, VersionInfo) are internal to Microsoft.ML.Core/Microsoft.ML.Data; only ML.NET's own
// assemblies get them through InternalsVisibleTo. (A CustomMapping transformer saves and loads, but without its state.)
// So, at build time, the LfU.MLNet.Publicizer tool writes copies of those two assemblies with everything public
// under obj/ (build/PublicizeMLNet.targets); the compiler sees only the copies, while the package still depends on,
// and the runtime still loads, the real Microsoft.ML. [IgnoresAccessChecksTo] tells the runtime to allow the
// access. This is the protocol ML.NET's own TorchSharp trainers use; it is pinned to Microsoft.ML [5.0.1, 5.1)
// because internals may change between versions.

using System.Runtime.CompilerServices;
using LfU.MLNet;
using Microsoft.ML;
using Microsoft.ML.Runtime;

[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: LoadableClass(typeof(LfUTransformer), null, typeof(SignatureLoadModel), "LfU Transformer", LfUTransformer.LoaderSignature)]

namespace LfU.MLNet;

public sealed partial class LfUTransformer : ICanSaveModel
{
    internal const string LoaderSignature = "LfUTransformer";

    /// <summary>Name of the zip entry (in the transformer's folder) holding the <see cref="ModelStateContainer"/>.</summary>
    internal const string StateEntryName = "LfUState.bin";

    // ML.NET's own header versioning; the state container carries its own format version as well.
    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "LFUTRANS",
        verWrittenCur: 0x00010001, // initial version
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(LfUTransformer).Assembly.FullName);

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        IReadOnlyDictionary<string, byte[]> state;
        lock (_modelLock)
        {
            ThrowIfDisposed();
            // The model records its base folder relative to the zip as well, when the zip's place is known.
            using (BaseModelLocation.AtZipFolder(BaseModelLocation.ZipFolderOf(ctx.Repository)))
                state = _model.SaveState();
        }
        var manifest = new TransformerManifest
        {
            ModelKind = _model.Kind,
            Columns = _columns,
            Generation = _settings,
            BatchSize = BatchSize,
        };

        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveBinaryStream(StateEntryName, writer => ModelStateContainer.Write(writer.BaseStream, manifest, state));
    }

    // Called by ML.NET through the LoadableClass registration above. ML.NET invokes it by reflection, so exceptions
    // thrown here reach the caller of mlContext.Model.Load wrapped in a TargetInvocationException.
    private static LfUTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(GetVersionInfo());

        string entryPath = $"{ctx.Directory}/{StateEntryName}";
        string where = $"entry '{entryPath}' of the model file";
        (TransformerManifest Transformer, IReadOnlyDictionary<string, byte[]> Blobs)? state = null;
        if (!ctx.TryLoadBinaryStream(StateEntryName, reader => state = ModelStateContainer.Read(reader.BaseStream, where)))
            throw new InvalidDataException($"The model file has no entry '{entryPath}': it was not saved by LfU.MLNet, or the entry was removed.");

        var (manifest, blobs) = state!.Value;
        ITextModel model;
        using (BaseModelLocation.AtZipFolder(BaseModelLocation.ZipFolderOf(ctx.Repository)))
            model = TextModelLoader.Load(manifest.ModelKind, blobs, env);
        try
        {
            return new LfUTransformer(env, model, manifest.Columns, manifest.Generation, manifest.BatchSize);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
