using LfU.MLNet.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Adapters;

/// <summary>Attaches, lists and removes LoRA adapters on a <see cref="CausalLM"/>.</summary>
public static class LoraAdapters
{
    /// <summary>PEFT's prefix in saved adapter files.</summary>
    public const string PeftPrefix = "base_model.model.";

    /// <summary>
    /// Attaches a fresh adapter (A Kaiming-uniform from <paramref name="seed"/>, B zero) to every targeted projection.
    /// Returns the adapter parameters by PEFT's saved names (e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight).
    /// </summary>
    public static IReadOnlyList<(string Name, Parameter Parameter)> Attach(CausalLM model, LoraConfig config, long seed, ScalarType dtype = ScalarType.Float32)
    {
        config.Validate();
        using var generator = SeededRandom.Create(seed);
        foreach (var (name, layer) in model.BlockLinears())
            if (config.TargetModules.Contains(name[(name.LastIndexOf('.') + 1)..]))
                layer.AddLora(config.Rank, config.Alpha, config.Dropout, config.UseRsLora, dtype, generator);
        return Parameters(model);
    }

    /// <summary>The adapter parameters currently attached, by PEFT's saved names, in a fixed order.</summary>
    public static IReadOnlyList<(string Name, Parameter Parameter)> Parameters(CausalLM model)
    {
        var result = new List<(string, Parameter)>();
        foreach (var (name, layer) in model.BlockLinears())
        {
            if (!layer.HasLora) continue;
            result.Add(($"{PeftPrefix}{name}.lora_A.weight", layer.lora_A!.weight!));
            result.Add(($"{PeftPrefix}{name}.lora_B.weight", layer.lora_B!.weight!));
        }
        return result;
    }

    /// <summary>Removes every adapter (merged ones are unmerged first).</summary>
    public static void RemoveAll(CausalLM model)
    {
        foreach (var (_, layer) in model.BlockLinears()) layer.RemoveLora();
    }

    /// <summary>Folds every adapter into its base weight.</summary>
    public static void MergeAll(CausalLM model)
    {
        foreach (var (_, layer) in model.BlockLinears()) layer.Merge();
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
            foreach (var (_, layer) in model.BlockLinears())
                if (layer.HasLora && !layer.IsMerged)
                {
                    originals.Add((layer, layer.weight.detach().cpu().clone()));
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

    /// <summary>Undoes <see cref="MergeAll"/>.</summary>
    public static void UnmergeAll(CausalLM model)
    {
        foreach (var (_, layer) in model.BlockLinears()) layer.Unmerge();
    }
}
