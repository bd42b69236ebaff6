namespace LfU.Cli.GpuCheck;

/// <summary>One model shape that step e benchmarks.</summary>
/// <param name="Label">Its name in the report (the real shape's, also in a dry run).</param>
/// <param name="ConfigFile">The Hub-style config.json that is actually run.</param>
/// <param name="PyTorchShape">pt_lfu_bench.py's name for the shape.</param>
/// <param name="Budget">The hard limit of the whole child process (ours and PyTorch's side).</param>
internal sealed record BenchShape(string Label, string ConfigFile, string PyTorchShape, TimeSpan Budget);
