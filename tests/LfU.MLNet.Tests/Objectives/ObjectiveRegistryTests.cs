using LfU.MLNet.Objectives;
using Xunit;

namespace LfU.MLNet.Tests.Objectives;

public class ObjectiveRegistryTests
{
    [Theory]
    [InlineData(ObjectiveSetting.Alpha, "lfu-lora,lfu-lora-multistep,lfu-reps,lfu-reps-relative")]
    [InlineData(ObjectiveSetting.Lambda, "lfu-lora,lfu-lora-multistep,lfu-reps,lfu-reps-relative")]
    [InlineData(ObjectiveSetting.AscentBatch, "lfu-lora,lfu-lora-multistep")]
    [InlineData(ObjectiveSetting.AscentSteps, "lfu-lora-multistep")]
    [InlineData(ObjectiveSetting.Consistency, "lfu-lora,lfu-lora-multistep,lfu-reps,lfu-reps-relative")]
    [InlineData(ObjectiveSetting.HiddenStateFrom, "lfu-lora,lfu-lora-multistep,lfu-reps,lfu-reps-relative")]
    [InlineData(ObjectiveSetting.HiddenStateTo, "lfu-lora,lfu-lora-multistep,lfu-reps,lfu-reps-relative")]
    [InlineData(ObjectiveSetting.NoiseAlpha, "neftune")]
    [InlineData(ObjectiveSetting.PenaltyWeight, "l2,l1")]
    public void EachSettingIsReadByTheObjectivesThatHaveIt(ObjectiveSetting setting, string readers)
    {
        Assert.Equal(readers.Split(','), ObjectiveRegistry.Reading(setting));
    }

    [Fact]
    public void EveryRegisteredObjectiveIsFoundByItsNameInAnyCase()
    {
        foreach (string name in ObjectiveRegistry.Names)
            Assert.Equal(name, ObjectiveRegistry.Create(name.ToUpperInvariant()).Name);
        var e = Assert.Throws<ArgumentException>(() => ObjectiveRegistry.Find("dpo"));
        Assert.Contains("Unknown objective 'dpo'; choose from sft, lfu-lora", e.Message);
    }
}
