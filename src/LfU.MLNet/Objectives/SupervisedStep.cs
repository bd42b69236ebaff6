using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using static TorchSharp.torch;

namespace LfU.MLNet.Objectives;

/// <summary>
/// One forward and one backward pass of the cross-entropy over response tokens, with two hooks: a transform of the
/// input embeddings (NEFTune's noise) and a penalty added to the loss (L1/L2 anchors). SFT uses neither.
/// </summary>
internal class SupervisedStep(ObjectiveContext context) : ObjectiveStep(context)
{
    /// <summary>Applied to the input embeddings during training; null leaves them alone.</summary>
    protected virtual Func<Tensor, Tensor>? EmbeddingTransform => null;

    /// <summary>A scalar added to the SFT loss (same dtype); null adds nothing.</summary>
    protected virtual Tensor? Penalty() => null;

    protected override StepLossTensors Compute(TokenBatch batch, TokenBatch? ascentBatch, double weight)
    {
        var output = Model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, PositionIds = batch.PositionIds, Labels = batch.Labels, EmbeddingTransform = EmbeddingTransform });
        var sft = output.Loss!;
        var penalty = Penalty()?.to(sft.dtype);
        var total = penalty is null ? sft : sft + penalty;
        AddGradients(total, Trainable, weight);
        return StepLossTensors.From(sft, null, null, null, penalty);
    }
}
