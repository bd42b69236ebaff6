using Microsoft.ML;
using Microsoft.ML.Data;

namespace LfU.MLNet;

/// <summary>Catalog entry points: <c>mlContext.Transforms.Text.FineTuneWithLfU(...)</c>.</summary>
public static class LfUCatalog
{
    /// <summary>Fine-tunes the model in <see cref="LfUOptions.ModelFolder"/> on the prompt/response columns with LfU.</summary>
    public static LfUEstimator FineTuneWithLfU(this TransformsCatalog.TextTransforms catalog, LfUOptions options) =>
        new(catalog.GetEnvironment(), options);

    /// <summary>Fine-tunes <paramref name="modelFolder"/> with the paper's defaults on the given columns.</summary>
    public static LfUEstimator FineTuneWithLfU(this TransformsCatalog.TextTransforms catalog, string modelFolder,
        string promptColumnName = "Prompt", string responseColumnName = "Response", string generatedColumnName = "Generated") =>
        catalog.FineTuneWithLfU(new LfUOptions
        {
            ModelFolder = modelFolder, PromptColumnName = promptColumnName, ResponseColumnName = responseColumnName,
            GeneratedColumnName = generatedColumnName,
        });

    /// <summary>
    /// <c>mlContext.Model.Load</c> for a saved LfU model whose base model folder has moved: the zip stores the base's
    /// absolute path and its path relative to the zip, and loads from <paramref name="baseModelFolder"/> instead. The
    /// base's files must still be the ones the model was trained on (their SHA-256 is checked), else loading fails.
    /// Without this method, the environment variable <c>LFU_BASE_MODEL_DIR</c> does the same for
    /// <c>mlContext.Model.Load</c>. A model saved with <see cref="LfUOptions.EmbedWeightsInSavedModel"/> needs no base.
    /// </summary>
    /// <param name="catalog"><c>mlContext.Model</c>.</param>
    /// <param name="filePath">The model zip.</param>
    /// <param name="baseModelFolder">Where the base model folder is now; null loads from the saved place.</param>
    /// <param name="inputSchema">The input schema saved with the model.</param>
    /// <exception cref="System.Reflection.TargetInvocationException">The model cannot be loaded; the inner exception says why
    /// (a missing or different base model: <see cref="DirectoryNotFoundException"/>, <see cref="InvalidDataException"/>).</exception>
    public static ITransformer LoadWithBaseModel(this ModelOperationsCatalog catalog, string filePath, string? baseModelFolder, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        using (BaseModelLocation.UseBase(baseModelFolder))
            return catalog.Load(filePath, out inputSchema);
    }

    /// <summary>Same as the text-catalog overload, from <c>mlContext.Transforms</c>.</summary>
    public static LfUEstimator FineTuneWithLfU(this TransformsCatalog catalog, LfUOptions options) =>
        new(catalog.GetEnvironment(), options);
}
