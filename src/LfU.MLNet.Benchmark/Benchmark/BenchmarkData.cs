namespace LfU.MLNet.Benchmark;

/// <summary>The mini-world test sets a benchmark run is evaluated on, after the limits.</summary>
internal sealed record BenchmarkData(
    IReadOnlyList<MiniWorldItem> Train,
    IReadOnlyList<MiniWorldItem> InDomain,
    IReadOnlyList<MiniWorldItem> OodKnowledge,
    IReadOnlyList<MiniWorldItem> OodMath,
    IReadOnlyList<MiniWorldItem> OodReasoning,
    IReadOnlyList<MiniWorldItem> Paraphrased)
{
    /// <summary>Reads the mini-world files of <paramref name="folder"/> and keeps the first items of each test set.</summary>
    public static BenchmarkData Load(string folder, int? testLimit, int? oodLimit, int? paraphraseLimit)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Mini-world data folder '{folder}' does not exist; create it with 'lfu make-data --output {folder}'.");
        List<MiniWorldItem> Read(string file)
        {
            var items = MiniWorldFiles.ReadJsonl(Path.Combine(folder, file));
            if (items.Count == 0) throw new InvalidDataException($"'{Path.Combine(folder, file)}' has no items.");
            return items;
        }
        static List<MiniWorldItem> First(List<MiniWorldItem> items, int? limit) => limit is int n ? items.Take(n).ToList() : items;
        // The paraphrase file holds the same questions under each template: keep the first ones of every template.
        var paraphrased = Read(MiniWorldFiles.Robustness).GroupBy(i => i.Template)
            .SelectMany(g => paraphraseLimit is int n ? g.Take(n) : g).ToList();
        return new BenchmarkData(
            Read(MiniWorldFiles.FineTuneTrain),
            First(Read(MiniWorldFiles.FineTuneTest), testLimit),
            First(Read(MiniWorldFiles.OodKnowledge), oodLimit),
            First(Read(MiniWorldFiles.OodMath), oodLimit),
            First(Read(MiniWorldFiles.OodReasoning), oodLimit),
            paraphrased);
    }

    /// <summary>Every test item, in a fixed order (the sets back to back).</summary>
    public IReadOnlyList<MiniWorldItem> AllTests() =>
        InDomain.Concat(OodKnowledge).Concat(OodMath).Concat(OodReasoning).Concat(Paraphrased).ToList();
}
