using System.Globalization;

namespace LfU.MLNet.Benchmark;

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
