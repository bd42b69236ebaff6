using System.Text.Json.Nodes;
using LfU.MLNet.Model;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Model;

/// <summary>Replacing a submodule by its dotted name (PyTorch's set_submodule), and its errors.</summary>
public class ModuleTreeTests
{
    // A Qwen3 shape: its attention holds q_norm and k_norm after the projections, so a position can be lost.
    const string Qwen3Config = """
        {"architectures":["Qwen3ForCausalLM"],"attention_bias":false,"head_dim":8,"hidden_size":16,"intermediate_size":24,
         "max_position_embeddings":64,"model_type":"qwen3","num_attention_heads":2,"num_hidden_layers":2,"num_key_value_heads":1,
         "rms_norm_eps":1e-06,"rope_theta":10000,"tie_word_embeddings":false,"vocab_size":40}
        """;

    static CausalLM TinyModel()
    {
        var model = new CausalLM(ModelConfig.FromJson((JsonObject)JsonNode.Parse(Qwen3Config)!));
        model.InitializeWeights(0.1, seed: 1);
        return model;
    }

    static Tensor Logits(CausalLM model)
    {
        using var _ = no_grad();
        return model.Forward(tensor(new long[] { 1, 5, 9, 3 }).unsqueeze(0)).Logits.detach().clone();
    }

    /// <summary>A projection that doubles its base's output, standing in for an adapter.</summary>
    sealed class Doubled(Projection inner) : nn.Module<Tensor, Tensor>("Doubled")
    {
        protected override void RegisterComponents() { } // holds inner without registering it
        public override Tensor forward(Tensor x) => inner.forward(x) * 2;
    }

    [Fact]
    public void SetSubmoduleReplacesTheModuleTheParentUsesInItsPlace()
    {
        using var model = TinyModel();
        var names = model.named_modules().Select(m => m.name).ToList();
        const string target = "model.layers.1.self_attn.q_proj";
        var q = Assert.IsType<Projection>(ModuleTree.GetSubmodule(model, target));
        var before = Logits(model);

        using var doubled = new Doubled(q);
        ModuleTree.SetSubmodule(model, target, doubled);
        Assert.Same(doubled, ModuleTree.GetSubmodule(model, target));
        Assert.Equal(names.Where(n => !n.StartsWith(target + ".", StringComparison.Ordinal)), model.named_modules().Select(m => m.name)); // same place
        Assert.False((before == Logits(model)).all().item<bool>(), "the parent's forward did not use the replacement");

        ModuleTree.SetSubmodule(model, target, q);
        Assert.Equal(names, model.named_modules().Select(m => m.name));
        Assert.True((before == Logits(model)).all().item<bool>());
    }

    [Fact]
    public void SetSubmoduleNamesAMissingTarget()
    {
        using var model = TinyModel();
        using var replacement = new Projection(16, 16, false, ScalarType.Float32);
        var e = Assert.Throws<ArgumentException>(() => ModuleTree.SetSubmodule(model, "model.layers.0.self_attn.x_proj", replacement));
        Assert.Contains("x_proj", e.Message);
        e = Assert.Throws<ArgumentException>(() => ModuleTree.SetSubmodule(model, "model.layers.7.self_attn.q_proj", replacement));
        Assert.Contains("'model.layers' has no submodule '7'", e.Message);
        Assert.Throws<ArgumentException>(() => ModuleTree.SetSubmodule(model, "", replacement));
    }

    [Fact]
    public void SetSubmoduleRefusesAModuleOfAnotherType()
    {
        using var model = TinyModel();
        using var projection = new Projection(16, 16, false, ScalarType.Float32);
        var e = Assert.Throws<ArgumentException>(() => ModuleTree.SetSubmodule(model, "model.layers.0.input_layernorm", projection));
        Assert.Contains("RmsNorm", e.Message);
        Assert.Contains("Projection", e.Message);
        // q_proj takes any module from tensor to tensor, not an attention block.
        var attention = ModuleTree.GetSubmodule(model, "model.layers.1.self_attn");
        Assert.Throws<ArgumentException>(() => ModuleTree.SetSubmodule(model, "model.layers.0.self_attn.q_proj", attention));
        Assert.IsType<Projection>(ModuleTree.GetSubmodule(model, "model.layers.0.self_attn.q_proj")); // unchanged
    }

    [Fact]
    public void SetSubmoduleRefusesAChildThatNoFieldHolds()
    {
        using var model = TinyModel();
        var layer = ModuleTree.GetSubmodule(model, "model.layers.1");
        // A ModuleList registers its items by index, without fields; replacing one would not change what runs.
        var e = Assert.Throws<ArgumentException>(() => ModuleTree.SetSubmodule(model, "model.layers.0", layer));
        Assert.Contains("no field", e.Message);
    }
}
