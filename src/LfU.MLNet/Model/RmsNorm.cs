using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>RMSNorm as Llama computes it: statistics in float32 for half-precision inputs, then scaled by <c>weight</c>.</summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    internal readonly Parameter weight;
#pragma warning restore IDE1006
    readonly double _eps;

    public RmsNorm(long size, double eps, ScalarType dtype, Device? device = null) : base("RmsNorm")
    {
        _eps = eps;
        weight = new Parameter(ones(size, dtype: dtype, device: device), requires_grad: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var inputType = x.dtype;
        // Always float32, as transformers does (also for float64 models, which the reference computations use).
        var h = x.to(ScalarType.Float32);
        var variance = h.pow(2).mean(new long[] { -1 }, keepdim: true);
        h = h * rsqrt(variance + _eps);
        return ComputeCast.AsDType(weight, inputType) * h.to(inputType);
    }
}
