using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>One transformer block: pre-norm attention and pre-norm MLP, each with a residual connection.</summary>
internal sealed class DecoderLayer : nn.Module
{
#pragma warning disable IDE1006
    internal readonly Attention self_attn;
    internal readonly Mlp mlp;
    internal readonly RmsNorm input_layernorm, post_attention_layernorm;
#pragma warning restore IDE1006

    public DecoderLayer(ModelConfig c, ScalarType dtype, Device? device) : base("DecoderLayer")
    {
        self_attn = new Attention(c, dtype, device);
        mlp = new Mlp(c, dtype, device);
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        RegisterComponents();
    }

    /// <param name="x">(B, T, C)</param>
    /// <param name="cos">(B, T, hs)</param>
    /// <param name="sin">(B, T, hs)</param>
    /// <param name="mask">(B, 1, T, S) bool, true where a query may attend to a key</param>
    /// <param name="cache">keys and values of earlier positions, or null</param>
    /// <param name="layer">this layer's index</param>
    /// <param name="mlpOutput">Applied to the MLP's output before the residual add, given <paramref name="layer"/> (steering), or null.</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache? cache, int layer, Func<int, Tensor, Tensor>? mlpOutput = null)
    {
        x = x + self_attn.Forward(input_layernorm.forward(x), cos, sin, mask, cache, layer);
        var m = mlp.forward(post_attention_layernorm.forward(x)); // (B, T, C)
        return x + (mlpOutput is null ? m : mlpOutput(layer, m));
    }
}
