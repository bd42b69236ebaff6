using LfU.MLNet.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Adapters;

/// <summary>
/// A LoRA adapter wrapped around a model's <see cref="Projection"/>, as PEFT's <c>LoraLayer</c> wraps an <c>nn.Linear</c>:
/// <c>base(x) + B(A(dropout(x))) · scaling</c>. It takes the projection's place in the module tree
/// (<see cref="LoraAdapters.Attach"/>) and gives it back on removal. Its parameters keep the projection's flat names
/// (<c>weight</c>, <c>bias</c>) next to PEFT's (<c>lora_A.weight</c>, <c>lora_B.weight</c>), so state dicts still map
/// one-to-one onto checkpoint and adapter files.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    // The wrapped projection is held, not registered: as a submodule its weight would be named base_layer.weight (PEFT's
    // nesting), while checkpoints, adapter files and fingerprints expect the flat q_proj.weight. Its parameters are
    // registered on this module by hand instead, and RegisterComponents is overridden so that reflection (which would
    // register every Module-typed field) never adds it.
    readonly Projection _base;
#pragma warning disable IDE1006 // PEFT key names
    internal Linear lora_A { get; }
    internal Linear lora_B { get; }
#pragma warning restore IDE1006
    readonly Dropout? _dropout;
    bool _merged, _released;

    /// <summary>
    /// Wraps <paramref name="baseLayer"/> in a fresh adapter: A Kaiming-uniform (a = √5, PEFT's default) drawn from
    /// <paramref name="generator"/>, B zero, so the output is unchanged. The adapter's weights are in <paramref name="dtype"/>.
    /// </summary>
    public LoraLinear(Projection baseLayer, int rank, double alpha, double dropout = 0.0, bool useRsLora = false, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : base("Linear")
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank r must be positive.");
        _base = baseLayer;
        register_parameter("weight", baseLayer.weight);
        if (baseLayer.bias is not null) register_parameter("bias", baseLayer.bias);
        var device = baseLayer.weight.device;
        lora_A = nn.Linear(InFeatures, rank, hasBias: false, device: device, dtype: dtype);
        lora_B = nn.Linear(rank, OutFeatures, hasBias: false, device: device, dtype: dtype);
        register_module("lora_A", lora_A);
        register_module("lora_B", lora_B);
        ResetLora(generator);
        _dropout = dropout > 0 ? nn.Dropout(dropout) : null;
        if (_dropout is not null) register_module("lora_dropout", _dropout);
        Scaling = useRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    /// <summary>Everything is registered by hand in the constructor; see the note on the wrapped projection's field.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The wrapped projection (PEFT's <c>base_layer</c>).</summary>
    public Projection BaseLayer => _base;
    /// <summary>Input features.</summary>
    public long InFeatures => _base.InFeatures;
    /// <summary>Output features.</summary>
    public long OutFeatures => _base.OutFeatures;
    /// <summary>Multiplier of the adapter's output: lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA.</summary>
    public double Scaling { get; }
    /// <summary>True when the adapter is currently folded into the base weight.</summary>
    public bool IsMerged => _merged;

    /// <param name="x">(…, in)</param>
    /// <returns>(…, out)</returns>
    public override Tensor forward(Tensor x)
    {
        var y = _base.forward(x);
        if (_merged) return y;
        // The adapter runs in its own dtype (float32 when the base is bfloat16), as PEFT does.
        var xa = x.dtype == lora_A.weight!.dtype ? x : x.to(lora_A.weight!.dtype);
        if (_dropout is not null) xa = _dropout.forward(xa);
        var delta = lora_B.forward(lora_A.forward(xa)) * Scaling; // (…, out)
        return y + (delta.dtype == y.dtype ? delta : delta.to(y.dtype));
    }

    /// <summary>Re-initialises the adapter as PEFT does: A Kaiming-uniform (a = √5), B zero (a no-op update).</summary>
    internal void ResetLora(Generator? generator)
    {
        using var _ = no_grad();
        // kaiming_uniform_(a=√5) reduces to U(-1/√fan_in, 1/√fan_in); written out to take a seeded generator.
        double bound = 1.0 / Math.Sqrt(InFeatures);
        // Tensor.uniform_, not nn.init.uniform_: TorchSharp 0.107's nn.init ignores the generator.
        if (generator is null) lora_A.weight!.uniform_(-bound, bound);
        else SeededRandom.Uniform_(lora_A.weight!, -bound, bound, generator);
        lora_B.weight!.zero_();
    }

    /// <summary>Adds the adapter's product into the base weight (inference speed; the adapter is kept for unmerge).</summary>
    public void Merge()
    {
        if (_merged) return;
        using var _ = no_grad();
        _base.weight.add_(DeltaWeight().to(_base.weight.dtype));
        _merged = true;
    }

    /// <summary>Subtracts a merged adapter from the base weight again.</summary>
    public void Unmerge()
    {
        if (!_merged) return;
        using var _ = no_grad();
        _base.weight.sub_(DeltaWeight().to(_base.weight.dtype));
        _merged = false;
    }

    /// <summary>Undoes a merge exactly, by copying the base weight saved before it back (no rounding left behind).</summary>
    internal void RestoreUnmerged(Tensor originalWeight)
    {
        using var _ = no_grad();
        _base.weight.copy_(originalWeight);
        _merged = false;
    }

    /// <summary>B·A·scaling, the change the adapter makes to the weight. (out, in)</summary>
    public Tensor DeltaWeight() => lora_B.weight!.matmul(lora_A.weight!) * Scaling;

    /// <summary>
    /// Unmerges if merged, disposes the adapter, and hands back the wrapped projection, which this module then no longer
    /// holds (it is left empty; putting the projection back in the tree is the caller's part).
    /// </summary>
    internal Projection Release()
    {
        if (_released) throw new InvalidOperationException("This adapter has already been removed.");
        Unmerge();
        // The projection's parameters are the projection's again: off this module's registry, so disposing it spares them.
        ConditionallyRegisterParameter("weight", null);
        ConditionallyRegisterParameter("bias", null);
        foreach (string name in new[] { "lora_A", "lora_B", "lora_dropout" }) register_module(name, null!);
        lora_A.Dispose();
        lora_B.Dispose();
        _dropout?.Dispose();
        _released = true;
        return _base;
    }

    protected override void Dispose(bool disposing)
    {
        // Attached, this module is the projection's only owner in the tree, so it disposes it too.
        if (disposing && !_released) _base.Dispose();
        base.Dispose(disposing);
    }
}
