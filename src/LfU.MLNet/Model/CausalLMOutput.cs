using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>What a forward pass returns: logits, the loss when labels were given, and hidden states on request.</summary>
/// <param name="Logits">(B, T, vocab), or (B, 1, vocab) when only the last position was asked for.</param>
/// <param name="Loss">Mean cross-entropy over label positions that are not -100 (labels are shifted inside), or null.</param>
/// <param name="HiddenStates">Hugging Face convention: [0] embeddings, [i] output of layer i, [L] after the final norm.</param>
public sealed record CausalLMOutput(Tensor Logits, Tensor? Loss, IReadOnlyList<Tensor>? HiddenStates);
