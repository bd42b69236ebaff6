using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Model;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Adapters;

/// <summary>Attach, merge, unmerge, merge-for-a-while and remove, on the tiny Llama in float64.</summary>
public class LoraAdaptersTests
{
    static CausalLM TinyModel() => PretrainedModel.Load(FixturePaths.Model("llama-tiny"), ScalarType.Float64);

    static Tensor Ids() => tensor(new long[] { 5, 17, 42, 99, 7, 3 }).unsqueeze(0); // (1, T)

    static Tensor Logits(CausalLM model)
    {
        using var _ = no_grad();
        return model.Forward(Ids()).Logits.detach().clone();
    }

    /// <summary>Gives every B a non-zero value, so the adapter changes the output.</summary>
    static void Randomise(CausalLM model)
    {
        using var _ = no_grad();
        using var generator = new TorchSharp.torch.Generator(7);
        foreach (var (name, p) in LoraAdapters.Parameters(model))
            if (name.EndsWith("lora_B.weight", StringComparison.Ordinal)) p.normal_(0, 0.05, generator);
    }

    [Fact]
    public void AFreshAdapterChangesNothingAndNamesItsWeightsAsPeftDoes()
    {
        using var model = TinyModel();
        var before = Logits(model);
        var parameters = LoraAdapters.Attach(model, new LoraConfig { TargetModules = ["q_proj", "v_proj"] }, seed: 1, ScalarType.Float64);
        Assert.Equal(model.LayerCount * 2 * 2, parameters.Count);
        Assert.Contains(parameters, p => p.Name == "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
        Assert.DoesNotContain(parameters, p => p.Name.Contains("k_proj", StringComparison.Ordinal));
        Assert.True((before == Logits(model)).all().item<bool>(), "a fresh adapter (B = 0) changed the output");
    }

    [Fact]
    public void MergingGivesTheSameOutputAndUnmergingGivesTheBaseWeightsBack()
    {
        using var model = TinyModel();
        var baseWeight = model.model.layers[0].self_attn.q_proj.weight.detach().clone();
        LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64);
        Randomise(model);
        var adapted = Logits(model);

        LoraAdapters.MergeAll(model);
        Assert.True(model.model.layers[0].self_attn.q_proj.IsMerged);
        Assert.True(adapted.allclose(Logits(model), rtol: 1e-12, atol: 1e-12), "merged output differs");
        Assert.False((baseWeight == model.model.layers[0].self_attn.q_proj.weight).all().item<bool>());

        LoraAdapters.UnmergeAll(model);
        Assert.True(baseWeight.allclose(model.model.layers[0].self_attn.q_proj.weight, rtol: 0, atol: 1e-14));
        Assert.True(adapted.allclose(Logits(model), rtol: 1e-12, atol: 1e-12), "unmerged output differs");
    }

    [Fact]
    public void WithMergedRestoresTheBaseWeightsBitForBit()
    {
        using var model = TinyModel();
        LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64);
        Randomise(model);
        var weights = model.BlockLinears().Select(l => l.Layer.weight.detach().clone()).ToList();
        var adapted = Logits(model);
        Tensor? inside = null;
        LoraAdapters.WithMerged(model, () => inside = Logits(model));
        Assert.True(adapted.allclose(inside!, rtol: 1e-12, atol: 1e-12));
        Assert.All(model.BlockLinears().Zip(weights), p => Assert.True((p.First.Layer.weight == p.Second).all().item<bool>(), $"{p.First.Name} changed"));
        Assert.All(model.BlockLinears(), l => Assert.False(l.Layer.IsMerged));
    }

    [Fact]
    public void RemovingLeavesThePlainModel()
    {
        using var model = TinyModel();
        var before = Logits(model);
        var names = model.named_parameters().Select(p => p.name).ToList();
        LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64);
        Randomise(model);
        LoraAdapters.MergeAll(model);
        LoraAdapters.RemoveAll(model);
        Assert.Empty(LoraAdapters.Parameters(model));
        Assert.Equal(names, model.named_parameters().Select(p => p.name).ToList());
        Assert.True(before.allclose(Logits(model), rtol: 1e-12, atol: 1e-12), "output after removal differs from the base");
        // A new adapter can be attached again.
        Assert.NotEmpty(LoraAdapters.Attach(model, new LoraConfig(), seed: 2, ScalarType.Float64));
    }

    [Fact]
    public void ASecondAdapterOnTheSameLayerIsRefused()
    {
        using var model = TinyModel();
        LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64);
        var e = Assert.Throws<InvalidOperationException>(() => LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64));
        Assert.Contains("already has a LoRA adapter", e.Message);
    }
}
