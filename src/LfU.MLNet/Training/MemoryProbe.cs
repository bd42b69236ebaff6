using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// Peak memory of the training device. TorchSharp 0.107 exposes no CUDA allocator statistics, so on CUDA this samples
/// the device's used memory (cudaMemGetInfo: total − free) whenever <see cref="Sample"/> is called; PyTorch's caching
/// allocator keeps freed blocks reserved, so a sample taken after a step bounds that step's peak from above (it also
/// counts the CUDA context, ~0.5 GiB). On the CPU it is the process's peak resident set.
/// </summary>
internal sealed class MemoryProbe
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int MemGetInfo(out nuint free, out nuint total);

    static readonly Lazy<MemGetInfo?> CudaMemGetInfo = new(LoadCudaMemGetInfo);
    readonly bool _cuda;
    long? _peak;

    public MemoryProbe(Device device) => _cuda = device.type == DeviceType.CUDA;

    /// <summary>Bytes, or null when the device offers no way to measure.</summary>
    public long? PeakBytes => _peak;

    /// <summary>What is measured, for reports.</summary>
    public string Description => _cuda ? "device memory in use (cudaMemGetInfo), sampled after each step" : "process peak resident set";

    public void Sample()
    {
        long? now;
        if (!_cuda)
        {
            using var process = Process.GetCurrentProcess();
            now = process.PeakWorkingSet64;
        }
        else
        {
            var getInfo = CudaMemGetInfo.Value;
            now = getInfo is not null && getInfo(out nuint free, out nuint total) == 0 ? (long)(total - free) : null;
        }
        if (now is long n) _peak = Math.Max(_peak ?? 0, n);
    }

    static MemGetInfo? LoadCudaMemGetInfo()
    {
        foreach (string name in new[] { "libcudart.so.12", "libcudart.so.13", "libcudart.so.11.0", "libcudart.so", "cudart64_12.dll" })
            if (NativeLibrary.TryLoad(name, typeof(MemoryProbe).Assembly, null, out IntPtr library)
                && NativeLibrary.TryGetExport(library, "cudaMemGetInfo", out IntPtr function))
                return Marshal.GetDelegateForFunctionPointer<MemGetInfo>(function);
        return null;
    }
}
