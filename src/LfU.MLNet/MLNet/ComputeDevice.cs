using LfU.MLNet.Adapters;
using LfU.MLNet.Objectives;
using LfU.MLNet.Training;

namespace LfU.MLNet;

/// <summary>Where training and inference run.</summary>
public enum ComputeDevice
{
    /// <summary>CUDA when <c>MLContext.GpuDeviceId</c> is set, else CPU.</summary>
    Auto,
    /// <summary>The CPU.</summary>
    Cpu,
    /// <summary>A CUDA GPU (<c>MLContext.GpuDeviceId</c>, default 0); needs an NVIDIA driver for CUDA 12 and TorchSharp's CUDA
    /// backend: reference TorchSharp-cuda-linux or TorchSharp-cuda-windows of TorchSharp's version (0.107.0) instead of TorchSharp-cpu.</summary>
    Cuda,
}
