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
    static bool _initialized, _prepared;

    /// <summary>
    /// Loads TorchSharp's native libraries (CPU, and CUDA when <paramref name="cuda"/> is set) or throws a clear error.
    /// With <paramref name="cuda"/>, a CUDA device must also be usable: otherwise the <see cref="InvalidOperationException"/>
    /// says what is missing (the CUDA backend, or a visible GPU) and which package or driver to install.
    /// </summary>
    public static void EnsureInitialized(bool cuda = false)
    {
        lock (Gate)
            if (!_prepared)
            {
                _prepared = true;
                PrepareNativeBackend(cuda);
            }
        if (cuda) EnsureInitialized(); // a CPU runtime that cannot load (old libstdc++) gets that diagnosis, not a CUDA one
        lock (Gate)
        {
            if (_initialized && !cuda) return;
            try
            {
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
    /// Loads TorchSharp's native library by path before TorchSharp loads it by name (the loader then finds it loaded),
    /// from wherever this process's TorchSharp.dll came (<see cref="NativeBackendLayout"/>). Where no build step ran (a
    /// notebook's <c>#r "nuget: ..."</c>), TorchSharp's own fallback would copy libtorch beside the package and load
    /// the unpatched library; instead the CPU libtorch package is loaded from where NuGet put it, and on a libstdc++
    /// without GLIBCXX_3.4.32 a patched copy of <c>libLibTorchSharp.so</c> from the user's cache.
    /// </summary>
    static void PrepareNativeBackend(bool cuda)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        string? folder = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (string.IsNullOrEmpty(folder) || NativeBackendLayout.Find(folder) is not { } layout) return;
        if (!layout.FromNuGetCache)
        {
            NativeLibrary.TryLoad(layout.LibTorchSharp, out _);
            return;
        }
        try
        {
            // Where libstdc++ is new enough, TorchSharp's own NuGet-cache loading (its notebook path) serves either backend.
            // A CUDA libtorch is stitched from parts and loaded by TorchSharp itself: Diagnose explains why it cannot load.
            if (cuda || layout.LibTorch is null || !ElfVersionPatcher.NeedsPatch(layout.LibTorchSharp, out _)) return;
            string library = NativeBackendLayout.PatchedCopy(layout.LibTorchSharp, NativeBackendLayout.DefaultCacheRoot);
            // libtorch.so pulls libtorch_cpu, libc10 and libgomp from its own folder ($ORIGIN); the copy then finds them loaded.
            if (NativeLibrary.TryLoad(Path.Combine(layout.LibTorch, "libtorch.so"), out _)) NativeLibrary.TryLoad(library, out _);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // TorchSharp's own loading then fails, and Diagnose says what is missing.
        }
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

    /// <summary>The path of the libLibTorchSharp.so this process's TorchSharp uses (its build output's, or its NuGet package's), if any.</summary>
    public static string? FindTorchSharpNative()
    {
        string? dir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        return string.IsNullOrEmpty(dir) ? null : NativeBackendLayout.Find(dir)?.LibTorchSharp;
    }

    static string Diagnose(bool cuda)
    {
        string backend = cuda ? "CUDA" : "CPU";
        if (!OperatingSystem.IsLinux())
            return $"TorchSharp's native {backend} backend could not be loaded. Reference TorchSharp-cpu {TorchSharpVersion()} (or, for NVIDIA GPUs, TorchSharp-cuda-windows / TorchSharp-cuda-linux of that version) in your project.";
        string? folder = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        var layout = string.IsNullOrEmpty(folder) ? null : NativeBackendLayout.Find(folder);
        if (layout == null)
            return $"TorchSharp's native {backend} backend could not be loaded: no {ElfVersionPatcher.TorchSharpLibrary} beside TorchSharp.dll ({folder}), " +
                   $"in its runtimes/linux-x64/native folder or in its NuGet package. Reference TorchSharp-cpu {TorchSharpVersion()} (or TorchSharp-cuda-linux) " +
                   "next to LfU.MLNet: the app picks the backend.";
        string native = layout.LibTorchSharp;
        try
        {
            if (ElfVersionPatcher.NeedsPatch(native, out string reason))
            {
                if (layout.CudaPackage is not null)
                    return $"TorchSharp cannot load: {reason}. TorchSharp runs from the NuGet cache (a notebook or script host) with its CUDA " +
                           "backend, which it assembles and loads itself, so LfU.MLNet cannot mark that requirement weak at run time. Install libstdc++6 " +
                           "from GCC 13 or newer (Debian 13, Ubuntu 24.04), or run from a project built with dotnet build (its targets patch the output).";
                if (layout.FromNuGetCache)
                    return $"TorchSharp cannot load: {reason}. TorchSharp runs from the NuGet cache (a notebook or script host)" +
                           (layout.LibTorch is null
                               ? $", and no libtorch-cpu-linux-x64 package lies beside it: reference TorchSharp-cpu {TorchSharpVersion()} (#r \"nuget: TorchSharp-cpu, {TorchSharpVersion()}\")."
                               : $"; LfU.MLNet loads a patched copy of it from {NativeBackendLayout.DefaultCacheRoot} for the CPU backend when CUDA is not " +
                                 "requested, and that failed here (see the inner exception).");
                return $"TorchSharp cannot load: {reason}. The LfU.MLNet build targets mark that requirement weak in the copy in your " +
                       $"build output ({native}); they did not run for this folder. Rebuild the project that references LfU.MLNet " +
                       "(dotnet build), or install libstdc++6 from GCC 13 or newer (Debian 13, Ubuntu 24.04).";
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return $"TorchSharp cannot load and {native} could not be inspected: {e.Message}";
        }
        return $"TorchSharp's native {backend} backend ({native}) failed to load; see the inner exception for the loader's message.";
    }
}
