namespace LfU.MLNet.Adapters;

/// <summary>LoRA hyper-parameters, named as in PEFT's adapter_config.json. Defaults are the LfU paper's.</summary>
public sealed record LoraConfig
{
    /// <summary>The projections every block may adapt (Hugging Face module names); lm_head is never adapted.</summary>
    public static readonly string[] AllLinearTargets = { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" };

    /// <summary>Rank r of the update B·A. Default 8.</summary>
    public int Rank { get; init; } = 8;
    /// <summary>lora_alpha; the update is scaled by alpha / r (or alpha / √r with rsLoRA). Default 16.</summary>
    public double Alpha { get; init; } = 16;
    /// <summary>Dropout on the adapter's input. Default 0.</summary>
    public double Dropout { get; init; }
    /// <summary>Scale by alpha / √r (rank-stabilised LoRA) instead of alpha / r.</summary>
    public bool UseRsLora { get; init; }
    /// <summary>Which projections to adapt. Default: all linear layers of every block.</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = AllLinearTargets;

    /// <summary>Checks the values, naming the bad one.</summary>
    public void Validate()
    {
        if (Rank <= 0) throw new ArgumentOutOfRangeException(nameof(Rank), Rank, "LoRA rank must be a positive integer (the paper uses 8).");
        if (Alpha <= 0) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "lora_alpha must be positive (the paper uses 16).");
        if (Dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "LoRA dropout must be in [0, 1).");
        var unknown = TargetModules.Where(t => !AllLinearTargets.Contains(t)).ToList();
        if (unknown.Count > 0 || TargetModules.Count == 0)
            throw new ArgumentException($"Unknown LoRA target module(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))}; choose from {string.Join(", ", AllLinearTargets)}.", nameof(TargetModules));
    }
}
