using System.Text.Json;
using System.Text.Json.Nodes;
using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Model;
using LfU.MLNet.Training;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace LfU.MLNet;

// The model's state in ML.NET model zips (mlContext.Model.Save/Load): a manifest, the adapter or the merged weights,
// the tokenizer files; the base model is found again and checked by its fingerprint.
public sealed partial class LfUModel
{
    string ITextModel.Kind => StateKind;

    // The transformer already batches rows (LfUTransformer.BatchSize): generate each of its batches as one.
    IReadOnlyList<string> ITextModel.Generate(IReadOnlyList<string> prompts, GenerationSettings settings) =>
        Generate(prompts, settings, batchSize: Math.Max(1, prompts.Count));

    IReadOnlyList<(double Mean, double Total)> ITextModel.Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) => Score(prompts, responses);

    IReadOnlyDictionary<string, byte[]> ITextModel.SaveState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var blobs = new Dictionary<string, byte[]>();
        bool embed = EmbedWeightsWhenSaving || Mode == FineTuning.Full;
        var manifest = new JsonObject
        {
            ["format"] = FormatVersion,
            ["base_model_folder"] = BaseModelFolder,
            // Relative to the zip, so that a folder holding both the zip and the base can move (BaseModelLocation).
            ["base_model_relative"] = BaseModelLocation.RelativeToZip(BaseModelFolder),
            ["base_model_sha256"] = BaseModelSha256,
            ["base_model_files"] = BaseModelFiles is null ? null : new JsonObject(BaseModelFiles.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
            ["template"] = _templateSpec,
            ["mode"] = Mode.ToString(),
            ["dtype"] = PretrainedModel.DTypeName(Network.DType),
            ["embedded_weights"] = embed,
        };
        blobs["manifest.json"] = JsonSerializer.SerializeToUtf8Bytes(manifest);
        string scratch = Directory.CreateTempSubdirectory("lfu-save").FullName;
        try
        {
            if (embed)
            {
                SaveMerged(scratch);
                foreach (string file in Directory.GetFiles(scratch))
                    blobs["model/" + Path.GetFileName(file)] = File.ReadAllBytes(file);
            }
            else
            {
                if (Lora is not null)
                {
                    SaveAdapter(scratch);
                    blobs["adapter/" + PeftAdapter.ConfigFile] = File.ReadAllBytes(Path.Combine(scratch, PeftAdapter.ConfigFile));
                    blobs["adapter/" + PeftAdapter.WeightsFile] = File.ReadAllBytes(Path.Combine(scratch, PeftAdapter.WeightsFile));
                }
                foreach (var (file, bytes) in _tokenizerFiles) blobs["model/" + file] = bytes;
            }
        }
        finally { Directory.Delete(scratch, recursive: true); }
        return blobs;
    }

    /// <summary>Rebuilds a model saved by <see cref="ITextModel.SaveState"/>. Registered with <see cref="TextModelLoader"/>.</summary>
    internal static ITextModel LoadState(IReadOnlyDictionary<string, byte[]> state, IHostEnvironment env)
    {
        if (!state.TryGetValue("manifest.json", out var manifestBytes))
            throw new InvalidDataException("The saved LfU model has no manifest.json entry; the file is damaged. Save the model again.");
        JsonObject manifest;
        try
        {
            manifest = JsonNode.Parse(manifestBytes) as JsonObject ?? throw new InvalidDataException("The saved LfU model's manifest.json is not a JSON object. Save the model again.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The saved LfU model's manifest.json is not valid JSON ({e.Message}). Save the model again.", e);
        }
        int format = Field<int>(manifest, "format");
        if (format != FormatVersion)
            throw new InvalidDataException($"The saved LfU model uses state format {format}; this version of LfU.MLNet reads format {FormatVersion}. Load it with the version that saved it.");
        string savedBaseFolder = Field<string>(manifest, "base_model_folder");
        string? savedRelative = manifest["base_model_relative"] is JsonValue relative && relative.TryGetValue(out string? r) ? r : null;
        string baseSha = Field<string>(manifest, "base_model_sha256");
        string template = Field<string>(manifest, "template");
        bool embedded = Field<bool>(manifest, "embedded_weights");
        FineTuning mode;
        ScalarType dtype;
        try
        {
            mode = Enum.Parse<FineTuning>(Field<string>(manifest, "mode"));
            dtype = PretrainedModel.ParseDType(Field<string>(manifest, "dtype"));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The saved LfU model's manifest.json has an invalid mode or dtype ({e.Message}). Save the model again.", e);
        }

        // Blobs go to fixed file names in a private folder: their names are only matched, never used as paths.
        string scratch = Directory.CreateTempSubdirectory("lfu-load").FullName;
        try
        {
            string modelDir = Directory.CreateDirectory(Path.Combine(scratch, "model")).FullName;
            string adapterDir = Directory.CreateDirectory(Path.Combine(scratch, "adapter")).FullName;
            string[] modelFiles = TokenizerFiles.Concat(new[] { "config.json", SafeTensorsWriter.SingleFileName }).ToArray();
            foreach (string file in modelFiles)
                if (state.TryGetValue("model/" + file, out var bytes)) File.WriteAllBytes(Path.Combine(modelDir, file), bytes);
            foreach (string file in new[] { PeftAdapter.ConfigFile, PeftAdapter.WeightsFile })
                if (state.TryGetValue("adapter/" + file, out var bytes)) File.WriteAllBytes(Path.Combine(adapterDir, file), bytes);

            if (embedded)
            {
                var (network, tokenizer, spec) = BaseModel.Load(modelDir, template, dtype, null);
                return new LfUModel(network, tokenizer, spec, modelDir, savedBaseFolder, baseSha, mode, null, BaseFiles(manifest)) { EmbedWeightsWhenSaving = true };
            }
            // The saved place, or where the caller says the base now is; its files must hash as they did at saving.
            string baseFolder = BaseModelLocation.Resolve(savedBaseFolder, savedRelative);
            ModelFingerprint.EnsureUnchanged(baseFolder, baseSha, BaseFiles(manifest));
            var (baseNetwork, baseTokenizer, baseSpec) = BaseModel.Load(baseFolder, template, dtype, null);
            try
            {
                LoraConfig? lora = File.Exists(Path.Combine(adapterDir, PeftAdapter.ConfigFile)) ? PeftAdapter.Load(baseNetwork, adapterDir) : null;
                return new LfUModel(baseNetwork, baseTokenizer, baseSpec, baseFolder, baseFolder, baseSha, mode, lora);
            }
            catch
            {
                baseNetwork.Dispose();
                throw;
            }
        }
        finally { Directory.Delete(scratch, recursive: true); }
    }

    /// <summary>The manifest's per-file hashes of the base (absent in zips saved before they were recorded).</summary>
    static IReadOnlyDictionary<string, string>? BaseFiles(JsonObject manifest)
    {
        if (manifest["base_model_files"] is not JsonObject files) return null;
        return files.ToDictionary(f => f.Key, f => f.Value is JsonValue v && v.TryGetValue(out string? hash)
            ? hash
            : throw new InvalidDataException($"The saved LfU model's manifest.json has a malformed base_model_files entry '{f.Key}'. Save the model again."));
    }

    static T Field<T>(JsonObject manifest, string name)
    {
        try
        {
            return manifest[name] is { } node ? node.GetValue<T>() : throw new InvalidDataException($"The saved LfU model's manifest.json lacks \"{name}\". Save the model again.");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The saved LfU model's manifest.json field \"{name}\" is not a {typeof(T).Name}. Save the model again.", e);
        }
    }

    /// <summary>Registers the loader of saved LfU models (done once, before any model zip is loaded).</summary>
#pragma warning disable CA2255 // A library initializer on purpose: ML.NET may load a model zip before any LfU type is touched by the user.
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void RegisterLoader() => TextModelLoader.Register(StateKind, LoadState);
#pragma warning restore CA2255
}
