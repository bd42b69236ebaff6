using System.Text.Json;
using System.Text.Json.Nodes;

namespace LfU.MLNet.Model;

/// <summary>
/// The shape of a decoder-only Llama-family model, read from a Hugging Face <c>config.json</c>
/// (model_type llama, mistral, qwen2, qwen3). One object configures the whole model, as in nanoGPT.
/// </summary>
public sealed record ModelConfig
{
    public static readonly string[] SupportedModelTypes = { "llama", "mistral", "qwen2", "qwen3" };
    public static readonly string[] SupportedRopeTypes = { "default", "linear", "llama3" };

    public string ModelType { get; init; } = "llama";
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int NumKeyValueHeads { get; init; }
    /// <summary>Per-head size; may differ from HiddenSize / NumAttentionHeads (Qwen3).</summary>
    public int HeadDim { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;
    public RopeScalingType RopeScaling { get; init; } = RopeScalingType.Default;
    public double RopeFactor { get; init; } = 1.0;
    public double RopeLowFreqFactor { get; init; } = 1.0;
    public double RopeHighFreqFactor { get; init; } = 4.0;
    public int RopeOriginalMaxPositions { get; init; } = 8192;
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (Qwen2 always; Llama when <c>attention_bias</c>).</summary>
    public bool QkvBias { get; init; }
    /// <summary>Bias on the output projection (Llama's <c>attention_bias</c> covers it too).</summary>
    public bool OutputBias { get; init; }
    public bool MlpBias { get; init; }
    /// <summary>RMSNorm on each head's queries and keys (Qwen3).</summary>
    public bool QkNorm { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = Array.Empty<int>();
    public int? PadTokenId { get; init; }
    /// <summary>Sliding-window attention span (Mistral's <c>sliding_window</c>): a query sees at most this many keys, itself included. Null = full causal.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>The dtype the checkpoint was saved in (<c>torch_dtype</c> / <c>dtype</c>), e.g. "bfloat16".</summary>
    public string TorchDtype { get; init; } = "float32";

    /// <summary>The original JSON, kept so a merged checkpoint can be written back with every field the user had.</summary>
    public JsonObject? Raw { get; init; }

    /// <summary>Where the values came from (the config.json path), named in every error about them.</summary>
    public string Source { get; init; } = "config.json";

    /// <summary>Reads <c>config.json</c> from a model folder (or the file itself).</summary>
    public static ModelConfig FromFile(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!IO.RegularFile.Exists(file))
            throw new FileNotFoundException($"No config.json found at '{file}'. Point at a Hugging Face model folder that contains config.json.", file);
        JsonNode? node;
        // Duplicate keys are refused: which of the two counts is a guess no file should leave to the reader.
        try { node = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new InvalidDataException($"{file}: not valid JSON ({e.Message}).", e); }
        if (node is not JsonObject obj) throw new InvalidDataException($"{file}: expected a JSON object at the top level.");
        return FromJson(obj, file);
    }

    /// <summary>Parses a Hub-style config object; <paramref name="source"/> names it in error messages.</summary>
    public static ModelConfig FromJson(JsonObject json, string source = "config.json")
    {
        var r = new Reader(json, source);
        string modelType = r.String("model_type") ?? throw r.Error("model_type", "is missing", $"supported: {string.Join(", ", SupportedModelTypes)}");
        if (!SupportedModelTypes.Contains(modelType))
            throw r.Error("model_type", $"'{modelType}' is not supported", $"supported: {string.Join(", ", SupportedModelTypes)}");
        string? act = r.String("hidden_act") ?? r.String("hidden_activation");
        if (act != null && act != "silu")
            throw r.Error("hidden_act", $"'{act}' is not supported", "supported: silu");

        int hidden = r.RequiredInt("hidden_size");
        int heads = r.RequiredInt("num_attention_heads");
        int kvHeads = r.Int("num_key_value_heads") ?? heads;
        int headDim = r.Int("head_dim") ?? (heads > 0 ? hidden / heads : 0);
        if (heads <= 0 || hidden <= 0 || headDim <= 0 || kvHeads <= 0)
            throw r.Error("num_attention_heads", "hidden_size, num_attention_heads, num_key_value_heads and head_dim must be positive", "fix the config");
        if (heads % kvHeads != 0)
            throw r.Error("num_key_value_heads", $"{kvHeads} does not divide num_attention_heads {heads}", "grouped-query attention needs a whole number of query heads per key/value head");
        if (headDim % 2 != 0) throw r.Error("head_dim", $"{headDim} is odd", "rotary embeddings need an even head size");
        bool attentionBias = r.Bool("attention_bias") ?? false;

        // RoPE: the transformers v4 form (rope_theta + rope_scaling) or the newer rope_parameters form.
        double theta = r.Double("rope_theta") ?? 10000.0;
        JsonObject? scaling = r.ObjectOrNull("rope_scaling", """{"rope_type": "llama3", "factor": 8.0, ...}""");
        string scalingField = "rope_scaling";
        if (r.ObjectOrNull("rope_parameters", """{"rope_type": "default", "rope_theta": 10000.0}""") is { } ropeParameters)
        {
            scaling = ropeParameters;
            scalingField = "rope_parameters";
            theta = new Reader(ropeParameters, source, "rope_parameters.").Double("rope_theta") ?? theta;
        }
        // A zero or negative base (or epsilon) gives NaN in every logit; refuse it here rather than print NULs later.
        if (!(theta > 0) || double.IsInfinity(theta))
            throw r.Error("rope_theta", $"{theta} must be a positive number", "Llama uses 10000 or 500000");
        double rmsNormEps = r.Double("rms_norm_eps") ?? 1e-6;
        if (!(rmsNormEps > 0) || double.IsInfinity(rmsNormEps))
            throw r.Error("rms_norm_eps", $"{rmsNormEps} must be a positive number", "typically 1e-5 or 1e-6");
        var rope = RopeScalingType.Default;
        double factor = 1, low = 1, high = 4;
        int original = r.Int("max_position_embeddings") ?? 2048;
        if (scaling != null)
        {
            var s = new Reader(scaling, source, scalingField + ".");
            string type = s.String("rope_type") ?? s.String("type") ?? "default";
            rope = type switch
            {
                "default" => RopeScalingType.Default,
                "linear" => RopeScalingType.Linear,
                "llama3" => RopeScalingType.Llama3,
                _ => throw s.Error("rope_type", $"'{type}' is not supported", $"supported: {string.Join(", ", SupportedRopeTypes)}"),
            };
            factor = s.Double("factor") ?? 1.0;
            if (rope != RopeScalingType.Default && factor <= 0) throw s.Error("factor", $"{factor} must be positive", "fix the config");
            low = s.Double("low_freq_factor") ?? 1.0;
            high = s.Double("high_freq_factor") ?? 4.0;
            original = s.Int("original_max_position_embeddings") ?? original;
            if (rope == RopeScalingType.Llama3 && high <= low)
                throw s.Error("high_freq_factor", $"{high} must exceed low_freq_factor {low}", "fix the config");
        }

        // Mistral applies its window on every layer; Qwen2/3 only when use_sliding_window is set, and then only on
        // some layers (max_window_layers), which we do not implement.
        int? window = null;
        if (modelType == "mistral") window = r.Int("sliding_window");
        else if (r.Bool("use_sliding_window") == true)
            throw r.Error("use_sliding_window", "true is not supported", "per-layer sliding windows (max_window_layers) are not implemented; set it to false");
        if (window is <= 0) throw r.Error("sliding_window", $"{window} must be positive", "or null for full attention");

        var eos = new List<int>();
        switch (json["eos_token_id"])
        {
            case null: break;
            case JsonArray arr: eos.AddRange(arr.Select((n, i) => r.TokenId(n, $"eos_token_id[{i}]"))); break;
            case var single: eos.Add(r.TokenId(single, "eos_token_id")); break;
        }

        return new ModelConfig
        {
            ModelType = modelType,
            VocabSize = r.RequiredInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = r.RequiredInt("intermediate_size"),
            NumHiddenLayers = r.RequiredInt("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim,
            RmsNormEps = rmsNormEps,
            RopeTheta = theta,
            RopeScaling = rope,
            RopeFactor = factor,
            RopeLowFreqFactor = low,
            RopeHighFreqFactor = high,
            RopeOriginalMaxPositions = original,
            MaxPositionEmbeddings = r.Int("max_position_embeddings") ?? 2048,
            TieWordEmbeddings = r.Bool("tie_word_embeddings") ?? false,
            QkvBias = modelType == "qwen2" || attentionBias,
            OutputBias = modelType is "llama" or "mistral" or "qwen3" && attentionBias,
            MlpBias = r.Bool("mlp_bias") ?? false,
            QkNorm = modelType == "qwen3",
            SlidingWindow = window,
            BosTokenId = r.Int("bos_token_id"),
            EosTokenIds = eos,
            PadTokenId = r.Int("pad_token_id"),
            TorchDtype = r.String("torch_dtype") ?? r.String("dtype") ?? "float32",
            Raw = json,
            Source = source,
        };
    }

    /// <summary>Writes a Hub-style config.json (the original fields, when known, with ours on top).</summary>
    public JsonObject ToJson()
    {
        var o = Raw != null ? (JsonObject)Raw.DeepClone() : new JsonObject();
        o["model_type"] = ModelType;
        o["architectures"] ??= new JsonArray(ModelType switch
        {
            "qwen2" => "Qwen2ForCausalLM", "qwen3" => "Qwen3ForCausalLM", "mistral" => "MistralForCausalLM", _ => "LlamaForCausalLM",
        });
        o["vocab_size"] = VocabSize;
        o["hidden_size"] = HiddenSize;
        o["intermediate_size"] = IntermediateSize;
        o["num_hidden_layers"] = NumHiddenLayers;
        o["num_attention_heads"] = NumAttentionHeads;
        o["num_key_value_heads"] = NumKeyValueHeads;
        o["head_dim"] = HeadDim;
        o["hidden_act"] = "silu";
        o["rms_norm_eps"] = RmsNormEps;
        o["max_position_embeddings"] = MaxPositionEmbeddings;
        o["tie_word_embeddings"] = TieWordEmbeddings;
        if (ModelType is "llama" or "mistral") o["attention_bias"] = QkvBias;
        if (ModelType == "llama") o["mlp_bias"] = MlpBias;
        if (o["rope_parameters"] is JsonObject rp) rp["rope_theta"] = RopeTheta; else o["rope_theta"] = RopeTheta;
        if (BosTokenId is int bos) o["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) o["eos_token_id"] = new JsonArray(EosTokenIds.Select(e => (JsonNode)e).ToArray());
        if (PadTokenId is int pad) o["pad_token_id"] = pad;
        o["torch_dtype"] = TorchDtype;
        return o;
    }

    /// <summary>Rejects shapes and values no model can have, naming the file and the field.</summary>
    public void Validate()
    {
        void Positive(int v, string field) { if (v <= 0) throw new InvalidDataException($"{Source}: {field} must be positive (found {v})."); }
        Positive(VocabSize, "vocab_size"); Positive(HiddenSize, "hidden_size"); Positive(IntermediateSize, "intermediate_size");
        Positive(NumHiddenLayers, "num_hidden_layers"); Positive(NumAttentionHeads, "num_attention_heads");
        Positive(NumKeyValueHeads, "num_key_value_heads"); Positive(HeadDim, "head_dim");
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw new InvalidDataException($"{Source}: num_key_value_heads {NumKeyValueHeads} must divide num_attention_heads {NumAttentionHeads}.");
        void PositiveReal(double v, string field)
        {
            if (!(v > 0) || double.IsInfinity(v)) throw new InvalidDataException($"{Source}: {field} must be a positive number (found {v}).");
        }
        PositiveReal(RopeTheta, "rope_theta");
        PositiveReal(RmsNormEps, "rms_norm_eps");
    }

    /// <summary>Number of weights the model has (biases and norms included), computed without overflow.</summary>
    public double ParameterCount()
    {
        double h = HiddenSize, queries = (double)NumAttentionHeads * HeadDim, keys = (double)NumKeyValueHeads * HeadDim, mlp = IntermediateSize;
        double perLayer = h * queries + 2 * h * keys + queries * h + 3 * h * mlp + 2 * h
            + (QkvBias ? queries + 2 * keys : 0) + (OutputBias ? h : 0) + (MlpBias ? 2 * mlp + h : 0) + (QkNorm ? 2.0 * HeadDim : 0);
        return (double)VocabSize * h * (TieWordEmbeddings ? 1 : 2) + (double)NumHiddenLayers * perLayer + h;
    }

    /// <summary>
    /// Refuses, before anything is allocated, a model whose weights alone (at <paramref name="bytesPerWeight"/>) need
    /// more than <paramref name="memoryBytes"/>: a config.json with 10⁶ layers or a hidden size of 10⁹ must fail in a
    /// second, quoting the estimate, not after exhausting the machine's memory.
    /// </summary>
    public void EnsureWeightsFit(int bytesPerWeight, long memoryBytes, string memoryName)
    {
        double parameters = ParameterCount();
        double bytes = parameters * bytesPerWeight;
        if (bytes <= memoryBytes) return;
        throw new InvalidDataException(
            $"{Source}: the weights alone need about {FormatBytes(bytes)} ({parameters:G3} parameters of {bytesPerWeight} bytes: vocab_size {VocabSize}, " +
            $"hidden_size {HiddenSize}, intermediate_size {IntermediateSize}, num_hidden_layers {NumHiddenLayers}, num_attention_heads {NumAttentionHeads}, " +
            $"head_dim {HeadDim}), more than the {FormatBytes(memoryBytes)} of {memoryName}; check those sizes.");
    }

    static string FormatBytes(double bytes) => bytes switch
    {
        >= 1e12 => $"{bytes / 1e12:0.#} TB",
        >= 1e9 => $"{bytes / 1e9:0.#} GB",
        _ => $"{bytes / 1e6:0.#} MB",
    };

    sealed class Reader(JsonObject json, string source, string prefix = "")
    {
        public Exception Error(string field, string problem, string fix) =>
            new InvalidDataException($"{source}: {prefix}{field} {problem} ({fix}).");

        JsonValue? Value(string field) => json[field] switch
        {
            null => null,
            JsonValue v => v,
            _ => throw Error(field, "must be a single value", "see the Hugging Face config documentation"),
        };

        public string? String(string field)
        {
            var v = Value(field);
            if (v == null) return null;
            return v.TryGetValue(out string? s) ? s : throw Error(field, "must be a string", "see the Hugging Face config documentation");
        }

        public double? Double(string field)
        {
            var v = Value(field);
            if (v == null) return null;
            return v.TryGetValue(out double d) ? d : throw Error(field, "must be a number", "see the Hugging Face config documentation");
        }

        public int? Int(string field)
        {
            var v = Value(field);
            if (v == null) return null;
            if (v.TryGetValue(out int i)) return i;
            if (v.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (int)d;
            throw Error(field, "must be an integer", "see the Hugging Face config documentation");
        }

        public int RequiredInt(string field) => Int(field) ?? throw Error(field, "is missing", "every Llama-family config.json has it");

        /// <summary>An object-valued field, or null when absent or JSON null; a string, number or list is an error.</summary>
        public JsonObject? ObjectOrNull(string field, string example) => json[field] switch
        {
            null => null,
            JsonObject o => o,
            var other => throw Error(field, $"must be an object or null, not {other.ToJsonString()}", $"e.g. {example}"),
        };

        /// <summary>A token id: a non-negative integer. <paramref name="field"/> names it (e.g. eos_token_id[0]).</summary>
        public int TokenId(JsonNode? node, string field)
        {
            if (node is JsonValue v && (v.TryGetValue(out int id) || (v.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue && (id = (int)d) == d)) && id >= 0)
                return id;
            throw new InvalidDataException($"{source}: {prefix}{field} must be a token id (a non-negative integer), not {node?.ToJsonString() ?? "null"}.");
        }

        public bool? Bool(string field)
        {
            var v = Value(field);
            if (v == null) return null;
            return v.TryGetValue(out bool b) ? b : throw Error(field, "must be true or false", "see the Hugging Face config documentation");
        }
    }
}
