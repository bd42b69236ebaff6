using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>Optional inputs of a forward pass that the training objectives use.</summary>
public sealed class ForwardOptions
{
    /// <summary>(B, T) 1 for real tokens, 0 for padding; with a cache, covers only the new tokens.</summary>
    public Tensor? AttentionMask { get; init; }
    /// <summary>(B, T) next-token targets, -100 to ignore; shifted inside.</summary>
    public Tensor? Labels { get; init; }
    /// <summary>Return every layer's hidden state.</summary>
    public bool OutputHiddenStates { get; init; }
    /// <summary>Keys and values of earlier positions (generation).</summary>
    public KvCache? Cache { get; init; }
    /// <summary>Compute logits for the last position only (generation: saves a (B, T, vocab) matmul).</summary>
    public bool LastPositionOnly { get; init; }
    /// <summary>
    /// One vector per decoder layer added to that layer's output (RepS steering); recorded states include it. Vectors
    /// in a wider dtype than the activations (float32 over bfloat16) widen the residual stream from that layer on, so a
    /// small perturbation is not rounded away.
    /// </summary>
    public IReadOnlyList<Tensor>? LayerSteering { get; init; }
    /// <summary>Applied to each decoder layer's MLP output before its residual add, given the layer's index (the
    /// official LfU code's steering site).</summary>
    public Func<int, Tensor, Tensor>? MlpOutputTransform { get; init; }
    /// <summary>Applied to the token embeddings before the first layer (NEFTune noise).</summary>
    public Func<Tensor, Tensor>? EmbeddingTransform { get; init; }
    /// <summary>
    /// (B, T) packed sequences: each row holds several examples, each numbered from position 0. A token attends only
    /// to earlier tokens of its own example (a 0 starts a new one), so packing changes nothing an example computes.
    /// Not with <see cref="Cache"/>.
    /// </summary>
    public Tensor? PositionIds { get; init; }
}
