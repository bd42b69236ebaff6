using LfU.MLNet.Model;
using System.Globalization;
using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>NEFTune: SFT with uniform noise on the input embeddings, scaled by α / √(L·d) (L the padded length, d the hidden size).</summary>
public sealed record NEFTuneObjective : TrainingObjective
{
    /// <summary>The registry name.</summary>
    public const string RegistryName = "neftune";
    /// <summary>The NEFTune paper's usual noise scale.</summary>
    public const double DefaultNoiseAlpha = 5.0;

    /// <summary>The noise scale α. Default 5.</summary>
    public double NoiseAlpha { get; init; } = DefaultNoiseAlpha;

    /// <inheritdoc/>
    public override string Name => RegistryName;

    /// <inheritdoc/>
    public override ObjectiveCost Cost { get; } = new(ForwardPasses: 1);

    /// <inheritdoc/>
    public override void Validate(int layers)
    {
        if (!(NoiseAlpha >= 0)) throw new ArgumentOutOfRangeException(nameof(NoiseAlpha), NoiseAlpha, "NEFTune's α must be non-negative (typical: 5).");
    }

    /// <inheritdoc/>
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"NEFTune (α={NoiseAlpha})");

    internal override ObjectiveStep CreateStep(ObjectiveContext context) => new Step(context, NoiseAlpha);

    internal static TrainingObjective FromParameters(ObjectiveParameters parameters) =>
        new NEFTuneObjective { NoiseAlpha = parameters.NoiseAlpha ?? DefaultNoiseAlpha };

    sealed class Step(ObjectiveContext context, double noiseAlpha) : SupervisedStep(context)
    {
        protected override Func<Tensor, Tensor>? EmbeddingTransform => Noise;

        /// <summary>x + U(−1, 1) · α / √(L·d).</summary>
        Tensor Noise(Tensor embeddings)
        {
            double magnitude = noiseAlpha / Math.Sqrt(embeddings.shape[1] * embeddings.shape[2]);
            var noise = SeededRandom.UniformLike(embeddings, -magnitude, magnitude, Random);
            return embeddings + noise;
        }
    }
}
