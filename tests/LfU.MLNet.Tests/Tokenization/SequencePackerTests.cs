using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Tokenization;

public class SequencePackerTests
{
    static TrainingExample Example(params int[] ids) => new(ids, ids.Select((id, i) => i == 0 ? TrainingExample.IgnoreIndex : id).ToArray());

    [Fact]
    public void RowsHoldEveryExampleWholeWithPositionsFromZeroAndTheirFirstLabelDropped()
    {
        var examples = new[] { Example(1, 2, 3, 4), Example(1, 5, 6), Example(1, 7, 8, 9, 10, 11), Example(1, 12) };
        var rows = SequencePacker.Pack(examples, rowLength: 8);

        Assert.All(rows, r => Assert.True(r.InputIds.Length <= 8));
        // Best-fit decreasing: 6 tokens opens a row, 4 opens another, 3 fits only the second, 2 fills the first.
        Assert.Equal(2, rows.Count);
        Assert.Equal(new[] { 1, 7, 8, 9, 10, 11, 1, 12 }, rows[0].InputIds);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 0, 1 }, rows[0].PositionIds);
        Assert.Equal(new[] { 1, 2, 3, 4, 1, 5, 6 }, rows[1].InputIds);
        Assert.Equal(new[] { 0, 1, 2, 3, 0, 1, 2 }, rows[1].PositionIds);
        Assert.Equal(new[] { -100, 2, 3, 4, -100, 5, 6 }, rows[1].Labels);
        Assert.Equal(examples.Sum(e => e.InputIds.Length), rows.Sum(r => r.InputIds.Length));
    }

    [Fact]
    public void PackingIsDeterministicAndNearlyFull()
    {
        var random = new Random(5);
        var examples = Enumerable.Range(0, 2000).Select(_ => Example(Enumerable.Range(1, random.Next(20, 90)).ToArray())).ToList();
        var rows = SequencePacker.Pack(examples, 128);
        var again = SequencePacker.Pack(examples, 128);
        Assert.Equal(rows.Select(r => r.InputIds), again.Select(r => r.InputIds));
        double filled = examples.Sum(e => (double)e.InputIds.Length) / (rows.Count * 128.0);
        Assert.True(filled > 0.98, $"rows are {filled:P1} full");
    }

    [Fact]
    public void TooLongOrAlreadyPackedExamplesAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => SequencePacker.Pack([Example(1, 2), Example(1, 2, 3, 4, 5)], 4));
        Assert.Contains("Example 1 has 5 tokens", e.Message);
        var packed = SequencePacker.Pack([Example(1, 2)], 4);
        Assert.Contains("already packed", Assert.Throws<ArgumentException>(() => SequencePacker.Pack(packed, 4)).Message);
    }

    [Fact]
    public void ThePackedLossIsTheTokenWeightedMeanOfTheExamplesLosses()
    {
        using var scope = NewDisposeScope();
        using var model = PretrainedModel.Load(FixturePaths.Model("llama-tiny"), ScalarType.Float64);
        var examples = new[] { Example(1, 5, 17, 99, 3), Example(1, 250, 8), Example(1, 42, 7, 9, 11, 12) };
        var collator = new Collator(padId: 0);
        double weighted = 0, tokens = 0;
        using var _ = no_grad();
        foreach (var example in examples)
        {
            using var alone = collator.CollateForTraining([example]);
            long n = alone.PredictedTokens();
            weighted += model.Forward(alone.InputIds, new ForwardOptions { AttentionMask = alone.AttentionMask, Labels = alone.Labels }).Loss!.item<float>() * n;
            tokens += n;
        }
        using var batch = collator.CollateForTraining(SequencePacker.Pack(examples, 16));
        Assert.Equal(tokens, batch.PredictedTokens());
        double packed = model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, Labels = batch.Labels, PositionIds = batch.PositionIds }).Loss!.item<float>();
        Assert.Equal(weighted / tokens, packed, tolerance: 1e-5); // the loss is computed in float32
    }
}
