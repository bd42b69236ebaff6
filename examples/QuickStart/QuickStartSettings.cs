namespace QuickStart;

/// <summary>The quick start's command line: where the model and data are, how long to train, how much to evaluate.</summary>
public sealed record QuickStartSettings
{
    public const string Usage = """
        usage: dotnet run --project examples/QuickStart -c Release [-- options]
          --model DIR       Hugging Face model folder (default: data/models/mini-world in this repository)
          --data DIR        mini-world data folder (default: data/mini-world)
          --output DIR      where the loss curve, model zip and adapter go (default: artifacts/quickstart)
          --epochs N        passes over the training data (default: 10)
          --lr X            peak learning rate (default: 3e-3)
          --lambda X        LfU's consistency weight (default: 5)
          --alpha X         LfU's ascent step on the adapter weights (default: 0.1)
          --max-train N     train on the first N rows only (default: all 300)
          --eval-rows N     rows of each test set to evaluate (default: 50)
          --quick           a smoke test in seconds: 2 steps on 8 rows, 4 test rows, short generations
        """;

    public required string ModelFolder { get; init; }
    public required string DataFolder { get; init; }
    public required string OutputFolder { get; init; }
    public int Epochs { get; init; } = 10;
    /// <summary>Stop after this many optimizer steps (quick mode); null trains for <see cref="Epochs"/>.</summary>
    public int? MaxSteps { get; init; }
    public int? MaxTrainRows { get; init; }
    public int EvalRows { get; init; } = 50;
    public double LearningRate { get; init; } = 3e-3;
    public double Lambda { get; init; } = 5;
    public double Alpha { get; init; } = 0.1;
    public int BatchSize { get; init; } = 16;
    public int MaxNewTokens { get; init; } = 48;

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with the reason on a bad one.</summary>
    public static QuickStartSettings Parse(string[] args)
    {
        string? model = null, data = null, output = null;
        int? epochs = null, maxTrain = null, evalRows = null;
        double? lr = null, lambda = null, alpha = null;
        bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Count()
            {
                string name = args[i], text = Value();
                return int.TryParse(text, out int n) && n > 0 ? n : throw new ArgumentException($"{name} needs a positive whole number, not '{text}'.");
            }
            double Number()
            {
                string name = args[i], text = Value();
                return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double x) && x >= 0 && double.IsFinite(x)
                    ? x : throw new ArgumentException($"{name} needs a non-negative number, not '{text}'.");
            }
            switch (args[i])
            {
                case "--model": model = Value(); break;
                case "--data": data = Value(); break;
                case "--output": output = Value(); break;
                case "--epochs": epochs = Count(); break;
                case "--max-train": maxTrain = Count(); break;
                case "--eval-rows": evalRows = Count(); break;
                case "--lr": lr = Number(); break;
                case "--lambda": lambda = Number(); break;
                case "--alpha": alpha = Number(); break;
                case "--quick": quick = true; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        // Defaults are relative to the repository, so that the example runs from any working directory.
        string? root = model is not null && data is not null && output is not null ? null : FindRepositoryRoot();
        string InRepository(string relative) => Path.Combine(root ?? throw new ArgumentException(
            $"Could not find the repository (LfU.MLNet.sln) above '{Environment.CurrentDirectory}' or '{AppContext.BaseDirectory}'; pass --model, --data and --output."), relative);

        return new QuickStartSettings
        {
            ModelFolder = Path.GetFullPath(model ?? InRepository(Path.Combine("data", "models", "mini-world"))),
            DataFolder = Path.GetFullPath(data ?? InRepository(Path.Combine("data", "mini-world"))),
            OutputFolder = Path.GetFullPath(output ?? InRepository(Path.Combine("artifacts", "quickstart"))),
            Epochs = epochs ?? (quick ? 1 : 10), // the mini model needs ~10 epochs at lr 3e-3 to pick the new task up at all
            MaxSteps = quick ? 2 : null,
            MaxTrainRows = maxTrain ?? (quick ? 8 : null),
            EvalRows = evalRows ?? (quick ? 4 : 50),
            LearningRate = lr ?? 3e-3,
            Lambda = lambda ?? 5,
            Alpha = alpha ?? 0.1,
            BatchSize = quick ? 4 : 16,
            MaxNewTokens = quick ? 8 : 48,
        };
    }

    static string? FindRepositoryRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "LfU.MLNet.sln"))) return dir.FullName;
        }
        return null;
    }
}
