using System.Globalization;
using LfU.MLNet.Objectives;

namespace LfU.MLNet.Benchmark;

/// <summary>The training hyper-parameters of one benchmark run; each method reads the ones it uses.</summary>
/// <param name="Epochs">Passes over the fine-tuning data.</param>
/// <param name="LearningRate">Peak learning rate (cosine schedule, 10 % warm-up).</param>
/// <param name="Lambda">LfU's consistency weight λ (both perturbations).</param>
/// <param name="Alpha">LfU-LoRA's ascent step α on the adapter weights.</param>
/// <param name="RepsAlpha">LfU-RepS's steering step α, in the additive form h + α·d/‖d‖ (one norm over all layers'
/// vectors): it needs a larger value than LoRA's α to change anything measurable.</param>
/// <param name="NoiseAlpha">NEFTune's noise scale α.</param>
/// <param name="L2Weight">The L2 penalty's weight.</param>
/// <param name="AscentSteps">LfU-LoRA-multistep's number k of ascent steps of α/k.</param>
internal sealed record Hyperparameters(int Epochs, double LearningRate, double Lambda, double Alpha, double RepsAlpha, double NoiseAlpha, double L2Weight,
    int AscentSteps = LfULoraMultiStepObjective.DefaultAscentSteps)
{
    /// <summary>The defaults of <c>lfu benchmark</c>: aggressive enough for forgetting to show on the mini world (science lesson 1).</summary>
    public static Hyperparameters Default { get; } = new(10, 3e-3, 5, 0.1, 1.0, 5, 0.01);

    /// <summary>The value of λ, α or the RepS α that <see cref="LfUCalibration"/> sets during training (written <c>auto</c>).</summary>
    public const double Auto = double.NaN;

    /// <summary>Whether <paramref name="value"/> is <see cref="Auto"/>.</summary>
    public static bool IsAuto(double value) => double.IsNaN(value);

    /// <summary>Parameters that may be <see cref="Auto"/>.</summary>
    public static bool MayBeAuto(SweepParameter parameter) => parameter is SweepParameter.Lambda or SweepParameter.Alpha or SweepParameter.RepsAlpha;

    /// <summary><paramref name="value"/> as <paramref name="format"/> gives it, or <c>auto</c>.</summary>
    public static string Format(double value, string format) => IsAuto(value) ? "auto" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Reads <see cref="Format"/>'s text back; false when it is neither a number nor <c>auto</c>.</summary>
    public static bool TryParse(string text, out double value)
    {
        if (string.Equals(text.Trim(), "auto", StringComparison.OrdinalIgnoreCase)) { value = Auto; return true; }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !double.IsNaN(value);
    }

    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a positive number.");
        if (AscentSteps < 1) throw new ArgumentOutOfRangeException(nameof(AscentSteps), AscentSteps, "The number of ascent steps must be at least 1.");
        foreach (var (value, name) in new[] { (Lambda, "lambda"), (Alpha, "alpha"), (RepsAlpha, "reps-alpha"), (NoiseAlpha, "noise-alpha"), (L2Weight, "l2-weight") })
            if (!IsAuto(value) && (!(value >= 0) || double.IsInfinity(value))) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite non-negative number, got {value}.");
    }
}
