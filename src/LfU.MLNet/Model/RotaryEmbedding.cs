using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>
/// Rotary position embeddings. Frequencies and angles are computed in float32 exactly as Hugging Face does
/// (including Llama 3's wavelength-dependent scaling), then cast to the activations' dtype.
/// </summary>
internal sealed class RotaryEmbedding : IDisposable
{
    readonly Tensor _invFreq; // (hs/2,) float32

    public RotaryEmbedding(ModelConfig config, Device? device = null)
    {
        int dim = config.HeadDim;
        using var scope = NewDisposeScope();
        var exponents = arange(0, dim, 2, dtype: ScalarType.Int64).to(ScalarType.Float32) / dim;
        var invFreq = 1.0f / tensor((float)config.RopeTheta).pow(exponents);
        switch (config.RopeScaling)
        {
            case RopeScalingType.Linear:
                invFreq = invFreq / (float)config.RopeFactor;
                break;
            case RopeScalingType.Llama3:
                invFreq = Llama3Scale(invFreq, config);
                break;
        }
        _invFreq = invFreq.to(device ?? CPU).MoveToOuterDisposeScope();
    }

    static Tensor Llama3Scale(Tensor invFreq, ModelConfig c)
    {
        double factor = c.RopeFactor, low = c.RopeLowFreqFactor, high = c.RopeHighFreqFactor;
        double oldContext = c.RopeOriginalMaxPositions;
        double lowFreqWavelen = oldContext / low, highFreqWavelen = oldContext / high;
        var wavelen = 2 * Math.PI / invFreq;
        var scaled = where(wavelen > lowFreqWavelen, invFreq / factor, invFreq);
        var smooth = (oldContext / wavelen - low) / (high - low);
        var smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
        var isMedium = (wavelen < highFreqWavelen).logical_not().logical_and((wavelen > lowFreqWavelen).logical_not());
        return where(isMedium, smoothed, scaled);
    }

    /// <summary>cos and sin for the given positions. positions: (B, T) int64 → each (B, T, hs) in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype)
    {
        var freqs = positions.to(ScalarType.Float32).unsqueeze(-1) * _invFreq.to(positions.device); // (B, T, hs/2)
        var emb = cat(new[] { freqs, freqs }, -1);                                                  // (B, T, hs)
        return (emb.cos().to(dtype), emb.sin().to(dtype));
    }

    /// <summary>Rotates queries or keys. x: (B, nh, T, hs); cos, sin: (B, T, hs).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        var c = cos.unsqueeze(1); // (B, 1, T, hs)
        var s = sin.unsqueeze(1);
        long half = x.shape[^1] / 2;
        var x1 = x[TensorIndex.Ellipsis, TensorIndex.Slice(0, half)];
        var x2 = x[TensorIndex.Ellipsis, TensorIndex.Slice(half)];
        var rotated = cat(new[] { -x2, x1 }, -1);
        return x * c + rotated * s;
    }

    public void Dispose() => _invFreq.Dispose();
}
