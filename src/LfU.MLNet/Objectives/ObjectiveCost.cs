namespace LfU.MLNet.Objectives;

/// <summary>What one micro-batch of an objective costs: passes through the model, and whether it needs a second batch.</summary>
/// <param name="ForwardPasses">Forward passes per micro-batch (each with its backward pass).</param>
/// <param name="NeedsAscentBatch">Each micro-batch also needs an independent batch drawn from the training data.</param>
public sealed record ObjectiveCost(int ForwardPasses, bool NeedsAscentBatch = false);
