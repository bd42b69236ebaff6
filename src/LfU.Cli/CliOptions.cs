using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.CompilerServices;
using LfU.MLNet.Model;
using LfU.MLNet;
using LfU.MLNet.Adapters;
using LfU.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.Cli;

/// <summary>Options shared by several verbs, and range checks that turn bad numbers into parse errors (exit code 2).</summary>
internal static class CliOptions
{
    /// <summary>--model: a Hugging Face model folder (or the output folder of a full fine-tuning run).</summary>
    internal static Option<DirectoryInfo> Model() => new Option<DirectoryInfo>("--model")
    {
        Description = "Hugging Face model folder: config.json, *.safetensors, tokenizer.json.",
        Required = true,
    }.AcceptExistingOnly();

    /// <summary>--adapter: a PEFT LoRA adapter folder (or the output folder of <c>lfu train</c>).</summary>
    internal static Option<DirectoryInfo> Adapter(bool required = false) => new Option<DirectoryInfo>("--adapter")
    {
        Description = "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors), or the output folder of 'lfu train'.",
        Required = required,
    }.AcceptExistingOnly();

    internal static Option<string?> Template() => new("--template")
    {
        Description = "Prompt template: alpaca, llama3, chatml, or a text containing {prompt}. Default: from the tokenizer's chat template, else alpaca.",
    };

    internal static Option<string?> DType() => new Option<string?>("--dtype")
    {
        Description = "Weight dtype: float32, bfloat16, float16 or float64. Default: float32 on the CPU, bfloat16 on CUDA.",
    }.OneOf("float32", "bfloat16", "float16", "float64");

    /// <summary>--attention: eager (explicit matmuls; faster on a CPU for short sequences) or sdpa (fused; best on CUDA).</summary>
    internal static Option<string> Attention(string defaultValue) => new Option<string>("--attention")
    {
        Description = "Attention kernel: eager (explicit matmuls; faster on a CPU for short sequences) or sdpa (fused; best on CUDA).",
        DefaultValueFactory = _ => defaultValue,
    }.OneOf("eager", "sdpa");

    internal static LfU.MLNet.Model.AttentionImplementation ParseAttention(string value) =>
        value == "eager" ? LfU.MLNet.Model.AttentionImplementation.Eager : LfU.MLNet.Model.AttentionImplementation.Sdpa;

    /// <summary>--precision: one of <see cref="LfU.MLNet.Training.ComputePrecision.Names"/>, plus <paramref name="extra"/> values a verb adds.</summary>
    internal static Option<string> Precision(string description, string defaultValue, params string[] extra) => new Option<string>("--precision")
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
    }.OneOf([.. extra, .. LfU.MLNet.Training.ComputePrecision.Names]);

    internal static Option<string> Device() => new Option<string>("--device")
    {
        Description = "cpu or cuda (an NVIDIA GPU and TorchSharp's CUDA backend, which the lfu package does not carry: see the README's CUDA section).",
        DefaultValueFactory = _ => "cpu",
    }.OneOf("cpu", "cuda");

    /// <summary>The options that load a model for inference.</summary>
    internal sealed record ModelOptions(Option<DirectoryInfo> Model, Option<DirectoryInfo> Adapter, Option<string?> Template,
        Option<string?> DType, Option<string> Device)
    {
        internal static ModelOptions Create(bool adapterRequired = false) => new(CliOptions.Model(), CliOptions.Adapter(adapterRequired), CliOptions.Template(), CliOptions.DType(), CliOptions.Device());

        internal IEnumerable<Option> All => [Model, Adapter, Template, DType, Device];

        /// <summary>Loads the model (and adapter) the parsed options name.</summary>
        /// <param name="parse">The parsed command line.</param>
        /// <param name="keepCheckpointDType">Without --dtype, keep the checkpoint's dtype (for export) instead of the device's default.</param>
        internal LfUModel Load(ParseResult parse, bool keepCheckpointDType = false)
        {
            string? dtypeName = parse.GetValue(DType);
            var (device, dtype) = ResolveDevice(parse.GetValue(Device)!, dtypeName);
            string? adapter = parse.GetValue(Adapter) is { } a ? AdapterFolder(a.FullName) : null;
            return LfUModel.Load(ModelFolder(parse.GetValue(Model)!.FullName), adapter, parse.GetValue(Template),
                keepCheckpointDType && dtypeName is null ? null : dtype, device);
        }
    }

    /// <summary>Sampling settings for generation.</summary>
    internal sealed record GenerationOptions(Option<int> MaxNewTokens, Option<double> Temperature, Option<double> TopP, Option<int> TopK,
        Option<int?> Seed, Option<string[]> Stop, Option<int> Batch)
    {
        internal static GenerationOptions Create(int defaultMaxNewTokens = 128)
        {
            var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Most tokens generated per prompt.", DefaultValueFactory = _ => defaultMaxNewTokens };
            var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 decodes greedily.", DefaultValueFactory = _ => 0 };
            var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass in (0, 1]; 1 disables it.", DefaultValueFactory = _ => 1 };
            var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens; 0 disables it.", DefaultValueFactory = _ => 0 };
            var seed = new Option<int?>("--seed") { Description = "Seed of the sampler (default: random)." };
            var stop = new Option<string[]>("--stop") { Description = "Stop a generation at this text (not included in the output); repeat for several." };
            var batch = new Option<int>("--batch") { Description = "Prompts generated together.", DefaultValueFactory = _ => LfU.MLNet.Generation.TextGenerator.DefaultBatchSize };
            AtLeast(maxNewTokens, 1);
            AtLeast(topK, 0);
            AtLeast(batch, 1);
            AnyWhole(seed);
            InRange(temperature, 0, double.MaxValue, "0 (greedy) or more");
            InRange(topP, double.Epsilon, 1, "in (0, 1]");
            return new GenerationOptions(maxNewTokens, temperature, topP, topK, seed, stop, batch);
        }

        internal IEnumerable<Option> All => [MaxNewTokens, Temperature, TopP, TopK, Seed, Stop, Batch];

        internal GenerationSettings Settings(ParseResult parse)
        {
            string[] stops = parse.GetValue(Stop) ?? [];
            if (stops.Any(string.IsNullOrEmpty)) throw new CliUsageException("--stop needs a non-empty text.");
            return new GenerationSettings
            {
                MaxNewTokens = parse.GetValue(MaxNewTokens), Temperature = parse.GetValue(Temperature), TopP = parse.GetValue(TopP),
                TopK = parse.GetValue(TopK), Seed = parse.GetValue(Seed), StopStrings = stops,
            };
        }
    }

    /// <summary>The device and dtype the --device and --dtype options ask for, with the runtime initialised for it.</summary>
    internal static (Device Device, ScalarType DType) ResolveDevice(string device, string? dtype)
    {
        bool cuda = device == "cuda";
        if (cuda) EnsureCuda();
        else TorchRuntime.EnsureInitialized();
        return (cuda ? CUDA : CPU, PretrainedModel.ParseDType(dtype ?? (cuda ? "bfloat16" : "float32")));
    }

    /// <summary>Initialises TorchSharp for CUDA, or fails with what is missing for --device cuda, library and tool alike.</summary>
    internal static void EnsureCuda()
    {
        try { TorchRuntime.EnsureInitialized(cuda: true); }
        catch (InvalidOperationException e) when (TorchRuntime.FindCudaBackend() is null)
        {
            // The tool's package carries the CPU backend only: CUDA's libtorch is gigabytes, past what a NuGet package may hold.
            throw new InvalidOperationException($"--device cuda: {e.Message} The lfu tool itself ships the CPU backend only; for GPUs, use the PyTorch route above, " +
                "or build lfu from its sources with -p:LfUTorchBackend=cuda (which references TorchSharp-cuda-linux).", e);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"--device cuda: {e.Message}", e);
        }
    }

    /// <summary>A model folder, or the model/ folder inside the output of a full fine-tuning run.</summary>
    internal static string ModelFolder(string folder)
    {
        string inner = Path.Combine(folder, "model");
        return !File.Exists(Path.Combine(folder, "config.json")) && File.Exists(Path.Combine(inner, "config.json")) ? inner : folder;
    }

    /// <summary>An adapter folder, or the adapter/ folder inside the output of a LoRA training run.</summary>
    internal static string AdapterFolder(string folder)
    {
        string inner = Path.Combine(folder, "adapter");
        return !File.Exists(Path.Combine(folder, PeftAdapter.ConfigFile)) && File.Exists(Path.Combine(inner, PeftAdapter.ConfigFile)) ? inner : folder;
    }

    /// <summary>Rejects an output file path that names a folder, before any long work.</summary>
    internal static Option<FileInfo> NotAFolder(this Option<FileInfo> option)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo?>() is { } file && Directory.Exists(file.FullName))
                result.AddError($"{option.Name} '{file.FullName}' is a folder; give a file name.");
        });
        return option;
    }

    /// <summary>Rejects an output folder path that names an existing file, before any long work.</summary>
    internal static Option<DirectoryInfo> NotAFile(this Option<DirectoryInfo> option)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<DirectoryInfo?>() is { } folder && File.Exists(folder.FullName))
                result.AddError($"{option.Name} '{folder.FullName}' is a file; give a folder.");
        });
        return option;
    }

    /// <summary>Accepts only the given words (with tab completion); the error names the option and the choices.</summary>
    internal static Option<T> OneOf<T>(this Option<T> option, params string[] values)
    {
        option.CompletionSources.Add(values);
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (!values.Contains(token.Value, StringComparer.Ordinal))
                    result.AddError($"{option.Name} must be one of {string.Join(", ", values)}; got '{token.Value}'.");
        });
        return option;
    }

    // ---------------- numeric options ----------------
    // Every numeric option goes through one of the helpers below: they parse the value themselves (invariant culture)
    // and check its range in the same step, so that "abc", "1.5" for a count or "-1" for a size is one usage error
    // naming the option, never an exception from a validator reading a value that did not parse. The range is kept
    // with the option (RangeOf) so that a test can walk every numeric option of every verb.

    static readonly ConditionalWeakTable<Option, NumericRange> Ranges = new();

    /// <summary>The range a numeric option accepts; null for an option not declared through these helpers.</summary>
    internal static NumericRange? RangeOf(Option option) => Ranges.TryGetValue(option, out var range) ? range : null;

    /// <summary>Whether the option's value is a number (int, long or double, nullable or not).</summary>
    internal static bool IsNumeric(Option option) =>
        (Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType) is var t && (t == typeof(int) || t == typeof(long) || t == typeof(double));

    /// <summary>Accepts whole numbers in [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    internal static Option<int> AtLeast(this Option<int> option, int minimum, int maximum = int.MaxValue) =>
        Whole(option, minimum, maximum, v => (int)v);

    /// <inheritdoc cref="AtLeast(Option{int}, int, int)"/>
    internal static Option<int?> AtLeast(this Option<int?> option, int minimum, int maximum = int.MaxValue) =>
        Whole(option, minimum, maximum, v => (int?)(int)v);

    /// <summary>Accepts any 32-bit whole number (seeds).</summary>
    internal static Option<int?> AnyWhole(this Option<int?> option) => Whole(option, int.MinValue, int.MaxValue, v => (int?)(int)v);

    /// <summary>Accepts any 64-bit whole number (seeds).</summary>
    internal static Option<long> AnyWhole(this Option<long> option) => Whole(option, long.MinValue, long.MaxValue, v => v);

    /// <summary>Accepts finite numbers in [minimum, maximum], describing the range in words.</summary>
    internal static Option<double> InRange(this Option<double> option, double minimum, double maximum, string range) =>
        Real(option, minimum, maximum, range, v => v);

    /// <inheritdoc cref="InRange(Option{double}, double, double, string)"/>
    internal static Option<double?> InRange(this Option<double?> option, double minimum, double maximum, string range) =>
        Real(option, minimum, maximum, range, v => (double?)v);

    static Option<T> Whole<T>(Option<T> option, long minimum, long maximum, Func<long, T> convert)
    {
        string words = (minimum, maximum) switch
        {
            ( <= int.MinValue, _) => "a whole number",
            (_, int.MaxValue or long.MaxValue) => $"a whole number, at least {minimum}",
            _ => $"a whole number from {minimum} to {maximum}",
        };
        Ranges.AddOrUpdate(option, new NumericRange(minimum, maximum, Integer: true, words));
        option.CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || value < minimum || value > maximum)
            {
                result.AddError($"{option.Name} must be {words}, got '{text}'.");
                return default;
            }
            return convert(value);
        };
        return option;
    }

    /// <summary>A number in [<paramref name="minimum"/>, <paramref name="maximum"/>] or the word <c>auto</c> (<see cref="NumberOrAuto.Auto"/>).</summary>
    internal static Option<NumberOrAuto?> InRangeOrAuto(this Option<NumberOrAuto?> option, double minimum, double maximum, string range) =>
        Real(option, minimum, maximum, range, v => new NumberOrAuto(v), keyword: ("auto", new NumberOrAuto(null)));

    /// <param name="keyword">A word accepted besides the numbers, and the value it stands for (e.g. <c>auto</c>).</param>
    static Option<T> Real<T>(Option<T> option, double minimum, double maximum, string range, Func<double, T> convert, (string Word, T Value)? keyword = null)
    {
        string accepted = keyword is { Word: var word } ? $"{range}, or {word}" : range;
        Ranges.AddOrUpdate(option, new NumericRange(minimum, maximum, Integer: false, accepted));
        option.CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (keyword is { } k && string.Equals(text, k.Word, StringComparison.OrdinalIgnoreCase)) return k.Value;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                result.AddError($"{option.Name} must be a number, {accepted}; got '{text}'.");
            else if (!(value >= minimum && value <= maximum) || !double.IsFinite(value))
                result.AddError($"{option.Name} must be {accepted}, got {text}.");
            else return convert(value);
            return default;
        };
        return option;
    }
}
