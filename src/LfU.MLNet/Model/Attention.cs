using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>Multi-head self-attention with grouped-query key/value heads, RoPE and optional q/k RMSNorm (Qwen3).</summary>
internal sealed class Attention : nn.Module
{
#pragma warning disable IDE1006
    // Not readonly: an adapter may take a projection's place (ModuleTree.SetSubmodule).
    internal nn.Module<Tensor, Tensor> q_proj, k_proj, v_proj, o_proj; // (C → nh·hs), (C → nkv·hs) twice, (nh·hs → C)
    internal readonly RmsNorm? q_norm, k_norm;
#pragma warning restore IDE1006
    readonly int _heads, _kvHeads, _headDim;

    /// <summary>How the attention scores are computed; set for the whole model through <see cref="CausalLM.AttentionImplementation"/>.</summary>
    internal AttentionImplementation Implementation { get; set; }

    public Attention(ModelConfig c, ScalarType dtype, Device? device) : base("Attention")
    {
        _heads = c.NumAttentionHeads;
        _kvHeads = c.NumKeyValueHeads;
        _headDim = c.HeadDim;
        q_proj = new Projection(c.HiddenSize, _heads * _headDim, c.QkvBias, dtype, device);
        k_proj = new Projection(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, dtype, device);
        v_proj = new Projection(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, dtype, device);
        o_proj = new Projection(_heads * _headDim, c.HiddenSize, c.OutputBias, dtype, device);
        if (c.QkNorm)
        {
            q_norm = new RmsNorm(_headDim, c.RmsNormEps, dtype, device);
            k_norm = new RmsNorm(_headDim, c.RmsNormEps, dtype, device);
        }
        RegisterComponents();
    }

    /// <param name="x">(B, T, C)</param>
    /// <param name="cos">(B, T, hs)</param>
    /// <param name="sin">(B, T, hs)</param>
    /// <param name="mask">(B, 1, T, S) bool, true where a query may attend to a key</param>
    /// <param name="cache">keys and values of earlier positions, or null</param>
    /// <param name="layer">this layer's index in the cache</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache? cache, int layer)
    {
        long B = x.shape[0], T = x.shape[1];
        var q = q_proj.forward(x).view(B, T, _heads, _headDim);   // (B, T, nh, hs)
        var k = k_proj.forward(x).view(B, T, _kvHeads, _headDim); // (B, T, nkv, hs)
        var v = v_proj.forward(x).view(B, T, _kvHeads, _headDim); // (B, T, nkv, hs)
        if (q_norm is not null) { q = q_norm.forward(q); k = k_norm!.forward(k); }
        q = RotaryEmbedding.Apply(q.transpose(1, 2), cos, sin);   // (B, nh, T, hs)
        k = RotaryEmbedding.Apply(k.transpose(1, 2), cos, sin);   // (B, nkv, T, hs)
        v = v.transpose(1, 2);                                    // (B, nkv, T, hs)
        if (cache is not null) (k, v) = cache.Append(layer, k, v); // (B, nkv, S, hs)

        int groups = _heads / _kvHeads;
        if (groups > 1)
        {
            long S = k.shape[2];
            k = k.unsqueeze(2).expand(B, _kvHeads, groups, S, _headDim).reshape(B, _heads, S, _headDim); // (B, nh, S, hs)
            v = v.unsqueeze(2).expand(B, _kvHeads, groups, S, _headDim).reshape(B, _heads, S, _headDim); // (B, nh, S, hs)
        }
        var y = Implementation == AttentionImplementation.Eager ? EagerAttention(q, k, v, mask) // (B, nh, T, hs)
            : nn.functional.scaled_dot_product_attention(q, k, v, mask);
        y = y.transpose(1, 2).reshape(B, T, _heads * _headDim);             // (B, T, nh*hs)
        return o_proj.forward(y);
    }

    /// <summary>softmax(q·kᵀ/√hs, masked) · v with the softmax in float32, as transformers' eager attention computes it.</summary>
    Tensor EagerAttention(Tensor q, Tensor k, Tensor v, Tensor mask)
    {
        var scores = q.matmul(k.transpose(-1, -2)).mul(1.0 / Math.Sqrt(_headDim));          // (B, nh, T, S)
        scores = scores.masked_fill(mask.logical_not(), double.NegativeInfinity);
        var weights = scores.softmax(-1, ScalarType.Float32).to(q.dtype);                    // (B, nh, T, S)
        return weights.matmul(v);                                                            // (B, nh, T, hs)
    }
}
