namespace LfU.Cli.GpuCheck;

/// <summary>
/// Everything <c>lfu gpu-check</c> runs with. The real run and the CPU dry run take the same steps, with the same
/// files and the same report layout; the dry run only uses the CPU and tiny sizes, no PyTorch, and looser budgets
/// (see <see cref="GpuCheckRunner.DryRunBudgetFactor"/>).
/// </summary>
/// <param name="Root">A folder laid out like the repository (tests/LfU.MLNet.Tests/Fixtures, data/models/mini-world,
/// data/mini-world, data/configs): a checkout, or the payload that scripts/gpu-check.sh packs next to the program.</param>
/// <param name="PyTorchScript">shared/bench/pt_lfu_bench.py (packed as ROOT/pt_lfu_bench.py); never run in a dry run.</param>
internal sealed record GpuCheckSettings(bool DryRun, string Root, string OutputFolder, string? PyTorchScript)
{
    public string Fixtures => Path.Combine(Root, "tests", "LfU.MLNet.Tests", "Fixtures");
    public string MiniWorldModel => Path.Combine(Root, "data", "models", "mini-world");
    public string MiniWorldData => Path.Combine(Root, "data", "mini-world");
    public string Configs => Path.Combine(Root, "data", "configs");

    public string Mode => DryRun ? "cpu-dry-run" : "cuda";

    // a. the bf16 matmul: 8192³ is what shared/device/README measured (780 TFLOP/s on an H200).
    public int MatmulSize => DryRun ? 256 : 8192;
    public int MatmulRepeats => DryRun ? 2 : 50;

    // d. the short fine-tune of the bundled model, and its evaluation.
    public int FineTuneSteps => DryRun ? 2 : 30;
    public int FineTuneBatch => DryRun ? 4 : 16;
    public int EvalInDomain => DryRun ? 2 : 60;
    public int EvalPerOodSet => DryRun ? 1 : 20;
    public int EvalMaxNewTokens => DryRun ? 8 : 32;

    // e. lfu bench: batch 4 × 512, bf16, LoRA r = 8 (the setting); a dry run takes llama-tiny's shape at 1 × 32
    // (bfloat16 is emulated on most CPUs: even the small CPU shape would take seconds a step).
    public int BenchBatch => DryRun ? 1 : 4;
    public int BenchSequence => DryRun ? 32 : 512;
    public int BenchSteps => DryRun ? 1 : 6;
    public int BenchWarmup => DryRun ? 0 : 2;

    public IReadOnlyList<BenchShape> BenchShapes =>
    [
        new("Llama-3.2-1B", BenchConfig("llama-3.2-1b.json"), "1b", TimeSpan.FromSeconds(100)),
        new("Llama-3.1-8B", BenchConfig("llama-3.1-8b.json"), "8b", TimeSpan.FromSeconds(170)),
    ];

    string BenchConfig(string file) => DryRun ? Path.Combine(Fixtures, "models", "llama-tiny", "config.json") : Path.Combine(Configs, file);

    /// <summary>
    /// The budgets add up to 7 min 10 s, leaving 50 s of the 8 minutes for unpacking the runtime, starting .NET and
    /// initialising CUDA. Typical runs take far less; a budget only bounds a step that hangs or crawls.
    /// </summary>
    public static readonly TimeSpan DeviceBudget = TimeSpan.FromSeconds(20),
        ParityBudget = TimeSpan.FromSeconds(30),
        ReferenceStepBudget = TimeSpan.FromSeconds(30),
        FineTuneBudget = TimeSpan.FromSeconds(80);

    public TimeSpan TotalBudget => DeviceBudget + ParityBudget + ReferenceStepBudget + FineTuneBudget + BenchShapes.Aggregate(TimeSpan.Zero, (t, s) => t + s.Budget);
}
