namespace LfU.MLNet.Training;

/// <summary>
/// Learning-rate schedules as pure functions of the step, with the semantics of Hugging Face's
/// <c>get_{cosine,linear,constant}_schedule_with_warmup</c> driven by <c>Trainer</c>: optimizer step s (0-based) uses
/// <c>base · factor(s)</c>, so with warm-up the very first step has learning rate 0.
/// </summary>
internal static class LearningRates
{
    /// <summary>Warm-up steps as transformers computes them: ⌈ratio · total⌉.</summary>
    public static int WarmupSteps(double ratio, int totalSteps) => (int)Math.Ceiling(ratio * totalSteps);

    /// <summary>The learning rate of 0-based optimizer step <paramref name="step"/>.</summary>
    public static double At(LearningRateSchedule schedule, double baseRate, int step, int totalSteps, int warmupSteps)
    {
        if (step < warmupSteps) return baseRate * step / Math.Max(1, warmupSteps);
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return schedule switch
        {
            LearningRateSchedule.Constant => baseRate,
            LearningRateSchedule.Linear => baseRate * Math.Max(0.0, (double)(totalSteps - step) / Math.Max(1, totalSteps - warmupSteps)),
            LearningRateSchedule.Cosine => baseRate * Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress))),
            _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule, "Unknown learning-rate schedule."),
        };
    }
}
