using LfU.MLNet.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Adapters;

/// <summary>
/// Attaches, lists and removes LoRA adapters on a <see cref="CausalLM"/> as PEFT injects them: every
/// <see cref="Projection"/> whose name ends in a target module is wrapped in a <see cref="LoraLinear"/> that takes its
/// place in the module tree, and removal puts the original projection back.
/// </summary>
public static class LoraAdapters
{
    /// <summary>PEFT's prefix in saved adapter files.</summary>
    public const string PeftPrefix = "base_model.model.";

    /// <summary>
    /// Attaches a fresh adapter (A Kaiming-uniform from <paramref name="seed"/>, B zero) to every targeted projection,
    /// drawing the A matrices in module order (layer by layer; q, k, v, o, gate, up, down within one).
    /// Returns the adapter parameters by PEFT's saved names (e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight).
    /// </summary>
    /// <exception cref="InvalidOperationException">A targeted projection already has an adapter (nothing is attached then).</exception>
    public static IReadOnlyList<(string Name, Parameter Parameter)> Attach(CausalLM model, LoraConfig config, long seed, ScalarType dtype = ScalarType.Float32)
    {
        config.Validate();
        var targets = new List<(string Name, Projection Layer)>();
        foreach (var (name, module) in model.named_modules())
        {
            // lm_head is never a target: the config accepts only the blocks' projection names.
            if (!config.TargetModules.Contains(name[(name.LastIndexOf('.') + 1)..])) continue;
            switch (module)
            {
                case Projection projection: targets.Add((name, projection)); break;
                case LoraLinear: throw new InvalidOperationException($"{name} already has a LoRA adapter; remove it first (LoraAdapters.RemoveAll).");
            }
        }
        using var generator = SeededRandom.Create(seed);
        foreach (var (name, projection) in targets)
            ModuleTree.SetSubmodule(model, name, new LoraLinear(projection, config.Rank, config.Alpha, config.Dropout, config.UseRsLora, dtype, generator));
        return Parameters(model);
    }

    /// <summary>The adapter parameters currently attached, by PEFT's saved names, in module order.</summary>
    public static IReadOnlyList<(string Name, Parameter Parameter)> Parameters(CausalLM model)
    {
        var result = new List<(string, Parameter)>();
        foreach (var (name, layer) in Adapted(model))
        {
            result.Add(($"{PeftPrefix}{name}.lora_A.weight", layer.lora_A.weight!));
            result.Add(($"{PeftPrefix}{name}.lora_B.weight", layer.lora_B.weight!));
        }
        return result;
    }

    /// <summary>Removes every adapter (merged ones are unmerged first) and puts the original projections back.</summary>
    public static void RemoveAll(CausalLM model)
    {
        foreach (var (name, layer) in Adapted(model))
        {
            ModuleTree.SetSubmodule(model, name, layer.Release());
            layer.Dispose();
        }
    }

    /// <summary>Folds every adapter into its base weight.</summary>
    public static void MergeAll(CausalLM model)
    {
        foreach (var (_, layer) in Adapted(model)) layer.Merge();
    }

    /// <summary>Undoes <see cref="MergeAll"/>.</summary>
    public static void UnmergeAll(CausalLM model)
    {
        foreach (var (_, layer) in Adapted(model)) layer.Unmerge();
    }

    /// <summary>
    /// Runs <paramref name="action"/> with every adapter folded into its base weight, then restores the base weights
    /// bit for bit from host copies (un-merging by subtraction would leave float rounding behind).
    /// </summary>
    public static void WithMerged(CausalLM model, Action action)
    {
        var originals = new List<(LoraLinear Layer, Tensor Weight)>();
        try
        {
            foreach (var (_, layer) in Adapted(model))
                if (!layer.IsMerged)
                {
                    originals.Add((layer, layer.BaseLayer.weight.detach().cpu().clone()));
                    layer.Merge();
                }
            action();
        }
        finally
        {
            foreach (var (layer, weight) in originals)
            {
                layer.RestoreUnmerged(weight);
                weight.Dispose();
            }
        }
    }

    /// <summary>Re-initialises every attached adapter from <paramref name="generator"/> (A Kaiming-uniform, B zero), in module order.</summary>
    internal static void ResetAll(CausalLM model, Generator generator)
    {
        foreach (var (_, layer) in Adapted(model)) layer.ResetLora(generator);
    }

    /// <summary>The adapters in the model by module name, in module order (a list: callers may change the tree).</summary>
    static List<(string Name, LoraLinear Layer)> Adapted(CausalLM model) =>
        model.named_modules().Where(m => m.module is LoraLinear).Select(m => (m.name, (LoraLinear)m.module)).ToList();
}
