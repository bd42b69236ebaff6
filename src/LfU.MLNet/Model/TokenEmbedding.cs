using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>Token embedding table; the weight is a plain Parameter so it can be tied to the output head.</summary>
internal sealed class TokenEmbedding : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    internal readonly Parameter weight; // (vocab, C)
#pragma warning restore IDE1006

    public TokenEmbedding(long vocab, long dim, ScalarType dtype, Device? device) : base("Embedding")
    {
        weight = new Parameter(empty(vocab, dim, dtype: dtype, device: device), requires_grad: false);
        RegisterComponents();
    }

    /// <summary>ids: (B, T) int64 → (B, T, C)</summary>
    public override Tensor forward(Tensor ids) =>
        weight.index_select(0, ids.reshape(-1)).view(ids.shape[0], ids.shape[1], weight.shape[1]);
}
