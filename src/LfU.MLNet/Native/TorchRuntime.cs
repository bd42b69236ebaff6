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

    /// <summary>
    /// Loads TorchSharp's native libraries (CPU, and CUDA when <paramref name="cuda"/> is set) or throws a clear error.
    /// With <paramref name="cuda"/>, a CUDA device must also be usable: otherwise the <see cref="InvalidOperationException"/>
    /// says what is missing (the CUDA backend, or a visible GPU) and which package or driver to install.
    /// </summary>
    public static void EnsureInitialized(bool cuda = false)
    {
        if (cuda) EnsureInitialized(); // a CPU runtime that cannot load (old libstdc++) gets that diagnosis, not a CUDA one
        lock (Gate)
        {
            if (_initialized && !cuda) return;
            try
            {
                if (!_initialized) PreloadBackendBesideTorchSharp();
                torch.InitializeDeviceType(cuda ? DeviceType.CUDA : DeviceType.CPU);
                _initialized = true;
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException && !cuda)
            {
                throw new InvalidOperationException(Diagnose(cuda), e);
            }
            catch (Exception e) when (cuda && e is InvalidOperationException or NotSupportedException or DllNotFoundException or TypeInitializationException)
            {
                // TorchSharp's own text ("did not initialise ... Trace from LoadNativeBackend:") names neither the package nor the fix.
                throw new InvalidOperationException(CudaUnavailable(LoaderDetail(e)), e);
            }
        }
        if (cuda && !torch.cuda.is_available()) throw new InvalidOperationException(CudaUnavailable(null));
    }

    /// <summary>
    /// Where no build step chose the native library (a notebook kernel, a script host), TorchSharp's loader looks for it
    /// in a <c>cpu/</c> folder beside TorchSharp.dll and misses the one the build placed (and patched) in
    /// <c>runtimes/linux-x64/native/</c>. Loading that one first by its path makes every later load by name find it.
    /// </summary>
    static void PreloadBackendBesideTorchSharp()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        string? folder = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (string.IsNullOrEmpty(folder)) return;
        string native = Path.Combine(folder, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (File.Exists(native)) NativeLibrary.TryLoad(native, out _);
    }

    /// <summary>The TorchSharp version this program runs, e.g. 0.107.0: the CUDA package must match it.</summary>
    internal static string TorchSharpVersion() =>
        typeof(torch).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "of the TorchSharp package you use";

    /// <summary>
    /// Why CUDA cannot be used and what to do, in one paragraph for library users (the CLI adds a line for the tool).
    /// </summary>
    /// <param name="loaderDetail">The native loader's first meaningful line, if it said anything.</param>
    internal static string CudaUnavailable(string? loaderDetail)
    {
        string version = TorchSharpVersion();
        string? backend = FindCudaBackend();
        string what = backend is not null
            ? $"TorchSharp's CUDA backend is installed ({backend}) but no CUDA device is usable: no NVIDIA GPU is visible (check nvidia-smi and " +
              "CUDA_VISIBLE_DEVICES), or its driver is missing or too old for CUDA 12."
            : $"this program has TorchSharp's CPU backend only (TorchSharp-cpu; no {CudaLibraryName} next to TorchSharp.dll or on the library path). " +
              $"To use an NVIDIA GPU, reference TorchSharp-cuda-linux (Linux x64) or TorchSharp-cuda-windows (Windows x64) version {version}, the version of " +
              "TorchSharp itself, instead of TorchSharp-cpu, and run on a machine whose NVIDIA driver supports CUDA 12" +
              (OperatingSystem.IsLinux() ? $"; or put the torch/lib folder of a CUDA build of PyTorch {LibTorchVersion} on LD_LIBRARY_PATH." : ".");
        return $"CUDA is not available: {what}" + (string.IsNullOrWhiteSpace(loaderDetail) ? "" : $" (TorchSharp said: {loaderDetail})");
    }

    /// <summary>The libtorch that TorchSharp 0.107 is built against (a PyTorch install must be this version).</summary>
    internal const string LibTorchVersion = "2.10";

    static string CudaLibraryName => OperatingSystem.IsWindows() ? "torch_cuda.dll" : "libtorch_cuda.so";

    /// <summary>Where libtorch_cuda lies: beside TorchSharp, in its runtimes folder, or on the loader's search path; null when nowhere.</summary>
    internal static string? FindCudaBackend()
    {
        var folders = new List<string>();
        if (Path.GetDirectoryName(typeof(torch).Assembly.Location) is { Length: > 0 } dir)
        {
            folders.Add(dir);
            string runtimes = Path.Combine(dir, "runtimes");
            if (Directory.Exists(runtimes)) folders.AddRange(Directory.GetDirectories(runtimes).Select(r => Path.Combine(r, "native")));
        }
        folders.Add(AppContext.BaseDirectory);
        string? searchPath = Environment.GetEnvironmentVariable(OperatingSystem.IsWindows() ? "PATH" : "LD_LIBRARY_PATH");
        if (!string.IsNullOrEmpty(searchPath)) folders.AddRange(searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        return folders.Select(f => Path.Combine(f, CudaLibraryName)).FirstOrDefault(File.Exists);
    }

    /// <summary>The loader's message without TorchSharp's empty trace header; null when nothing useful is left.</summary>
    static string? LoaderDetail(Exception e)
    {
        var lines = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("Trace from LoadNativeBackend", StringComparison.Ordinal)
                        && !l.Contains("did not initialise on the current machine", StringComparison.Ordinal))
            .ToList();
        return lines.Count == 0 ? null : string.Join(" ", lines.Take(3));
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
            return $"TorchSharp's native {backend} backend could not be loaded. Reference TorchSharp-cpu {TorchSharpVersion()} (or, for NVIDIA GPUs, TorchSharp-cuda-windows / TorchSharp-cuda-linux of that version) in your project.";
        string? native = FindTorchSharpNative();
        if (native == null)
            return $"TorchSharp's native {backend} backend could not be loaded: no {ElfVersionPatcher.TorchSharpLibrary} next to TorchSharp.dll. " +
                   $"Reference TorchSharp-cpu {TorchSharpVersion()} (LfU.MLNet does by default).";
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
