using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Training;

public class FineTuningJobTests
{
    [Fact]
    public void TheJobTakesThePadTokenFromTheTokenizerAndTheComputeDTypeFromThePrecisionOnTheNetworksDevice()
    {
        var baseModel = BaseModel.Load(TinyTextModel.Path);
        using var network = baseModel.Network;
        var options = new TrainerOptions { PadTokenId = 12345 };
        Assert.Equal(baseModel.Tokenizer.PadId, new FineTuningJob(baseModel, options).Options.PadTokenId);
        Assert.Null(new FineTuningJob(baseModel, options).ComputeDType); // no precision: the weights' dtype
        Assert.Equal(ScalarType.BFloat16, new FineTuningJob(baseModel, options with { Precision = "bf16" }).ComputeDType);
        Assert.Null(new FineTuningJob(baseModel, options with { Precision = "fp32" }).ComputeDType);
        Assert.Equal(ComputePrecision.Resolve("auto", CPU), new FineTuningJob(baseModel, options with { Precision = "auto" }).ComputeDType);
    }

    [Fact]
    public void TheTrainerComputesInThePrecisionAndRestoresTheModelsAfterwards()
    {
        var baseModel = BaseModel.Load(TinyTextModel.Path, template: "alpaca");
        using var network = baseModel.Network;
        ScalarType? during = null;
        var job = new FineTuningJob(baseModel, new TrainerOptions { MaxSteps = 1, BatchSize = 2, Precision = "bf16" }) { BeforeTraining = () => during = network.ComputeDType };
        job.Train(job.BuildExamples([("What is 1 plus 1?", "#### 2"), ("What is 2 plus 2?", "#### 4")]));
        Assert.Equal(ScalarType.BFloat16, during);
        Assert.Null(network.ComputeDType);
    }

    [Fact]
    public void TheJobBuildsTheExamplesAndTrainsTheBaseInPlaceLeavingItReadyForInference()
    {
        var baseModel = BaseModel.Load(TinyTextModel.Path, template: "alpaca");
        using var network = baseModel.Network;
        var job = new FineTuningJob(baseModel, new TrainerOptions { MaxSteps = 2, BatchSize = 2, LearningRate = 1e-2 });
        var examples = job.BuildExamples([("What is 1 plus 1?", "#### 2"), ("Say nothing.", ""), ("What is 2 plus 2?", "#### 4")]);
        Assert.Equal((3, 2), (examples.Report.Total, examples.Examples.Count));
        Assert.Equal("empty response", Assert.Single(examples.Report.Skipped).Reason);
        var result = job.Train(examples);
        Assert.Same(baseModel, result.Base);
        Assert.Same(examples.Report, result.Examples);
        Assert.Equal(2, result.Training.History.Count);
        Assert.All(network.parameters(), p => Assert.False(p.requires_grad));
        Assert.False(network.training);
    }

    [Fact]
    public void ARowTheBuilderRejectsIsReportedByItsPosition()
    {
        var baseModel = BaseModel.Load(TinyTextModel.Path);
        using var network = baseModel.Network;
        var job = new FineTuningJob(baseModel, new TrainerOptions());
        IReadOnlyList<ChatMessage>[] rows =
        [
            [new("user", "hi"), new("assistant", "hello")],
            [new("user", "no reply")],
        ];
        var e = Assert.Throws<InvalidDataException>(() => job.BuildExamples(rows, (row, error) => new InvalidDataException($"row {row}: {error.Message}", error)));
        Assert.StartsWith("row 1: A training conversation must end with the assistant message", e.Message);
    }
}
