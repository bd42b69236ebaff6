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

    /// <summary>Same as the text-catalog overload, from <c>mlContext.Transforms</c>.</summary>
    public static LfUEstimator FineTuneWithLfU(this TransformsCatalog catalog, LfUOptions options) =>
        new(catalog.GetEnvironment(), options);
}
