using System.Text.Json.Nodes;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Objectives;

/// <summary>
/// The additive RepS perturbation in a bfloat16 model at a real model's width: added in bfloat16, α/√(L·H) per element
/// (2.8e-4 at Llama-8B's 32 layers × 4096, α 0.1) mostly rounds away against states of spread 1.
/// </summary>
public class RepsSteeringPrecisionTests
{
    const int Hidden = 4096, Layers = 2;

    static CausalLM Bf16Model()
    {
        var config = ModelConfig.FromJson((JsonObject)JsonNode.Parse($$"""
            {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":{{Hidden}},"intermediate_size":32,"num_attention_heads":32,
             "num_key_value_heads":1,"num_hidden_layers":{{Layers}},"vocab_size":40,"max_position_embeddings":64,"rms_norm_eps":1e-5,"tie_word_embeddings":true}
            """)!);
        var model = new CausalLM(config, ScalarType.BFloat16);
        model.InitializeWeights(0.002, seed: 5);
        using (no_grad()) model.model.embed_tokens.weight.normal_(0, 1); // hidden states of spread ~1, as in trained models
        return model;
    }

    [Fact]
    public void TheSteeredStatesCarryThePerturbationThatWasIntended()
    {
        using var scope = NewDisposeScope();
        using var model = Bf16Model();
        var ids = tensor(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }, new long[] { 1, 8 });
        // A direction over all layers' vectors with one norm, as the objective makes it, scaled to Llama-8B's per-element
        // size: α 0.1 spread over 32 layers' vectors, not 2.
        var g = randn(Layers, Hidden, dtype: ScalarType.Float32);
        var delta = (g * (0.1 * Math.Sqrt(Layers / 32.0) / g.norm().item<float>())).unbind(0);
        var zero = Enumerable.Range(0, Layers).Select(_ => zeros(Hidden, dtype: ScalarType.BFloat16)).ToArray();
        using var _ = no_grad();
        var clean = model.Forward(ids, new ForwardOptions { OutputHiddenStates = true, LayerSteering = zero }).HiddenStates![1];
        double Cosine(IReadOnlyList<Tensor> steering)
        {
            var steered = model.Forward(ids, new ForwardOptions { OutputHiddenStates = true, LayerSteering = steering }).HiddenStates![1]; // (1, T, C)
            var applied = steered.to(ScalarType.Float32) - clean.to(ScalarType.Float32);                                               // after layer 0: δ₀ alone
            return nn.functional.cosine_similarity(applied[0], delta[0].unsqueeze(0), dim: -1).min().item<float>();
        }
        double inBf16 = Cosine(delta.Select(d => d.to(ScalarType.BFloat16)).ToArray());
        double inFloat32 = Cosine(delta);
        Assert.True(inFloat32 >= 0.99, $"float32 steering: worst cosine {inFloat32:F4}");
        Assert.True(inBf16 < 0.9, $"bfloat16 steering was expected to lose the perturbation (cosine {inBf16:F4}); if it no longer does, this test's premise is gone");
    }

    [Fact]
    public void TheObjectiveSteersInFloat32OverBfloat16Activations()
    {
        using var scope = NewDisposeScope();
        using var model = Bf16Model();
        var trainable = model.get_parameter("model.layers.0.mlp.up_proj.weight")!;
        trainable.requires_grad = true;
        using var step = new LfURepsObjective().CreateStep(new ObjectiveContext(model, [trainable], Seed: 0));
        var ids = tensor(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }, new long[] { 1, 8 });
        var labels = ids.clone();
        labels[0, ..3] = tensor(-100L);
        step.AccumulateOnDevice(new TokenBatch(ids, ones_like(ids), labels), null, 1.0);
        Assert.All(step.LastSteering!, d => Assert.Equal(ScalarType.Float32, d.dtype));
        double norm = Math.Sqrt(step.LastSteering!.Sum(d => d.pow(2).sum().item<float>()));
        Assert.Equal(LfURepsObjective.DefaultStep, norm, 3);
    }
}
