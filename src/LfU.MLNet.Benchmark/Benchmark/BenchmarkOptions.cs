namespace LfU.MLNet.Benchmark;

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
    /// <summary>What training computes in (<see cref="Training.TrainerOptions.Precision"/>: bf16 over the float32 base and
    /// adapter, fp32, or auto); null = float32 throughout.</summary>
    public string? Precision { get; init; }
    /// <summary><see cref="Precision"/> on <see cref="Device"/>: the dtype training computes in; null = float32.</summary>
    public TorchSharp.torch.ScalarType? ComputeDType =>
        Precision is { } precision ? Training.ComputePrecision.Resolve(precision, Device == "cuda" ? TorchSharp.torch.CUDA : TorchSharp.torch.CPU) : null;
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
