using System.Globalization;
using System.Text.Json.Serialization;

namespace LfU.MLNet.Objectives;

/// <summary>
/// Learning from the Undesirable: SFT + λ · consistency between the model and an auxiliary copy pushed one normalised
/// gradient-ascent step (size α) toward higher SFT loss; the clean hidden states are detached. The two kinds differ in
/// what the ascent step moves: <see cref="LfULoraObjective"/> (adapter weights) and <see cref="LfURepsObjective"/>
/// (steering vectors on each layer's output).
/// </summary>
public abstract record LfUObjective : TrainingObjective
{
    /// <summary>The LfU paper's ascent step size.</summary>
    public const double DefaultAlpha = 0.1;

    /// <summary>The ascent step size α: the perturbation is α · g / ‖g‖₂ (one norm over all perturbed tensors). The default depends on the kind.</summary>
    public virtual double Alpha { get; init; } = DefaultAlpha;

    /// <summary>The consistency weight λ. The default depends on the kind.</summary>
    public abstract double Lambda { get; init; }

    /// <summary>
    /// Whether the ascent step moves representations (steering each layer's output, the RepS kinds) rather than
    /// weights; α then has its own scale, so the forgetting benchmark gives such objectives its RepS α.
    /// </summary>
    [JsonIgnore]
    public virtual bool PerturbsRepresentations => false;

    /// <summary>How the perturbed model's states are compared with the clean ones. Default MSE of hidden states.</summary>
    public ConsistencyMeasure Consistency { get; init; } = ConsistencyMeasure.Mse;

    /// <summary>First hidden-state index compared (Hugging Face indexing: 0 = embeddings). Default 0.</summary>
    public int HiddenStateFrom { get; init; }

    /// <summary>Last hidden-state index compared, inclusive; null = the last (after the final norm). Default null.</summary>
    public int? HiddenStateTo { get; init; }

    /// <summary>
    /// Set α and/or λ during training by scale-free rules instead of fixed values (<see cref="LfUCalibration.Auto"/>
    /// for both); null (the default) keeps <see cref="Alpha"/> and <see cref="Lambda"/> fixed.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LfUCalibration? Calibration { get; init; }

    /// <inheritdoc/>
    public override void Validate(int layers)
    {
        Calibration?.Validate(Consistency, Alpha);
        if (!(Alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "LfU's ascent step α must be non-negative (paper: 0.1).");
        if (!(Lambda >= 0)) throw new ArgumentOutOfRangeException(nameof(Lambda), Lambda, "LfU's consistency weight λ must be non-negative (paper: 5 for LoRA, 0.1 for RepS).");
        int to = HiddenStateTo ?? layers;
        if (HiddenStateFrom < 0 || to > layers || HiddenStateFrom > to)
            throw new ArgumentOutOfRangeException(nameof(HiddenStateFrom),
                $"Hidden-state range [{HiddenStateFrom}, {to}] is invalid for a model with {layers} layers: indices run from 0 (embeddings) to {layers} (after the final norm).");
    }

    /// <summary>
    /// <paramref name="objective"/> with the settings every LfU kind shares taken from <paramref name="parameters"/>
    /// where given (α, λ, the consistency and its hidden-state range); unset ones keep the kind's defaults.
    /// </summary>
    private protected static T WithSharedParameters<T>(T objective, ObjectiveParameters parameters) where T : LfUObjective => objective with
    {
        Alpha = parameters.Alpha ?? objective.Alpha,
        Lambda = parameters.Lambda ?? objective.Lambda,
        Consistency = parameters.Consistency ?? objective.Consistency,
        HiddenStateFrom = parameters.HiddenStateFrom ?? objective.HiddenStateFrom,
        HiddenStateTo = parameters.HiddenStateTo ?? objective.HiddenStateTo,
        Calibration = parameters.Calibration ?? objective.Calibration,
    };

    /// <summary>α and λ for <see cref="TrainingObjective.Describe"/>: <c>α=0.1, λ=5</c>, or what is calibrated.</summary>
    private protected string DescribeAlphaLambda() => Calibration?.Describe(Alpha, Lambda)
        ?? string.Create(CultureInfo.InvariantCulture, $"α={Alpha}, λ={Lambda}");

    /// <summary>The consistency these settings compute, for a model with <paramref name="layers"/> decoder layers.</summary>
    internal HiddenStateConsistency ConsistencyFor(int layers) => new(Consistency, HiddenStateFrom, HiddenStateTo ?? layers);
}
