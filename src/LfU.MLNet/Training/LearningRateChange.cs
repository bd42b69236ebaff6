namespace LfU.MLNet.Training;

/// <summary>A resume from the checkpoint of <paramref name="Step"/> with a lower peak learning rate.</summary>
public sealed record LearningRateChange(int Step, double From, double To);
