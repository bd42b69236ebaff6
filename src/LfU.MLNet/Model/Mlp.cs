using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>The SiLU-gated feed-forward block: down(silu(gate(x)) * up(x)).</summary>
internal sealed class Mlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    // Not readonly: an adapter may take a projection's place (ModuleTree.SetSubmodule).
    internal nn.Module<Tensor, Tensor> gate_proj, up_proj, down_proj; // (C → I), (C → I), (I → C)
#pragma warning restore IDE1006

    public Mlp(ModelConfig c, ScalarType dtype, Device? device) : base("Mlp")
    {
        gate_proj = new Projection(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype, device);
        up_proj = new Projection(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype, device);
        down_proj = new Projection(c.IntermediateSize, c.HiddenSize, c.MlpBias, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        down_proj.forward(nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x));
}
