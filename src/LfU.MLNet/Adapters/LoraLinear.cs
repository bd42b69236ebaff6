using LfU.MLNet.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Adapters;

/// <summary>
/// A linear layer that can carry a LoRA adapter, as PEFT wraps one: <c>base(x) + B(A(dropout(x))) * scale</c>.
/// Parameter names follow Hugging Face (<c>weight</c>, <c>bias</c>) and PEFT (<c>lora_A.weight</c>, <c>lora_B.weight</c>),
/// so state dicts map one-to-one onto checkpoint and adapter files.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Hugging Face key names
    public readonly Parameter weight;
    public readonly Parameter? bias;
    internal Linear? lora_A { get; private set; }
    internal Linear? lora_B { get; private set; }
#pragma warning restore IDE1006
    Dropout? _dropout;
    bool _merged;

    /// <summary>Input features.</summary>
    public long InFeatures { get; }
    /// <summary>Output features.</summary>
    public long OutFeatures { get; }
    /// <summary>Multiplier of the adapter's output: lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA.</summary>
    public double Scaling { get; private set; }
    /// <summary>True when an adapter is attached.</summary>
    public bool HasLora => lora_A is not null;

    /// <summary>Creates an uninitialised layer (weights are loaded from a checkpoint or initialised explicitly).</summary>
    public LoraLinear(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device? device = null) : base("Linear")
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = new Parameter(empty(outFeatures, inFeatures, dtype: dtype, device: device), requires_grad: false);
        if (hasBias) bias = new Parameter(empty(outFeatures, dtype: dtype, device: device), requires_grad: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var y = nn.functional.linear(x, ComputeCast.AsDType(weight, x.dtype), bias is null ? null : ComputeCast.AsDType(bias, x.dtype));
        if (lora_A is null || _merged) return y;
        // The adapter runs in its own dtype (float32 when the base is bfloat16), as PEFT does.
        var xa = x.dtype == lora_A.weight!.dtype ? x : x.to(lora_A.weight!.dtype);
        if (_dropout is not null) xa = _dropout.forward(xa);
        var delta = lora_B!.forward(lora_A.forward(xa)) * Scaling; // (…, out)
        return y + (delta.dtype == y.dtype ? delta : delta.to(y.dtype));
    }

    /// <summary>
    /// Attaches a fresh adapter: A Kaiming-uniform (a = √5, PEFT's default), B zero, so the layer's output is unchanged.
    /// </summary>
    public void AddLora(int rank, double alpha, double dropout = 0.0, bool useRsLora = false, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank r must be positive.");
        if (HasLora) throw new InvalidOperationException("This layer already has a LoRA adapter; remove it first.");
        var device = weight.device;
        var a = nn.Linear(InFeatures, rank, hasBias: false, device: device, dtype: dtype);
        var b = nn.Linear(rank, OutFeatures, hasBias: false, device: device, dtype: dtype);
        lora_A = a;
        lora_B = b;
        register_module("lora_A", a);
        register_module("lora_B", b);
        ResetLora(generator);
        _dropout = dropout > 0 ? nn.Dropout(dropout) : null;
        if (_dropout is not null) register_module("lora_dropout", _dropout);
        Scaling = useRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    /// <summary>Re-initialises the attached adapter as PEFT does: A Kaiming-uniform (a = √5), B zero (a no-op update).</summary>
    internal void ResetLora(Generator? generator)
    {
        using var _ = no_grad();
        // kaiming_uniform_(a=√5) reduces to U(-1/√fan_in, 1/√fan_in); written out to take a seeded generator.
        double bound = 1.0 / Math.Sqrt(InFeatures);
        // Tensor.uniform_, not nn.init.uniform_: TorchSharp 0.107's nn.init ignores the generator.
        if (generator is null) lora_A!.weight!.uniform_(-bound, bound);
        else SeededRandom.Uniform_(lora_A!.weight!, -bound, bound, generator);
        lora_B!.weight!.zero_();
    }

    /// <summary>Adds the adapter's product into the base weight (inference speed; the adapter is kept for unmerge).</summary>
    public void Merge()
    {
        if (!HasLora || _merged) return;
        using var _ = no_grad();
        weight.add_(DeltaWeight().to(weight.dtype));
        _merged = true;
    }

    /// <summary>Subtracts a merged adapter from the base weight again.</summary>
    public void Unmerge()
    {
        if (!HasLora || !_merged) return;
        using var _ = no_grad();
        weight.sub_(DeltaWeight().to(weight.dtype));
        _merged = false;
    }

    /// <summary>Undoes a merge exactly, by copying the base weight saved before it back (no rounding left behind).</summary>
    internal void RestoreUnmerged(Tensor originalWeight)
    {
        using var _ = no_grad();
        weight.copy_(originalWeight);
        _merged = false;
    }

    /// <summary>True when the adapter is currently folded into the base weight.</summary>
    public bool IsMerged => _merged;

    /// <summary>B·A·scale, the change the adapter makes to the weight. (out, in)</summary>
    public Tensor DeltaWeight() => lora_B!.weight!.matmul(lora_A!.weight!) * Scaling;

    /// <summary>Detaches and disposes the adapter.</summary>
    public void RemoveLora()
    {
        if (!HasLora) return;
        if (_merged) Unmerge();
        lora_A!.Dispose();
        lora_B!.Dispose();
        lora_A = null;
        lora_B = null;
        _dropout = null;
        // TorchSharp has no unregister; re-registering null is not allowed, so rebuild the registry.
        foreach (string name in new[] { "lora_A", "lora_B", "lora_dropout" })
            if (_internal_submodules.ContainsKey(name)) _internal_submodules.Remove(name); // lora_dropout exists only when dropout > 0
    }
}
