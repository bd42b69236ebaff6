using LfU.MLNet.Adapters;
using LfU.MLNet.Objectives;

namespace LfU.MLNet.Training;

/// <summary>
/// Settings of the training loop, the one record of them: <c>LfUOptions.Training</c> holds it for the estimator,
/// <see cref="FineTuningJob"/> and <see cref="Trainer"/> run it. Defaults are the LfU paper's.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>The default <see cref="LearningRate"/>, the paper's.</summary>
    public const double DefaultLearningRate = 1e-4;
    /// <summary>The default <see cref="WarmupRatio"/>.</summary>
    public const double DefaultWarmupRatio = 0.1;
    /// <summary>The default <see cref="Epochs"/>.</summary>
    public const int DefaultEpochs = 3;
    /// <summary>The default <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 4;
    /// <summary>The default <see cref="MaxGradNorm"/>.</summary>
    public const double DefaultMaxGradNorm = 1.0;
    /// <summary>The default <see cref="Seed"/>.</summary>
    public const long DefaultSeed = 42;

    /// <summary>The objective and its settings (see <see cref="ObjectiveRegistry"/>). Default: LfU-LoRA with the paper's α = 0.1, λ = 5.</summary>
    public TrainingObjective Objective { get; init; } = new LfULoraObjective();

    /// <summary>LoRA or full fine-tuning. Default <see cref="FineTuning.Lora"/>.</summary>
    public FineTuning FineTuning { get; init; } = FineTuning.Lora;

    /// <summary>The adapter trained under <see cref="FineTuning.Lora"/>. Default r = 8, α = 16 on all block projections.</summary>
    public LoraConfig Lora { get; init; } = new();

    /// <summary>Peak learning rate. Default 1e-4.</summary>
    public double LearningRate { get; init; } = DefaultLearningRate;

    /// <summary>Learning-rate schedule. Default <see cref="LearningRateSchedule.Cosine"/>.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>Fraction of the optimizer steps spent warming up linearly from 0 (rounded up to whole steps). Default 0.1.</summary>
    public double WarmupRatio { get; init; } = DefaultWarmupRatio;

    /// <summary>Passes over the training data. Default 3. Ignored when <see cref="MaxSteps"/> is set.</summary>
    public int Epochs { get; init; } = DefaultEpochs;

    /// <summary>Total optimizer steps, overriding <see cref="Epochs"/> (the data repeats as needed). Default null.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Examples per micro-batch. Default 4.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>Micro-batches per optimizer step; the loss is averaged over all their response tokens. Default 1.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>AdamW's decoupled weight decay. Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>AdamW's β₁. Default 0.9.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>AdamW's β₂. Default 0.999.</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary>AdamW's ε. Default 1e-8.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Gradients are rescaled so that their global L2 norm is at most this; null or 0 disables clipping. Default 1.0.</summary>
    public double? MaxGradNorm { get; init; } = DefaultMaxGradNorm;

    /// <summary>Seeds data order, LoRA initialisation, the ascent batches, NEFTune noise and dropout. Default 42.</summary>
    public long Seed { get; init; } = DefaultSeed;

    /// <summary>Token id used to pad batches (its positions are masked and never learnt). Default 0; <see cref="FineTuningJob"/> sets it from the tokenizer.</summary>
    public long PadTokenId { get; init; }

    /// <summary>Batches are padded to a multiple of this length (tensor-core friendly). Default 8.</summary>
    public int PadToMultipleOf { get; init; } = 8;

    /// <summary>Evaluate on the validation data every this many optimizer steps (and after the last); null = only after the last. Default null.</summary>
    public int? EvaluateEverySteps { get; init; }

    /// <summary>Folder that receives <c>checkpoint-STEP</c> sub-folders; null writes none. Default null.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Write a checkpoint every this many optimizer steps (and after the last); null = only after the last. Default null.</summary>
    public int? CheckpointEverySteps { get; init; }

    /// <summary>How many of the newest checkpoints to keep; older ones are deleted. Default 2.</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>
    /// What the forward and backward passes compute in while the weights (and the optimizer) stay in their dtype:
    /// <c>bf16</c> (bfloat16 over float32 weights is mixed precision with float32 master weights: about 2-3× faster on
    /// CPUs with AVX512-BF16 or AMX, rounding activations to 8 bits of mantissa), <c>fp32</c>, or <c>auto</c> (bf16 where
    /// the device runs it natively, see <see cref="ComputePrecision.BFloat16IsFast"/>). The trainer resolves it on the
    /// model's device. Null (the default) computes in the weights' dtype.
    /// </summary>
    public string? Precision { get; init; }

    /// <summary>Checks the values, naming the bad one and how to fix it.</summary>
    public void Validate()
    {
        static void Positive(double value, string name, string hint)
        {
            if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a positive number ({hint}).");
        }
        Positive(LearningRate, nameof(LearningRate), "the paper uses 1e-4");
        if (WarmupRatio is < 0 or > 1 || double.IsNaN(WarmupRatio)) throw new ArgumentOutOfRangeException(nameof(WarmupRatio), WarmupRatio, "WarmupRatio must be in [0, 1] (the paper uses 0.1).");
        if (MaxSteps is null && Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1 (or set MaxSteps).");
        if (MaxSteps is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "MaxSteps must be at least 1 (or null to train for Epochs).");
        if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (GradientAccumulationSteps <= 0) throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), GradientAccumulationSteps, "GradientAccumulationSteps must be at least 1.");
        if (WeightDecay < 0 || double.IsNaN(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be non-negative.");
        if (AdamBeta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(AdamBeta1), AdamBeta1, "AdamBeta1 must be in [0, 1).");
        if (AdamBeta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(AdamBeta2), AdamBeta2, "AdamBeta2 must be in [0, 1).");
        Positive(AdamEpsilon, nameof(AdamEpsilon), "typically 1e-8");
        if (MaxGradNorm is < 0 || (MaxGradNorm is double m && double.IsNaN(m))) throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), MaxGradNorm, "MaxGradNorm must be non-negative (0 or null disables clipping).");
        if (PadTokenId < 0) throw new ArgumentOutOfRangeException(nameof(PadTokenId), PadTokenId, "PadTokenId must be a valid (non-negative) token id.");
        if (PadToMultipleOf <= 0) throw new ArgumentOutOfRangeException(nameof(PadToMultipleOf), PadToMultipleOf, "PadToMultipleOf must be at least 1 (1 = no rounding).");
        if (EvaluateEverySteps is <= 0) throw new ArgumentOutOfRangeException(nameof(EvaluateEverySteps), EvaluateEverySteps, "EvaluateEverySteps must be at least 1 (or null).");
        if (CheckpointEverySteps is <= 0) throw new ArgumentOutOfRangeException(nameof(CheckpointEverySteps), CheckpointEverySteps, "CheckpointEverySteps must be at least 1 (or null).");
        if (CheckpointEverySteps is not null && CheckpointFolder is null)
            throw new ArgumentException("CheckpointEverySteps is set but CheckpointFolder is not; say where checkpoints go.", nameof(CheckpointFolder));
        if (KeepCheckpoints <= 0) throw new ArgumentOutOfRangeException(nameof(KeepCheckpoints), KeepCheckpoints, "KeepCheckpoints must be at least 1.");
        if (Precision is { } precision)
        {
            try { ComputePrecision.Resolve(precision, TorchSharp.torch.CPU); }
            catch (ArgumentException e) { throw new ArgumentOutOfRangeException(nameof(Precision), precision, e.Message + " Null computes in the weights' dtype."); }
        }
        if (FineTuning == FineTuning.Lora) Lora.Validate();
    }
}
