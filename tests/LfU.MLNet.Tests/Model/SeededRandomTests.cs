using System.Text.Json.Nodes;
using LfU.MLNet.Model;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Model;

/// <summary>
/// Seeded draws come from a CPU stream whatever the device (TorchSharp's CUDA "generator" is a CPU one, which CUDA
/// kernels refuse); on the CPU they are the in-place draws they replaced, bit for bit.
/// </summary>
public class SeededRandomTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void UniformIsTheInPlaceDrawOnTheCpu(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var a = SeededRandom.Create(7);
        using var b = new Generator(7);
        var ours = SeededRandom.Uniform_(empty(new long[] { 5, 9 }, dtype), -0.3, 0.3, a);
        var theirs = empty(new long[] { 5, 9 }, dtype).uniform_(-0.3, 0.3, b);
        Assert.True(ours.eq(theirs).all().item<bool>());
        Assert.Equal(dtype, ours.dtype);
    }

    [Fact]
    public void NormalIsTheInPlaceDrawOnTheCpuAndTheStreamContinues()
    {
        using var scope = NewDisposeScope();
        using var a = SeededRandom.Create(3);
        using var b = new Generator(3);
        for (int i = 0; i < 2; i++) // the second draw continues the same stream
            Assert.True(SeededRandom.Normal_(empty(4, 4), 0, 0.02, a).eq(empty(4, 4).normal_(0, 0.02, b)).all().item<bool>());
    }

    [Fact]
    public void IntegersAndMultinomialAreSeeded()
    {
        using var scope = NewDisposeScope();
        Tensor Ids(long seed) { using var g = SeededRandom.Create(seed); return SeededRandom.Integers(0, 50, new long[] { 2, 8 }, CPU, g); }
        Assert.True(Ids(1).eq(Ids(1)).all().item<bool>());
        Assert.False(Ids(1).eq(Ids(2)).all().item<bool>());
        Assert.Equal(ScalarType.Int64, Ids(1).dtype);

        var probabilities = softmax(arange(12, dtype: ScalarType.Float32).reshape(2, 6), -1);
        Tensor Sample(long seed) { using var g = SeededRandom.Create(seed); return SeededRandom.Multinomial(probabilities, g); }
        Assert.Equal(new long[] { 2, 1 }, Sample(5).shape);
        Assert.True(Sample(5).eq(Sample(5)).all().item<bool>());
    }

    [Fact]
    public void AForwardPassLeavesNoLayerTemporariesInTheCallersScope()
    {
        // Each layer's temporaries die with the layer (autograd keeps what backward needs): the caller's scope holds
        // the same number of tensors for a deep model as for a shallow one. Held to the step instead, they doubled the
        // peak device memory of a 1B training step (H200).
        int Registered(int layers)
        {
            var config = ModelConfig.FromJson((JsonObject)JsonNode.Parse($$"""
                {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":32,"intermediate_size":64,"num_attention_heads":4,"num_key_value_heads":2,
                 "num_hidden_layers":{{layers}},"vocab_size":50,"max_position_embeddings":64,"rms_norm_eps":1e-5,"tie_word_embeddings":true}
                """)!);
            using var model = new CausalLM(config);
            model.InitializeWeights(0.02, seed: 1);
            foreach (var p in model.parameters()) p.requires_grad = true;
            using var ids = tensor(new long[] { 1, 2, 3, 4, 5, 6 }, new long[] { 1, 6 });
            using var scope = NewDisposeScope();
            var output = model.Forward(ids, new ForwardOptions { Labels = ids });
            output.Loss!.backward();
            return scope.DisposablesCount;
        }
        Assert.Equal(Registered(1), Registered(6));
    }
}
