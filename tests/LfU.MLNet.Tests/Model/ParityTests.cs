using LfU.Cli.GpuCheck;
using LfU.MLNet.Generation;
using LfU.MLNet.Model;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Model;

/// <summary>Logits, every hidden state and greedy generation against PyTorch/transformers references.</summary>
public class ParityTests
{
    [Theory]
    [InlineData("llama-tiny", AttentionImplementation.Sdpa)]
    [InlineData("qwen2-tiny", AttentionImplementation.Sdpa)]
    [InlineData("llama-tiny", AttentionImplementation.Eager)]
    [InlineData("qwen2-tiny", AttentionImplementation.Eager)]
    public void LogitsHiddenStatesAndGreedyGenerationMatchTransformers(string name, AttentionImplementation attention)
    {
        // The measurement is FixtureParity, which lfu gpu-check runs on CUDA.
        var measured = FixtureParity.Measure(FixturePaths.Model(name), CPU, ScalarType.Float32, attention);
        Assert.True(measured.LogitsMaxAbsDiff <= 1e-4, $"logits: max abs diff {measured.LogitsMaxAbsDiff:G4} exceeds 1e-4");
        for (int i = 0; i < measured.HiddenMaxAbsDiff.Count; i++)
            Assert.True(measured.HiddenMaxAbsDiff[i] <= 1e-4, $"hidden_states.{i}: max abs diff {measured.HiddenMaxAbsDiff[i]:G4} exceeds 1e-4");
        // Greedy decoding with the KV cache reproduces transformers' generate exactly.
        Assert.Equal(measured.ExpectedGreedy, measured.Greedy);
    }

    [Fact]
    public void Bfloat16ComputeOverFloat32WeightsTracksFloat32AndGivesFloat32Gradients()
    {
        using var scope = NewDisposeScope();
        using var model = PretrainedModel.Load(FixturePaths.Model("llama-tiny"));
        var ids = tensor(new long[] { 1, 5, 9, 200, 3, 77 }, new long[] { 1, 6 });
        Tensor l32;
        using (no_grad()) l32 = model.Forward(ids).Logits;
        model.ComputeDType = ScalarType.BFloat16;
        var weight = model.named_parameters().Single(p => p.name == "model.layers.0.mlp.up_proj.weight").parameter;
        weight.requires_grad = true;
        var output = model.Forward(ids, new ForwardOptions { Labels = ids, OutputHiddenStates = true });
        Assert.Equal(ScalarType.BFloat16, output.Logits.dtype);
        Assert.All(output.HiddenStates!, h => Assert.Equal(ScalarType.BFloat16, h.dtype));
        Assert.Equal(ScalarType.Float32, output.Loss!.dtype);
        var rel = ((output.Logits.to(ScalarType.Float32) - l32).abs().max() / l32.abs().max()).item<float>();
        Assert.True(rel < 0.05, $"bfloat16 compute deviates {rel:G3} relative from float32");
        output.Loss.backward();
        Assert.Equal(ScalarType.Float32, weight.grad!.dtype);
        Assert.True(weight.grad.abs().sum().item<float>() > 0);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void PackedRowComputesWhatEachExampleComputesAlone()
    {
        using var scope = NewDisposeScope();
        using var model = PretrainedModel.Load(FixturePaths.Model("llama-tiny"), ScalarType.Float64);
        long[] a = { 1, 5, 17, 99, 3 }, b = { 1, 250, 8 }, c = { 1, 42, 7, 9 };
        // Row: a, b, c, then two padding positions (position 0, masked).
        var ids = tensor(a.Concat(b).Concat(c).Concat(new long[] { 0, 0 }).ToArray(), new long[] { 1, 14 });
        var positions = tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2, 0, 1, 2, 3, 0, 0 }, new long[] { 1, 14 });
        var mask = tensor(Enumerable.Repeat(1L, 12).Concat(new long[] { 0, 0 }).ToArray(), new long[] { 1, 14 });
        foreach (var implementation in new[] { AttentionImplementation.Sdpa, AttentionImplementation.Eager })
        {
            model.AttentionImplementation = implementation;
            using var _ = no_grad();
            var packed = model.Forward(ids, new ForwardOptions { AttentionMask = mask, PositionIds = positions, OutputHiddenStates = true });
            int offset = 0;
            foreach (var example in new[] { a, b, c })
            {
                var alone = model.Forward(tensor(example, new long[] { 1, example.Length }), new ForwardOptions { OutputHiddenStates = true });
                var slice = packed.Logits[.., offset..(offset + example.Length)];
                AssertClose(alone.Logits, slice, 1e-10, $"{implementation} logits at offset {offset}");
                AssertClose(alone.HiddenStates![2], packed.HiddenStates![2][.., offset..(offset + example.Length)], 1e-10, $"{implementation} hidden state at offset {offset}");
                offset += example.Length;
            }
        }
    }

    [Fact]
    public void PositionIdsAndKvCacheAreNotCombined()
    {
        using var scope = NewDisposeScope();
        using var model = PretrainedModel.Load(FixturePaths.Model("llama-tiny"));
        var ids = tensor(new long[] { 1, 5, 9 }, new long[] { 1, 3 });
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ids, new ForwardOptions { PositionIds = zeros_like(ids), Cache = new KvCache(model.LayerCount) }));
        Assert.Contains("PositionIds", e.Message);
    }

    [Fact]
    public void LeftPaddedBatchGeneratesWhatEachPromptGeneratesAlone()
    {
        using var scope = NewDisposeScope();
        using var model = PretrainedModel.Load(FixturePaths.Model("llama-tiny"));
        long[] a = { 5, 17, 99, 3, 42, 7 }, b = { 11, 250, 8 };
        var batch = tensor(new long[] { 5, 17, 99, 3, 42, 7, 0, 0, 0, 11, 250, 8 }, new long[] { 2, 6 });
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1 }, new long[] { 2, 6 });
        var together = TokenGenerator.Generate(model, batch, mask, maxNewTokens: 8);
        var aloneA = TokenGenerator.Generate(model, tensor(a, new long[] { 1, 6 }), ones(1, 6, dtype: ScalarType.Int64), 8);
        var aloneB = TokenGenerator.Generate(model, tensor(b, new long[] { 1, 3 }), ones(1, 3, dtype: ScalarType.Int64), 8);
        Assert.Equal(aloneA[0], together[0]);
        Assert.Equal(aloneB[0], together[1]);
    }

    [Fact]
    public void Bfloat16WeightsStayBfloat16AndTrackFloat32()
    {
        using var scope = NewDisposeScope();
        using var model32 = PretrainedModel.Load(FixturePaths.Model("llama-tiny"));
        using var model16 = PretrainedModel.Load(FixturePaths.Model("llama-tiny"), ScalarType.BFloat16);
        Assert.All(model16.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        var ids = tensor(new long[] { 1, 5, 9, 200, 3, 77 }, new long[] { 1, 6 });
        using var _ = no_grad();
        var l32 = model32.Forward(ids).Logits;
        var l16 = model16.Forward(ids).Logits;
        Assert.Equal(ScalarType.BFloat16, l16.dtype);
        var rel = ((l16.to(ScalarType.Float32) - l32).abs().max() / l32.abs().max()).item<float>();
        Assert.True(rel < 0.1, $"bfloat16 logits deviate {rel:G3} relative from float32");
    }

    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected.to(ScalarType.Float64) - actual.to(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(diff <= tolerance, $"{what}: max abs diff {diff:G4} exceeds {tolerance:G2}");
    }
}
