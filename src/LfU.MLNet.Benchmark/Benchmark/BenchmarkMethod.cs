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
