using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using LfU.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.Cli.GpuCheck;

/// <summary>
/// Step a: TorchSharp runs on CUDA. Which card and driver (nvidia-smi), which libtorch the process actually loaded
/// (/proc/self/maps: PyTorch's torch/lib on the GPU machine), and the rate of a large bf16 matmul.
/// </summary>
internal static class DeviceCheck
{
    public static CheckStep Step { get; } = new("a", "TorchSharp on CUDA: device, driver, bf16 matmul rate", GpuCheckSettings.DeviceBudget, Run);

    static CheckOutcome Run(GpuCheckContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        bool cuda = !settings.DryRun;
        TorchRuntime.EnsureInitialized(cuda); // with cuda: says what is missing when no GPU can be used

        string device = cuda ? NvidiaSmi("name") ?? "unknown CUDA device (nvidia-smi not found)" : CpuName();
        string driver = cuda ? NvidiaSmi("driver_version") ?? "unknown" : "n/a (CPU)";
        string memory = cuda ? NvidiaSmi("memory.total") ?? "unknown" : "n/a";
        string libtorch = LoadedLibrary(cuda ? "libtorch_cuda.so" : "libtorch_cpu.so") ?? "not found in /proc/self/maps";
        string torchSharp = typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

        double tflops = MatmulTflops(context.Device, settings.MatmulSize, settings.MatmulRepeats, cancellationToken);
        context.MatmulTflops = tflops;

        string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        var details = string.Join("\n",
            "| what | value |",
            "|---|---|",
            $"| device | {device} |",
            $"| driver | {driver} |",
            $"| device memory | {memory} |",
            $"| CUDA devices visible | {(cuda ? torch.cuda.device_count().ToString(CultureInfo.InvariantCulture) : "n/a")} |",
            $"| TorchSharp | {torchSharp} |",
            $"| libtorch loaded from | `{libtorch}` |",
            Invariant($"| bf16 matmul {settings.MatmulSize}³ (median of {settings.MatmulRepeats}) | {tflops:G3} TFLOP/s |"),
            "",
            "The matmul rate is the MFU reference of step e (shared/device/README measured 780 TFLOP/s for 8192³ on an H200 with PyTorch).");
        var data = new JsonObject
        {
            ["device"] = device, ["driver"] = driver, ["memory"] = memory, ["torchsharp"] = torchSharp, ["libtorch"] = libtorch,
            ["matmul_size"] = settings.MatmulSize, ["matmul_tflops"] = Math.Round(tflops, 2),
        };
        return new CheckOutcome(CheckStatus.Pass, Invariant($"{device}, driver {driver}: bf16 matmul {tflops:G3} TFLOP/s"), details, data);
    }

    /// <summary>Median rate of <paramref name="repeats"/> timed n×n·n×n bf16 products after three warm-ups, device-synchronised.</summary>
    static double MatmulTflops(Device device, int n, int repeats, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var a = randn(new long[] { n, n }, dtype: ScalarType.BFloat16, device: device);
        var b = randn(new long[] { n, n }, dtype: ScalarType.BFloat16, device: device);
        void Sync() { if (device.type == DeviceType.CUDA) torch.cuda.synchronize(); }
        for (int i = 0; i < 3; i++) using (matmul(a, b)) { }
        Sync();
        var seconds = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            using (matmul(a, b)) Sync();
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        seconds.Sort();
        return 2.0 * n * n * n / seconds[seconds.Count / 2] / 1e12;
    }

    /// <summary>One field of <c>nvidia-smi --query-gpu</c> for the first GPU, or null when nvidia-smi is missing or fails.</summary>
    static string? NvidiaSmi(string field)
    {
        try
        {
            var start = new ProcessStartInfo("nvidia-smi", $"--query-gpu={field} --format=csv,noheader") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start);
            if (process is null) return null;
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(10_000) || process.ExitCode != 0) return null;
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    static string CpuName()
    {
        string name = "CPU";
        try
        {
            name = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? name;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"{name} ({Environment.ProcessorCount} cores; dry run, no GPU)";
    }

    /// <summary>The path of a loaded shared library whose file name is <paramref name="fileName"/>, from /proc/self/maps (Linux).</summary>
    static string? LoadedLibrary(string fileName)
    {
        try
        {
            return File.ReadLines("/proc/self/maps")
                .Select(line => line.IndexOf('/') is int slash and >= 0 ? line[slash..].Trim() : "")
                .FirstOrDefault(path => Path.GetFileName(path).StartsWith(fileName, StringComparison.Ordinal));
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
