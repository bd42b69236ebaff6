using System.Runtime.InteropServices;
using TorchSharp;

namespace LfU.MLNet.Native;

/// <summary>
/// Makes sure TorchSharp's native backend is loaded, and turns the cryptic failure it gives on systems with an old
/// libstdc++ into a message that says what is missing and what to do.
/// </summary>
public static class TorchRuntime
{
    static readonly object Gate = new();
    static bool _initialized;

    /// <summary>Loads TorchSharp's native libraries (CPU, and CUDA when <paramref name="cuda"/> is set) or throws a clear error.</summary>
    public static void EnsureInitialized(bool cuda = false)
    {
        lock (Gate)
        {
            if (_initialized && !cuda) return;
            try
            {
                torch.InitializeDeviceType(cuda ? DeviceType.CUDA : DeviceType.CPU);
                _initialized = true;
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
            {
                throw new InvalidOperationException(Diagnose(cuda), e);
            }
            catch (InvalidOperationException e) when (cuda)
            {
                // TorchSharp loads libtorch_cuda.so by name (dlopen), so a Python PyTorch install serves when its torch/lib is on the search path.
                throw new InvalidOperationException("TorchSharp's CUDA backend did not initialise: libtorch_cuda.so was not found or no GPU is visible. " +
                    "With a PyTorch install, put its torch/lib folder on LD_LIBRARY_PATH (as .gpu/gpu-run.sh does); otherwise build with " +
                    $"-p:LfUTorchBackend=cuda. TorchSharp said: {e.Message.Split('\n')[0]}", e);
            }
        }
    }

    /// <summary>The path of the libLibTorchSharp.so that TorchSharp loads first (next to TorchSharp.dll), if any.</summary>
    public static string? FindTorchSharpNative()
    {
        string? dir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (string.IsNullOrEmpty(dir)) return null;
        string rid = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        foreach (string candidate in new[]
                 {
                     Path.Combine(dir, ElfVersionPatcher.TorchSharpLibrary),
                     Path.Combine(dir, "runtimes", rid, "native", ElfVersionPatcher.TorchSharpLibrary),
                 })
            if (File.Exists(candidate)) return candidate;
        return null;
    }

    static string Diagnose(bool cuda)
    {
        string backend = cuda ? "CUDA" : "CPU";
        if (!OperatingSystem.IsLinux())
            return $"TorchSharp's native {backend} backend could not be loaded. Reference TorchSharp-cpu (or TorchSharp-cuda-* for GPUs) in your project.";
        string? native = FindTorchSharpNative();
        if (native == null)
            return $"TorchSharp's native {backend} backend could not be loaded: no {ElfVersionPatcher.TorchSharpLibrary} next to TorchSharp.dll. " +
                   (cuda ? "Build with -p:LfUTorchBackend=cuda so TorchSharp-cuda-linux is referenced." : "Reference TorchSharp-cpu (LfU.MLNet does by default).");
        try
        {
            if (ElfVersionPatcher.NeedsPatch(native, out string reason))
                return $"TorchSharp cannot load: {reason}. The LfU.MLNet build targets mark that requirement weak in the copy in your " +
                       $"build output ({native}); they did not run for this folder. Rebuild the project that references LfU.MLNet " +
                       "(dotnet build), or install libstdc++6 from GCC 13 or newer (Debian 13, Ubuntu 24.04).";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return $"TorchSharp cannot load and {native} could not be inspected: {e.Message}";
        }
        return $"TorchSharp's native {backend} backend ({native}) failed to load; see the inner exception for the loader's message.";
    }
}
