using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

public class CollatorTests
{
    [Fact]
    public void TrainingBatchesAreRightPaddedToAMultipleOf8()
    {
        var collator = new Collator(padId: 0);
        using TokenBatch batch = collator.CollateForTraining([
            new TrainingExample([5, 6, 7], [-100, 6, 7]),
            new TrainingExample([1, 2, 3, 4, 5, 6, 7, 8, 9], [-100, -100, 3, 4, 5, 6, 7, 8, 9]),
        ]);
        Assert.Equal(new long[] { 2, 16 }, batch.InputIds.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, batch.InputIds.dtype);
        Assert.Equal(new long[] { 5, 6, 7, 0, 0 }, batch.InputIds[0].data<long>().Take(5).ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 0, 0 }, batch.AttentionMask[0].data<long>().Take(5).ToArray());
        Assert.Equal(new long[] { -100, 6, 7, -100, -100 }, batch.Labels![0].data<long>().Take(5).ToArray());
        Assert.Equal(9, batch.AttentionMask[1].sum().item<long>());
    }

    [Fact]
    public void GenerationPromptsAreLeftPaddedWithoutLabels()
    {
        var collator = new Collator(padId: 99, padMultiple: 4);
        using TokenBatch batch = collator.CollatePrompts([[1, 2], [3, 4, 5, 6, 7]]);
        Assert.Equal(new long[] { 2, 8 }, batch.InputIds.shape);
        Assert.Equal(new long[] { 99, 99, 99, 99, 99, 99, 1, 2 }, batch.InputIds[0].data<long>().ToArray());
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0, 1, 1 }, batch.AttentionMask[0].data<long>().ToArray());
        Assert.Null(batch.Labels);
    }

    [Fact]
    public void BadBatchesAreRejected()
    {
        var collator = new Collator(padId: 0);
        Assert.Throws<ArgumentException>(() => collator.CollatePrompts([]));
        Assert.Throws<ArgumentException>(() => collator.CollateForTraining([new TrainingExample([1, 2], [1])]));
    }
}
