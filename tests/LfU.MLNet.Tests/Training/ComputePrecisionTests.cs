using LfU.MLNet.Training;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Training;

public class ComputePrecisionTests
{
    [Fact]
    public void SettingsResolveToAComputeDType()
    {
        Assert.Equal(ScalarType.BFloat16, ComputePrecision.Resolve("bf16", CPU));
        Assert.Null(ComputePrecision.Resolve("fp32", CPU));
        Assert.Equal(ComputePrecision.BFloat16IsFast(CPU) ? ScalarType.BFloat16 : null, ComputePrecision.Resolve("auto", CPU));
        Assert.Contains("auto, bf16, fp32", Assert.Throws<ArgumentException>(() => ComputePrecision.Resolve("fp8", CPU)).Message);
    }

    [Fact]
    public void AnUnknownPrecisionIsRefusedNamingTheSettingsThatExist()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Precision = "fp8" }.Validate());
        Assert.Contains("Precision", e.Message);
        Assert.Contains("auto, bf16, fp32", e.Message);
        new TrainerOptions { Precision = "BF16" }.Validate();
    }
}
