namespace LfU.MLNet.Training;

/// <summary>The training objective. All share one training loop.</summary>
public enum ObjectiveKind
{
    /// <summary>Plain supervised fine-tuning: mean cross-entropy over response tokens.</summary>
    Sft,
    /// <summary>Learning from the Undesirable: SFT + λ · consistency with a model pushed one ascent step toward higher loss.</summary>
    LfU,
    /// <summary>NEFTune: uniform noise on the input embeddings, scaled by α / √(L·d).</summary>
    NEFTune,
    /// <summary>SFT + weight · Σ‖θ − θ₀‖² over the trainable weights.</summary>
    L2,
    /// <summary>SFT + weight · Σ|θ − θ₀| over the trainable weights.</summary>
    L1,
}

/// <summary>What LfU perturbs to build its "undesirable" auxiliary model.</summary>
public enum PerturbationKind
{
    /// <summary>Low-rank adapter weights (the trainable LoRA itself, or a fresh auxiliary LoRA under full fine-tuning).</summary>
    LoRA,
    /// <summary>Representation steering: one vector per decoder layer added to that layer's output.</summary>
    RepS,
}

/// <summary>Which batch the ascent gradient is taken on.</summary>
public enum AscentBatchMode
{
    /// <summary>The training batch itself: the clean backward already gives the direction (2 forward + 2 backward).</summary>
    SameBatch,
    /// <summary>Another batch drawn from the training data, as the official code does (3 forward + 3 backward).</summary>
    IndependentBatch,
}

/// <summary>How far the perturbed model is from the clean one.</summary>
public enum ConsistencyMeasure
{
    /// <summary>Mean squared error of hidden states over response positions and hidden units (the paper's).</summary>
    Mse,
    /// <summary>1 − cosine similarity of hidden states, averaged over response positions.</summary>
    Cosine,
    /// <summary>KL(clean ‖ perturbed) of next-token distributions over response positions (the paper's logit-level ablation).</summary>
    LogitKl,
}

/// <summary>Objective settings. Defaults are the LfU paper's (α = 0.1; λ = 5 for LoRA, 0.1 for RepS).</summary>
public sealed record ObjectiveOptions
{
    /// <summary>The objective. Default <see cref="ObjectiveKind.LfU"/>.</summary>
    public ObjectiveKind Kind { get; init; } = ObjectiveKind.LfU;
    /// <summary>LfU's auxiliary model. Default LoRA.</summary>
    public PerturbationKind Perturbation { get; init; } = PerturbationKind.LoRA;
    /// <summary>LfU's ascent step size α: the perturbation is α · g / ‖g‖₂ (one norm over all perturbed tensors). Default 0.1.</summary>
    public double Alpha { get; init; } = 0.1;
    /// <summary>LfU's consistency weight λ; null picks the paper's default for the perturbation (5 LoRA, 0.1 RepS).</summary>
    public double? Lambda { get; init; }
    /// <summary>Batch for the ascent gradient. Default <see cref="AscentBatchMode.SameBatch"/>.</summary>
    public AscentBatchMode AscentBatch { get; init; } = AscentBatchMode.SameBatch;
    /// <summary>Consistency measure. Default MSE of hidden states.</summary>
    public ConsistencyMeasure Consistency { get; init; } = ConsistencyMeasure.Mse;
    /// <summary>First hidden-state index compared (Hugging Face indexing: 0 = embeddings). Default 0.</summary>
    public int HiddenStateFrom { get; init; }
    /// <summary>Last hidden-state index compared, inclusive; null = the last (after the final norm).</summary>
    public int? HiddenStateTo { get; init; }
    /// <summary>NEFTune's noise scale α. Default 5.</summary>
    public double NoiseAlpha { get; init; } = 5.0;
    /// <summary>Weight of the L1/L2 penalty. Default 0.01.</summary>
    public double PenaltyWeight { get; init; } = 0.01;

    /// <summary>λ after applying the per-perturbation default.</summary>
    public double EffectiveLambda => Lambda ?? (Perturbation == PerturbationKind.RepS ? 0.1 : 5.0);

    /// <summary>Checks the values against a model with <paramref name="layers"/> decoder layers, naming the bad one.</summary>
    public void Validate(int layers)
    {
        if (Alpha < 0 || double.IsNaN(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "LfU's ascent step α must be non-negative (paper: 0.1).");
        if (EffectiveLambda < 0 || double.IsNaN(EffectiveLambda)) throw new ArgumentOutOfRangeException(nameof(Lambda), Lambda, "LfU's consistency weight λ must be non-negative (paper: 5 for LoRA, 0.1 for RepS).");
        int to = HiddenStateTo ?? layers;
        if (HiddenStateFrom < 0 || to > layers || HiddenStateFrom > to)
            throw new ArgumentOutOfRangeException(nameof(HiddenStateFrom),
                $"Hidden-state range [{HiddenStateFrom}, {to}] is invalid for a model with {layers} layers: indices run from 0 (embeddings) to {layers} (after the final norm).");
        if (NoiseAlpha < 0) throw new ArgumentOutOfRangeException(nameof(NoiseAlpha), NoiseAlpha, "NEFTune's α must be non-negative (typical: 5).");
        if (PenaltyWeight < 0) throw new ArgumentOutOfRangeException(nameof(PenaltyWeight), PenaltyWeight, "The L1/L2 penalty weight must be non-negative.");
    }
}
