using LfU.MLNet.Native;
using LfU.MLNet.Tests.Cli;
using TorchSharp;
using Xunit;

namespace LfU.MLNet.Tests.Native;

/// <summary>
/// Asking for CUDA where there is none (this CPU-only build) says what is missing and what to reference or install,
/// in the library and in the tool, instead of TorchSharp's bare "did not initialise ... Trace from LoadNativeBackend:".
/// </summary>
[Collection("Console")]
public sealed class CudaUnavailableTests
{
    static bool CudaWorks()
    {
        TorchRuntime.EnsureInitialized();
        return TorchRuntime.FindCudaBackend() is not null && torch.cuda.is_available();
    }

    [Fact]
    public void TheLibraryNamesThePackagesOfTheMatchingVersionAndTheDriver()
    {
        if (CudaWorks()) return; // a machine with a GPU has nothing to explain
        var e = Assert.Throws<InvalidOperationException>(() => TorchRuntime.EnsureInitialized(cuda: true));
        Assert.StartsWith("CUDA is not available: ", e.Message);
        Assert.DoesNotContain("Trace from LoadNativeBackend", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        if (TorchRuntime.FindCudaBackend() is null)
        {
            Assert.Contains("TorchSharp's CPU backend only", e.Message);
            Assert.Contains($"TorchSharp-cuda-linux (Linux x64) or TorchSharp-cuda-windows (Windows x64) version {TorchRuntime.TorchSharpVersion()}", e.Message);
            Assert.Matches(@"version \d+\.\d+\.\d+,", e.Message);
            Assert.Contains("driver supports CUDA 12", e.Message);
        }
        // The CPU keeps working after the failed attempt.
        using var sum = torch.ones(2).sum();
        Assert.Equal(2f, sum.item<float>());
    }

    [Fact]
    public void TheToolSaysWhatToInstallInOneLine()
    {
        if (CudaWorks()) return;
        var run = CliRunner.Run("generate", "--model", TinyTextModel.Path, "--prompt", "hi", "--device", "cuda");
        Assert.Equal(1, run.ExitCode);
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("lfu: error: --device cuda: CUDA is not available: ", line);
        Assert.DoesNotContain("Trace from LoadNativeBackend", line);
        if (TorchRuntime.FindCudaBackend() is null)
        {
            Assert.Contains("TorchSharp-cuda-linux", line);
            Assert.Contains("The lfu tool itself ships the CPU backend only", line);
        }
    }
}
