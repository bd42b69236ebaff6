namespace LfU.MLNet.Objectives;

/// <summary>An objective known by name.</summary>
/// <param name="Name">The name users type (<c>lfu train --objective</c>, <c>lfu benchmark --methods</c>, <c>lfu bench --objectives</c>).</param>
/// <param name="Summary">One line for help texts.</param>
/// <param name="Create">Builds the objective from settings given by name (unset ones keep the objective's defaults).</param>
public sealed record ObjectiveEntry(string Name, string Summary, Func<ObjectiveParameters, TrainingObjective> Create)
{
    /// <summary>
    /// Whether the objective uses <paramref name="setting"/>, found from the objective itself rather than a list to keep
    /// in step: built with two different values of the setting, an objective that reads it comes out different.
    /// </summary>
    public bool Reads(ObjectiveSetting setting)
    {
        var (first, second) = setting switch
        {
            ObjectiveSetting.Alpha => (new ObjectiveParameters { Alpha = 0.125 }, new ObjectiveParameters { Alpha = 0.25 }),
            ObjectiveSetting.Lambda => (new ObjectiveParameters { Lambda = 0.125 }, new ObjectiveParameters { Lambda = 0.25 }),
            ObjectiveSetting.AscentBatch => (new ObjectiveParameters { AscentBatch = AscentBatchMode.SameBatch }, new ObjectiveParameters { AscentBatch = AscentBatchMode.IndependentBatch }),
            ObjectiveSetting.AscentSteps => (new ObjectiveParameters { AscentSteps = 2 }, new ObjectiveParameters { AscentSteps = 3 }),
            ObjectiveSetting.Consistency => (new ObjectiveParameters { Consistency = ConsistencyMeasure.Mse }, new ObjectiveParameters { Consistency = ConsistencyMeasure.Cosine }),
            ObjectiveSetting.HiddenStateFrom => (new ObjectiveParameters { HiddenStateFrom = 1 }, new ObjectiveParameters { HiddenStateFrom = 2 }),
            ObjectiveSetting.HiddenStateTo => (new ObjectiveParameters { HiddenStateTo = 1 }, new ObjectiveParameters { HiddenStateTo = 2 }),
            ObjectiveSetting.NoiseAlpha => (new ObjectiveParameters { NoiseAlpha = 0.125 }, new ObjectiveParameters { NoiseAlpha = 0.25 }),
            ObjectiveSetting.PenaltyWeight => (new ObjectiveParameters { PenaltyWeight = 0.125 }, new ObjectiveParameters { PenaltyWeight = 0.25 }),
            _ => throw new ArgumentOutOfRangeException(nameof(setting), setting, "Not an objective setting."),
        };
        return !Equals(Create(first), Create(second));
    }
}
