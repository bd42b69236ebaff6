using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>
/// Seeded random draws that give the same numbers on every device. The generator always lives on the CPU: TorchSharp
/// 0.107's <c>new Generator(seed, cuda)</c> still makes a CPU generator, which CUDA kernels refuse ("Expected a 'cuda'
/// device type for generator"), and a CPU stream is what makes a seed mean the same LoRA initialisation, noise and
/// samples on a laptop and on a GPU, and what a checkpoint stores and restores. Draws land on the CPU in the target's
/// dtype and are copied over (one code path on every device), so on the CPU they are exactly the in-place draws
/// they replace.
/// </summary>
public static class SeededRandom
{
    /// <summary>A generator for <see cref="SeededRandom"/>'s draws (a CPU generator, whatever device the tensors are on).</summary>
    public static Generator Create(long seed) => new((ulong)seed, CPU);

    /// <summary>Fills <paramref name="target"/> with U(<paramref name="low"/>, <paramref name="high"/>) in place.</summary>
    public static Tensor Uniform_(Tensor target, double low, double high, Generator generator)
    {
        using var draw = empty(target.shape, target.dtype, CPU).uniform_(low, high, generator);
        return target.copy_(draw);
    }

    /// <summary>Fills <paramref name="target"/> with N(<paramref name="mean"/>, <paramref name="std"/>²) in place.</summary>
    public static Tensor Normal_(Tensor target, double mean, double std, Generator generator)
    {
        using var draw = empty(target.shape, target.dtype, CPU).normal_(mean, std, generator);
        return target.copy_(draw);
    }

    /// <summary>A new tensor shaped like <paramref name="like"/> drawn from U(<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor UniformLike(Tensor like, double low, double high, Generator generator) =>
        Uniform_(empty_like(like), low, high, generator);

    /// <summary>Integers in [<paramref name="low"/>, <paramref name="high"/>) of <paramref name="shape"/>, on <paramref name="device"/>.</summary>
    public static Tensor Integers(long low, long high, long[] shape, Device device, Generator generator)
    {
        var draw = randint(low, high, shape, dtype: ScalarType.Int64, device: CPU, generator: generator);
        if (device.type == DeviceType.CPU) return draw;
        using (draw) return draw.to(device);
    }

    /// <summary>One index per row of <paramref name="probabilities"/> (B, V), drawn on the CPU, returned on their device. // (B, 1)</summary>
    public static Tensor Multinomial(Tensor probabilities, Generator generator)
    {
        if (probabilities.device_type == DeviceType.CPU) return multinomial(probabilities, 1, false, generator);
        using var onCpu = probabilities.cpu();
        using var draw = multinomial(onCpu, 1, false, generator);
        return draw.to(probabilities.device);
    }
}
