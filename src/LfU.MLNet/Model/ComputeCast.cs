using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>Casting weights to the activations' dtype where they are used (mixed precision without torch.autocast, which TorchSharp lacks).</summary>
internal static class ComputeCast
{
    /// <summary>
    /// <paramref name="weight"/> in <paramref name="dtype"/>: itself when it already is, else a differentiable cast, so
    /// the gradient still reaches a float32 weight that runs in bfloat16.
    /// </summary>
    internal static Tensor AsDType(Tensor weight, ScalarType dtype) => weight.dtype == dtype ? weight : weight.to(dtype);

    /// <summary>True for the 16-bit floating dtypes (bfloat16, float16), whose 8 or 11 significant bits lose small updates.</summary>
    internal static bool IsHalf(ScalarType dtype) => dtype is ScalarType.BFloat16 or ScalarType.Float16;
}
