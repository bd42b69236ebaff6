using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>
/// A plain linear projection, <c>x · weightᵀ + bias</c>, as PyTorch's <c>nn.Linear</c> (module name "Linear"). The weight
/// is cast to the activations' dtype where it is used (<see cref="CausalLM.ComputeDType"/>). Adapters such as LoRA wrap it
/// from outside and take its place in the module tree (<see cref="ModuleTree.SetSubmodule"/>); it knows nothing of them.
/// </summary>
public sealed class Projection : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Hugging Face key names
    internal readonly Parameter weight; // (out, in)
    internal readonly Parameter? bias;  // (out,)
#pragma warning restore IDE1006

    /// <summary>Input features.</summary>
    public long InFeatures { get; }
    /// <summary>Output features.</summary>
    public long OutFeatures { get; }

    /// <summary>Creates an uninitialised projection (weights are loaded from a checkpoint or initialised explicitly).</summary>
    public Projection(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device? device = null) : base("Linear")
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = new Parameter(empty(outFeatures, inFeatures, dtype: dtype, device: device), requires_grad: false);
        if (hasBias) bias = new Parameter(empty(outFeatures, dtype: dtype, device: device), requires_grad: false);
        RegisterComponents();
    }

    /// <param name="x">(…, in)</param>
    /// <returns>(…, out)</returns>
    public override Tensor forward(Tensor x) =>
        nn.functional.linear(x, ComputeCast.AsDType(weight, x.dtype), bias is null ? null : ComputeCast.AsDType(bias, x.dtype));
}
