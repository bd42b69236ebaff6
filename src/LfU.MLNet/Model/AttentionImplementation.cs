namespace LfU.MLNet.Model;

/// <summary>How attention is computed (transformers' <c>attn_implementation</c>); both give the same result up to rounding.</summary>
public enum AttentionImplementation
{
    /// <summary>torch's fused <c>scaled_dot_product_attention</c> (flash or memory-efficient kernels): the default, and right on CUDA.</summary>
    Sdpa,
    /// <summary>
    /// Explicit matmuls with the softmax in float32, as transformers' "eager". On a CPU in bfloat16 with short rows
    /// (≤ 128 tokens) and 64-wide heads it ran about 4× faster than the fused kernel here; it holds the (B, nh, T, S)
    /// scores in memory, so prefer <see cref="Sdpa"/> for long sequences.
    /// </summary>
    Eager,
}
