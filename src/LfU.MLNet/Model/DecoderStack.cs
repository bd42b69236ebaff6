using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>The decoder stack (Hugging Face's <c>model.*</c> keys).</summary>
internal sealed class DecoderStack : nn.Module
{
#pragma warning disable IDE1006
    internal readonly TokenEmbedding embed_tokens;
    internal readonly ModuleList<DecoderLayer> layers;
    internal readonly RmsNorm norm;
#pragma warning restore IDE1006

    public DecoderStack(ModelConfig c, ScalarType dtype, Device? device) : base("Model")
    {
        embed_tokens = new TokenEmbedding(c.VocabSize, c.HiddenSize, dtype, device);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new DecoderLayer(c, dtype, device)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype, device);
        RegisterComponents();
    }
}
