using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Adapters;

/// <summary>Attach by target name, merge, unmerge, merge-for-a-while and remove, on the tiny Llama and Qwen2 in float64.</summary>
public class LoraAdaptersTests
{
    static CausalLM TinyModel(string name = "llama-tiny") => PretrainedModel.Load(FixturePaths.Model(name), ScalarType.Float64);

    static Tensor Ids() => tensor(new long[] { 5, 17, 42, 99, 7, 3 }).unsqueeze(0); // (1, T)

    static Tensor Logits(CausalLM model)
    {
        using var _ = no_grad();
        return model.Forward(Ids()).Logits.detach().clone();
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().item<bool>();

    static Tensor Weight(CausalLM model, string module) => model.get_parameter($"{module}.weight")!;

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
        Assert.True(Same(before, Logits(model)), "a fresh adapter (B = 0) changed the output");
    }

    [Fact]
    public void AttachWrapsOnlyTheTargetedProjections()
    {
        using var model = TinyModel();
        var projections = model.named_modules().Where(m => m.module is Projection).ToDictionary(m => m.name, m => m.module);
        LoraAdapters.Attach(model, new LoraConfig { TargetModules = ["q_proj", "down_proj"] }, seed: 1, ScalarType.Float64);
        var after = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var (name, projection) in projections)
        {
            bool targeted = name.EndsWith(".q_proj", StringComparison.Ordinal) || name.EndsWith(".down_proj", StringComparison.Ordinal);
            if (targeted)
            {
                var lora = Assert.IsType<LoraLinear>(after[name]);
                Assert.Same(projection, lora.BaseLayer);
            }
            else Assert.Same(projection, after[name]); // lm_head included: never adapted
        }
        Assert.Equal(2 * model.LayerCount, after.Values.OfType<LoraLinear>().Count());
        // The wrapped projection is held, not a submodule: no base_layer in the tree.
        Assert.DoesNotContain(after.Keys, n => n.Contains("base_layer", StringComparison.Ordinal));
    }

    [Fact]
    public void ParameterNamesStayFlatAndInTheirPlace()
    {
        using var model = TinyModel("qwen2-tiny"); // q, k, v have biases
        var before = model.named_parameters().ToList();
        LoraAdapters.Attach(model, new LoraConfig { TargetModules = ["q_proj", "v_proj", "up_proj"] }, seed: 1, ScalarType.Float64);
        var after = model.named_parameters().ToList();
        // Each adapted projection keeps weight and bias under their names, the same tensors, with lora_A and lora_B after them.
        var expected = new List<string>();
        foreach (var (name, _) in before)
        {
            expected.Add(name);
            string module = name[..name.LastIndexOf('.')];
            bool adapted = module.EndsWith(".q_proj", StringComparison.Ordinal) || module.EndsWith(".v_proj", StringComparison.Ordinal) || module.EndsWith(".up_proj", StringComparison.Ordinal);
            bool last = name.EndsWith(module.EndsWith("up_proj", StringComparison.Ordinal) ? ".weight" : ".bias", StringComparison.Ordinal);
            if (adapted && last) { expected.Add($"{module}.lora_A.weight"); expected.Add($"{module}.lora_B.weight"); }
        }
        Assert.Equal(expected, after.Select(p => p.name).ToList());
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", expected);
        var byName = after.ToDictionary(p => p.name, p => p.parameter);
        Assert.All(before, p => Assert.Same(p.parameter, byName[p.name]));
    }

    [Fact]
    public void AttachDrawsEveryAFromTheSeedInModuleOrder()
    {
        using var model = TinyModel();
        var parameters = LoraAdapters.Attach(model, new LoraConfig(), seed: 11, ScalarType.Float64);
        // Layer by layer, q, k, v, o, gate, up, down: A ~ U(±1/√in) from one seeded stream, B zero.
        using var generator = SeededRandom.Create(11);
        int i = 0;
        for (int layer = 0; layer < model.LayerCount; layer++)
            foreach (string projection in new[] { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj" })
            {
                var (aName, a) = parameters[i++];
                var (bName, b) = parameters[i++];
                Assert.Equal($"base_model.model.model.layers.{layer}.{projection}.lora_A.weight", aName);
                Assert.Equal($"base_model.model.model.layers.{layer}.{projection}.lora_B.weight", bName);
                using var draw = empty_like(a);
                double bound = 1.0 / Math.Sqrt(a.shape[1]);
                SeededRandom.Uniform_(draw, -bound, bound, generator);
                Assert.True(Same(draw, a), $"{aName} is not the seeded draw");
                Assert.Equal(0, b.abs().sum().item<double>());
            }
        Assert.Equal(parameters.Count, i);
    }

    [Fact]
    public void MergingGivesTheSameOutputAndUnmergingGivesTheBaseWeightsBack()
    {
        using var model = TinyModel();
        const string q = "model.layers.0.self_attn.q_proj";
        var baseWeight = Weight(model, q).detach().clone();
        LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64);
        Randomise(model);
        var adapted = Logits(model);

        LoraAdapters.MergeAll(model);
        Assert.True(Assert.IsType<LoraLinear>(ModuleTree.GetSubmodule(model, q)).IsMerged);
        Assert.True(adapted.allclose(Logits(model), rtol: 1e-12, atol: 1e-12), "merged output differs");
        Assert.False(Same(baseWeight, Weight(model, q)));

        LoraAdapters.UnmergeAll(model);
        Assert.False(Assert.IsType<LoraLinear>(ModuleTree.GetSubmodule(model, q)).IsMerged);
        Assert.True(baseWeight.allclose(Weight(model, q), rtol: 0, atol: 1e-14));
        Assert.True(adapted.allclose(Logits(model), rtol: 1e-12, atol: 1e-12), "unmerged output differs");
    }

    [Fact]
    public void WithMergedRestoresTheBaseWeightsBitForBit()
    {
        using var model = TinyModel();
        LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64);
        Randomise(model);
        var weights = model.named_parameters().Where(p => !p.name.Contains(".lora_", StringComparison.Ordinal)).Select(p => (p.name, Value: p.parameter.detach().clone())).ToList();
        var adapted = Logits(model);
        Tensor? inside = null;
        bool mergedInside = false;
        LoraAdapters.WithMerged(model, () =>
        {
            inside = Logits(model);
            mergedInside = model.modules().OfType<LoraLinear>().All(l => l.IsMerged);
        });
        Assert.True(mergedInside);
        Assert.True(adapted.allclose(inside!, rtol: 1e-12, atol: 1e-12));
        Assert.All(weights, w => Assert.True(Same(w.Value, model.get_parameter(w.name)!), $"{w.name} changed"));
        Assert.All(model.modules().OfType<LoraLinear>(), l => Assert.False(l.IsMerged));
        Assert.True(Same(adapted, Logits(model)));
    }

    [Fact]
    public void RemoveRestoresTheOriginalProjection()
    {
        using var model = TinyModel("qwen2-tiny");
        var before = Logits(model);
        var parameters = model.named_parameters().ToList();
        var modules = model.named_modules().ToList();
        LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64);
        Randomise(model);
        LoraAdapters.MergeAll(model);
        Assert.False(Same(before, Logits(model)));

        LoraAdapters.RemoveAll(model);
        Assert.Empty(LoraAdapters.Parameters(model));
        Assert.Empty(model.modules().OfType<LoraLinear>());
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("lora_", StringComparison.Ordinal));
        // The very modules and parameters of before, by the same names, in the same order.
        var modulesAfter = model.named_modules().ToList();
        Assert.Equal(modules.Select(m => m.name), modulesAfter.Select(m => m.name));
        Assert.All(modules.Zip(modulesAfter), p => Assert.Same(p.First.module, p.Second.module));
        var parametersAfter = model.named_parameters().ToList();
        Assert.Equal(parameters.Select(p => p.name), parametersAfter.Select(p => p.name));
        Assert.All(parameters.Zip(parametersAfter), p => Assert.Same(p.First.parameter, p.Second.parameter));
        Assert.True(before.allclose(Logits(model), rtol: 1e-12, atol: 1e-12), "output after removal differs from the base");
        // A new adapter can be attached again.
        Assert.NotEmpty(LoraAdapters.Attach(model, new LoraConfig(), seed: 2, ScalarType.Float64));
    }

    [Fact]
    public void RemovingAnUnmergedAdapterGivesTheBaseOutputBitForBit()
    {
        using var model = TinyModel();
        var before = Logits(model);
        LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64);
        Randomise(model);
        LoraAdapters.RemoveAll(model);
        Assert.True(Same(before, Logits(model)));
    }

    [Fact]
    public void ASecondAdapterOnTheSameLayerIsRefused()
    {
        using var model = TinyModel();
        LoraAdapters.Attach(model, new LoraConfig { TargetModules = ["v_proj"] }, seed: 1, ScalarType.Float64);
        var adapters = model.named_modules().Where(m => m.module is LoraLinear).ToList();
        var e = Assert.Throws<InvalidOperationException>(() => LoraAdapters.Attach(model, new LoraConfig(), seed: 1, ScalarType.Float64));
        Assert.Contains("already has a LoRA adapter", e.Message);
        Assert.Contains("v_proj", e.Message);
        // Refused before touching anything: the q_proj (listed before v_proj) were not wrapped either.
        Assert.Equal(adapters, model.named_modules().Where(m => m.module is LoraLinear).ToList());
    }
}
