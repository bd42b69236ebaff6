using LfU.MLNet.Objectives;

namespace LfU.MLNet.Benchmark;

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
        var entry = ObjectiveRegistry.Find(method.Name);
        bool steers = objective is LfUObjective { PerturbsRepresentations: true };
        return parameter switch
        {
            SweepParameter.Lambda => entry.Reads(ObjectiveSetting.Lambda),
            SweepParameter.Alpha => !steers && entry.Reads(ObjectiveSetting.Alpha),
            SweepParameter.RepsAlpha => steers && entry.Reads(ObjectiveSetting.Alpha),
            SweepParameter.AscentSteps => entry.Reads(ObjectiveSetting.AscentSteps),
            SweepParameter.NoiseAlpha => entry.Reads(ObjectiveSetting.NoiseAlpha),
            SweepParameter.L2Weight => entry.Reads(ObjectiveSetting.PenaltyWeight),
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
