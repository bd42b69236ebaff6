using System.Globalization;
using LfU.MLNet.Objectives;

namespace LfU.MLNet.Benchmark;

/// <summary>
/// A fine-tuning method compared by the forgetting benchmark: <see cref="Base"/> (the pretrained model, untrained) or
/// any objective of <see cref="ObjectiveRegistry"/>, by its name, trained with a LoRA adapter. A newly registered
/// objective is a method with no change here; what it reads of the grid follows from its type (<see cref="Sweep.Affects"/>).
/// </summary>
internal sealed record BenchmarkMethod
{
    /// <summary>The name of <see cref="Base"/>.</summary>
    public const string BaseName = "base";

    /// <summary>The pretrained model, untrained: the reference every method forgets from.</summary>
    public static BenchmarkMethod Base { get; } = new(BaseName);

    BenchmarkMethod(string name) => Name = name;

    /// <summary>The name users type: <c>base</c> or a registered objective's name.</summary>
    public string Name { get; }

    /// <summary>Whether the method fine-tunes (every method but <see cref="Base"/>).</summary>
    public bool Trains => Name != BaseName;

    /// <summary>The objective with its own defaults; null for <see cref="Base"/>.</summary>
    public TrainingObjective? Objective => Trains ? ObjectiveRegistry.Create(Name) : null;

    /// <summary>The objective with <paramref name="parameters"/>; null for <see cref="Base"/>.</summary>
    public TrainingObjective? ObjectiveWith(ObjectiveParameters parameters) => Trains ? ObjectiveRegistry.Create(Name, parameters) : null;

    /// <summary>Where the method sorts in reports and which chart colour it takes: its place in <see cref="BenchmarkMethods.Known"/>.</summary>
    public int Order => BenchmarkMethods.IndexOf(this);

    /// <summary>The method named <paramref name="name"/> (case-insensitive), spelt as the registry spells it.</summary>
    /// <exception cref="ArgumentException">Neither <c>base</c> nor a registered objective.</exception>
    public static BenchmarkMethod Named(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.Equals(name, BaseName, StringComparison.OrdinalIgnoreCase)) return Base;
        var entry = ObjectiveRegistry.All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown benchmark method '{name}'; choose from {string.Join(", ", BenchmarkMethods.Known.Select(m => m.Name))}.", nameof(name));
        return new BenchmarkMethod(entry.Name);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

internal static class BenchmarkMethods
{
    /// <summary>The default methods, the paper's comparison; they keep the first places (and colours) of <see cref="Known"/>.</summary>
    static readonly string[] DefaultNames = [BenchmarkMethod.BaseName, "sft", "lfu-lora", "lfu-reps", "neftune", "l2"];

    /// <summary>The default methods: the paper's comparison. <see cref="Known"/> lists every method.</summary>
    public static IReadOnlyList<BenchmarkMethod> All { get; } = DefaultNames.Select(BenchmarkMethod.Named).ToList();

    /// <summary>Every method <see cref="ParseList"/> accepts: the defaults, then every other registered objective in registry order.</summary>
    public static IReadOnlyList<BenchmarkMethod> Known { get; } =
        [.. All, .. ObjectiveRegistry.Names.Where(n => !DefaultNames.Contains(n)).Select(BenchmarkMethod.Named)];

    internal static int IndexOf(BenchmarkMethod method)
    {
        for (int i = 0; i < Known.Count; i++)
            if (Known[i].Name == method.Name) return i;
        return Known.Count;
    }

    /// <summary>Parses a comma-separated list such as <c>base,sft,lfu-lora</c>; duplicates are an error.</summary>
    public static IReadOnlyList<BenchmarkMethod> ParseList(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var methods = new List<BenchmarkMethod>();
        foreach (string part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var method = BenchmarkMethod.Named(part);
            if (methods.Contains(method)) throw new ArgumentException($"Benchmark method '{part}' is listed twice.");
            methods.Add(method);
        }
        if (methods.Count == 0) throw new ArgumentException($"No benchmark method given; choose from {string.Join(", ", Known.Select(n => n.Name))}.");
        return methods;
    }
}

/// <summary>The training hyper-parameters of one benchmark run; each method reads the ones it uses.</summary>
/// <param name="Epochs">Passes over the fine-tuning data.</param>
/// <param name="LearningRate">Peak learning rate (cosine schedule, 10 % warm-up).</param>
/// <param name="Lambda">LfU's consistency weight λ (both perturbations).</param>
/// <param name="Alpha">LfU-LoRA's ascent step α on the adapter weights.</param>
/// <param name="RepsAlpha">LfU-RepS's steering step α, in the additive form h + α·d/‖d‖ (one norm over all layers'
/// vectors): it needs a larger value than LoRA's α to change anything measurable.</param>
/// <param name="NoiseAlpha">NEFTune's noise scale α.</param>
/// <param name="L2Weight">The L2 penalty's weight.</param>
/// <param name="AscentSteps">LfU-LoRA-multistep's number k of ascent steps of α/k.</param>
internal sealed record Hyperparameters(int Epochs, double LearningRate, double Lambda, double Alpha, double RepsAlpha, double NoiseAlpha, double L2Weight,
    int AscentSteps = LfULoraMultiStepObjective.DefaultAscentSteps)
{
    /// <summary>The defaults of <c>lfu benchmark</c>: aggressive enough for forgetting to show on the mini world (science lesson 1).</summary>
    public static Hyperparameters Default { get; } = new(10, 3e-3, 5, 0.1, 1.0, 5, 0.01);

    /// <summary>The value of λ, α or the RepS α that <see cref="LfUCalibration"/> sets during training (written <c>auto</c>).</summary>
    public const double Auto = double.NaN;

    /// <summary>Whether <paramref name="value"/> is <see cref="Auto"/>.</summary>
    public static bool IsAuto(double value) => double.IsNaN(value);

    /// <summary>Parameters that may be <see cref="Auto"/>.</summary>
    public static bool MayBeAuto(SweepParameter parameter) => parameter is SweepParameter.Lambda or SweepParameter.Alpha or SweepParameter.RepsAlpha;

    /// <summary><paramref name="value"/> as <paramref name="format"/> gives it, or <c>auto</c>.</summary>
    public static string Format(double value, string format) => IsAuto(value) ? "auto" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Reads <see cref="Format"/>'s text back; false when it is neither a number nor <c>auto</c>.</summary>
    public static bool TryParse(string text, out double value)
    {
        if (string.Equals(text.Trim(), "auto", StringComparison.OrdinalIgnoreCase)) { value = Auto; return true; }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !double.IsNaN(value);
    }

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a positive number.");
        if (AscentSteps < 1) throw new ArgumentOutOfRangeException(nameof(AscentSteps), AscentSteps, "The number of ascent steps must be at least 1.");
        foreach (var (value, name) in new[] { (Lambda, "lambda"), (Alpha, "alpha"), (RepsAlpha, "reps-alpha"), (NoiseAlpha, "noise-alpha"), (L2Weight, "l2-weight") })
            if (!IsAuto(value) && (!(value >= 0) || double.IsInfinity(value))) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite non-negative number, got {value}.");
    }
}

/// <summary>A hyper-parameter that a sweep varies.</summary>
internal enum SweepParameter { Lambda, Alpha, RepsAlpha, Epochs, LearningRate, NoiseAlpha, L2Weight, AscentSteps }

/// <summary>One swept hyper-parameter and its values, e.g. <c>lambda=1,5,20</c>. Every method that uses the
/// parameter runs once per value (the others keep their defaults); several sweeps are run one after another, not as a grid.</summary>
internal sealed record Sweep(SweepParameter Parameter, IReadOnlyList<double> Values)
{
    static readonly (SweepParameter Parameter, string Name)[] Names =
    [
        (SweepParameter.Lambda, "lambda"), (SweepParameter.Alpha, "alpha"), (SweepParameter.RepsAlpha, "reps-alpha"),
        (SweepParameter.Epochs, "epochs"), (SweepParameter.LearningRate, "lr"), (SweepParameter.NoiseAlpha, "noise-alpha"),
        (SweepParameter.L2Weight, "l2-weight"), (SweepParameter.AscentSteps, "ascent-steps"),
    ];

    public static string NameOf(SweepParameter parameter) => Names.First(n => n.Parameter == parameter).Name;

    /// <summary>Parses <c>name=v1,v2,...</c>.</summary>
    public static Sweep Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string known = string.Join(", ", Names.Select(n => n.Name));
        int equals = spec.IndexOf('=');
        if (equals <= 0) throw new ArgumentException($"Sweep '{spec}' must look like name=v1,v2 (e.g. lambda=1,5,20); names: {known}.");
        string name = spec[..equals].Trim();
        var match = Names.Where(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (match.Count == 0) throw new ArgumentException($"Sweep '{spec}': unknown parameter '{name}'; choose from {known}.");
        var parameter = match[0].Parameter;
        var values = new List<double>();
        foreach (string text in spec[(equals + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Hyperparameters.TryParse(text, out double value) || (Hyperparameters.IsAuto(value) && !Hyperparameters.MayBeAuto(parameter)))
                throw new ArgumentException($"Sweep '{spec}': '{text}' is not a number{(Hyperparameters.MayBeAuto(parameter) ? " or auto" : "")}.");
            if (parameter is SweepParameter.Epochs or SweepParameter.AscentSteps && (value < 1 || value != Math.Floor(value)))
                throw new ArgumentException($"Sweep '{spec}': {name} must be whole numbers of at least 1, got '{text}'.");
            if (values.Contains(value)) throw new ArgumentException($"Sweep '{spec}': the value {text} is listed twice.");
            values.Add(value);
        }
        if (values.Count == 0) throw new ArgumentException($"Sweep '{spec}' has no values; give at least one, e.g. {name}=1,5,20.");
        var sweep = new Sweep(parameter, values);
        foreach (double value in values) sweep.Apply(Hyperparameters.Default, value).Validate();
        return sweep;
    }

    /// <summary>
    /// Whether <paramref name="method"/> reads this parameter, from its objective: a setting it reads changes the
    /// objective the registry builds; α is the RepS α for objectives that steer representations, else the LoRA α.
    /// </summary>
    public bool Affects(BenchmarkMethod method) => Reads(method, Parameter);

    /// <summary>Whether <paramref name="method"/>'s objective reads <paramref name="parameter"/>.</summary>
    public static bool Reads(BenchmarkMethod method, SweepParameter parameter)
    {
        if (method.Objective is not { } objective) return false;
        // A value no default has: an objective that reads the setting comes out different.
        const double Probe = 0.123456789;
        bool Changes(ObjectiveParameters p) => !Equals(method.ObjectiveWith(p), objective);
        bool steers = objective is LfUObjective { PerturbsRepresentations: true };
        return parameter switch
        {
            SweepParameter.Lambda => Changes(new ObjectiveParameters { Lambda = Probe }),
            SweepParameter.Alpha => !steers && Changes(new ObjectiveParameters { Alpha = Probe }),
            SweepParameter.RepsAlpha => steers && Changes(new ObjectiveParameters { Alpha = Probe }),
            SweepParameter.AscentSteps => Changes(new ObjectiveParameters { AscentSteps = 123 }),
            SweepParameter.NoiseAlpha => Changes(new ObjectiveParameters { NoiseAlpha = Probe }),
            SweepParameter.L2Weight => Changes(new ObjectiveParameters { PenaltyWeight = Probe }),
            SweepParameter.Epochs or SweepParameter.LearningRate => true,
            _ => throw new ArgumentOutOfRangeException(nameof(parameter)),
        };
    }

    public Hyperparameters Apply(Hyperparameters h, double value) => Parameter switch
    {
        SweepParameter.Lambda => h with { Lambda = value },
        SweepParameter.Alpha => h with { Alpha = value },
        SweepParameter.RepsAlpha => h with { RepsAlpha = value },
        SweepParameter.Epochs => h with { Epochs = (int)value },
        SweepParameter.LearningRate => h with { LearningRate = value },
        SweepParameter.NoiseAlpha => h with { NoiseAlpha = value },
        SweepParameter.L2Weight => h with { L2Weight = value },
        SweepParameter.AscentSteps => h with { AscentSteps = (int)value },
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    public double ValueIn(Hyperparameters h) => Parameter switch
    {
        SweepParameter.Lambda => h.Lambda,
        SweepParameter.Alpha => h.Alpha,
        SweepParameter.RepsAlpha => h.RepsAlpha,
        SweepParameter.Epochs => h.Epochs,
        SweepParameter.LearningRate => h.LearningRate,
        SweepParameter.NoiseAlpha => h.NoiseAlpha,
        SweepParameter.L2Weight => h.L2Weight,
        SweepParameter.AscentSteps => h.AscentSteps,
        _ => throw new InvalidOperationException(),
    };
}

/// <summary>Settings of <see cref="ForgettingBenchmark"/>.</summary>
internal sealed record BenchmarkOptions
{
    /// <summary>The pretrained base model (a Hugging Face folder).</summary>
    public required string ModelFolder { get; init; }
    /// <summary>The mini-world data folder (see <see cref="MiniWorldFiles"/>).</summary>
    public required string DataFolder { get; init; }
    /// <summary>Receives results.csv, results.md, the charts and per-run predictions.</summary>
    public required string OutputFolder { get; init; }
    public IReadOnlyList<BenchmarkMethod> Methods { get; init; } = BenchmarkMethods.All;
    /// <summary>Trained methods run with seeds 1..Seeds; the base model is deterministic and runs once.</summary>
    public int Seeds { get; init; } = 2;
    public Hyperparameters Defaults { get; init; } = Hyperparameters.Default;
    public IReadOnlyList<Sweep> Sweeps { get; init; } = [];
    /// <summary>Parameters varied together: each method runs every combination of the grid parameters it uses.</summary>
    public IReadOnlyList<Sweep> Grid { get; init; } = [];
    /// <summary>Dtype training computes in (bfloat16 over the float32 base and adapter); null = float32 throughout.</summary>
    public TorchSharp.torch.ScalarType? ComputeDType { get; init; }
    /// <summary>Attention kernel of training and evaluation (eager is faster on a CPU for these short sequences).</summary>
    public Model.AttentionImplementation Attention { get; init; } = Model.AttentionImplementation.Sdpa;
    public int BatchSize { get; init; } = 16;
    /// <summary>Optimizer steps per run, overriding the epochs (for smoke tests); null trains for the epochs.</summary>
    public int? MaxSteps { get; init; }
    /// <summary>In-domain test items (finetune_test.jsonl); null = all.</summary>
    public int? TestLimit { get; init; } = 100;
    /// <summary>Items per out-of-domain category; null = all.</summary>
    public int? OodLimit { get; init; } = 100;
    /// <summary>Items per paraphrase template; null = all.</summary>
    public int? ParaphraseLimit { get; init; } = 100;
    public int MaxNewTokens { get; init; } = 48;
    /// <summary>Prompts per generation call.</summary>
    public int EvalBatchSize { get; init; } = 32;
    /// <summary>Prompt template of the base model (it was pretrained with alpaca).</summary>
    public string Template { get; init; } = "alpaca";
    /// <summary>"cpu" or "cuda".</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Keep the runs already in the output folder's results.csv (written with the same settings) and run only the rest.</summary>
    public bool Resume { get; init; }
    /// <summary>Start afresh in an output folder that holds files (an earlier benchmark's): they are deleted before the
    /// first run. Without it (or <see cref="Resume"/>) such a folder is refused rather than overwritten piecemeal.</summary>
    public bool Overwrite { get; init; }
    /// <summary>Run nothing: rewrite results.md, results.csv and the charts from the runs already in the output folder
    /// (written with the same settings), e.g. after merging the results.csv rows of benchmarks run in parallel.</summary>
    public bool ReportOnly { get; init; }
    /// <summary>The command line recorded in results.md.</summary>
    public string CommandLine { get; init; } = "";

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ModelFolder);
        ArgumentException.ThrowIfNullOrWhiteSpace(DataFolder);
        ArgumentException.ThrowIfNullOrWhiteSpace(OutputFolder);
        if (Methods.Count == 0) throw new ArgumentException("No benchmark method given.", nameof(Methods));
        if (Seeds < 1) throw new ArgumentOutOfRangeException(nameof(Seeds), Seeds, "Seeds must be at least 1.");
        Defaults.Validate();
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be at least 1.");
        if (MaxSteps is < 1) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "MaxSteps must be at least 1 (or null to train for the epochs).");
        foreach (var (limit, name) in new[] { (TestLimit, "test limit"), (OodLimit, "OOD limit"), (ParaphraseLimit, "paraphrase limit") })
            if (limit is < 1) throw new ArgumentOutOfRangeException(name, limit, $"The {name} must be at least 1 (or unset for all items).");
        if (MaxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "MaxNewTokens must be at least 1.");
        if (EvalBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(EvalBatchSize), EvalBatchSize, "The evaluation batch size must be at least 1.");
        if (Device is not ("cpu" or "cuda")) throw new ArgumentException($"Device '{Device}' is not supported; use cpu or cuda.", nameof(Device));
        var varied = Sweeps.Concat(Grid).Select(s => s.Parameter).ToList();
        if (varied.Distinct().Count() != varied.Count)
            throw new ArgumentException($"A parameter is varied twice ({string.Join(", ", varied.GroupBy(p => p).Where(g => g.Count() > 1).Select(g => Sweep.NameOf(g.Key)))}); give each parameter one --sweep or one --grid.", nameof(Sweeps));
    }
}

/// <summary>One planned run: a method with a seed and its hyper-parameters.</summary>
/// <param name="Method">The method.</param>
/// <param name="Seed">Training seed (1-based; 0 for the base model, which does not train).</param>
/// <param name="Hyperparameters">The run's training settings.</param>
/// <param name="Setting">The swept parameters' values of this run (e.g. <c>lambda=5</c>), or <c>default</c>.</param>
internal sealed record BenchmarkRun(BenchmarkMethod Method, int Seed, string Setting, Hyperparameters Hyperparameters)
{
    public bool Trains => Method.Trains;

    public string Describe() => $"{Method.Name} seed {Seed} ({Setting})";

    /// <summary>
    /// Every run of a benchmark, seed by seed so that partial results cover every method: the base model once
    /// (seed 0), then for each seed each method at its defaults, at each value of each sweep that affects it, and at
    /// every combination of the grid parameters that affect it (duplicates removed).
    /// </summary>
    public static IReadOnlyList<BenchmarkRun> Plan(BenchmarkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var runs = new List<BenchmarkRun>();
        if (options.Methods.Contains(BenchmarkMethod.Base))
            runs.Add(new BenchmarkRun(BenchmarkMethod.Base, 0, "default", options.Defaults));
        for (int seed = 1; seed <= options.Seeds; seed++)
            foreach (var method in options.Methods.Where(m => m.Trains))
            {
                var sweeps = options.Sweeps.Where(s => s.Affects(method)).ToList();
                var grid = options.Grid.Where(s => s.Affects(method)).ToList();
                var relevant = sweeps.Concat(grid).ToList();
                var settings = new List<Hyperparameters> { options.Defaults };
                void Add(Hyperparameters h)
                {
                    if (!settings.Contains(h)) settings.Add(h);
                }
                foreach (var sweep in sweeps)
                    foreach (double value in sweep.Values) Add(sweep.Apply(options.Defaults, value));
                if (grid.Count > 0)
                {
                    IEnumerable<Hyperparameters> combinations = [options.Defaults];
                    foreach (var axis in grid)
                        combinations = combinations.SelectMany(h => axis.Values.Select(v => axis.Apply(h, v))).ToList();
                    foreach (var h in combinations) Add(h);
                }
                foreach (var h in settings)
                    runs.Add(new BenchmarkRun(method, seed, Label(relevant, h), h));
            }
        return runs;
    }

    static string Label(IReadOnlyList<Sweep> relevant, Hyperparameters h) => relevant.Count == 0
        ? "default"
        : string.Join(" ", relevant.Select(s => string.Create(CultureInfo.InvariantCulture, $"{Sweep.NameOf(s.Parameter)}={Hyperparameters.Format(s.ValueIn(h), "G6")}")));
}
