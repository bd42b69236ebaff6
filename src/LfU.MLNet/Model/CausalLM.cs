using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>
/// A decoder-only Llama-family language model (Llama, Mistral, Qwen2, Qwen3). Fields are named like the Hugging Face
/// weight keys, so <c>named_parameters()</c> yields exactly the checkpoint's names.
/// </summary>
public sealed class CausalLM : nn.Module
{
#pragma warning disable IDE1006
    internal readonly DecoderStack model;
    internal nn.Module<Tensor, Tensor>? lm_head; // (C → vocab); absent when tied to the embedding
#pragma warning restore IDE1006
    readonly RotaryEmbedding _rope;

    /// <summary>The configuration the model was built from.</summary>
    public ModelConfig Config { get; }

    /// <summary>Builds an uninitialised model (load a checkpoint or call <see cref="InitializeWeights"/>).</summary>
    public CausalLM(ModelConfig config, ScalarType dtype = ScalarType.Float32, Device? device = null) : base("CausalLM")
    {
        config.Validate();
        // The CPU's memory is known; a GPU's is not (TorchSharp has no query), and CUDA fails fast on its own.
        if (device is null || device.type == DeviceType.CPU)
            config.EnsureWeightsFit(dtype switch { ScalarType.Float64 => 8, ScalarType.Float32 => 4, _ => 2 }, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, "this machine's memory");
        Config = config;
        model = new DecoderStack(config, dtype, device);
        if (!config.TieWordEmbeddings) lm_head = new Projection(config.HiddenSize, config.VocabSize, false, dtype, device);
        _rope = new RotaryEmbedding(config, device);
        RegisterComponents();
    }

    /// <summary>The dtype of the base weights.</summary>
    public ScalarType DType => model.embed_tokens.weight.dtype;

    /// <summary>
    /// The dtype activations and matmuls run in; null (the default) runs in the weights' dtype. With bfloat16 over
    /// float32 weights, each weight is cast where it is used, as <c>torch.autocast</c> does, so gradients still reach
    /// the float32 weights; RMSNorm statistics and the loss stay in float32.
    /// </summary>
    public ScalarType? ComputeDType { get; set; }

    /// <summary>How every layer computes attention. Default <see cref="AttentionImplementation.Sdpa"/>.</summary>
    public AttentionImplementation AttentionImplementation
    {
        get => _attention;
        set
        {
            _attention = value;
            foreach (var layer in model.layers) layer.self_attn.Implementation = value;
        }
    }
    AttentionImplementation _attention;

    /// <summary>The device the weights live on.</summary>
    public Device Device => model.embed_tokens.weight.device;

    /// <summary>Number of decoder layers.</summary>
    public int LayerCount => Config.NumHiddenLayers;

    /// <summary>Random initialisation for training from scratch: normal(0, std) weights, zero biases, unit norms.</summary>
    public void InitializeWeights(double std, long seed)
    {
        using var _ = no_grad();
        // SeededRandom's CPU stream gives the same weights on every device but draws ~30 M values/s: minutes for an 8B
        // model. On CUDA the device's own generator, seeded here, draws them at once (same seed, same weights on CUDA).
        bool onCuda = Device.type == DeviceType.CUDA;
        if (onCuda) cuda.manual_seed(seed);
        using var gen = SeededRandom.Create(seed);
        foreach (var (name, p) in named_parameters())
        {
            if (name.Contains("lora_")) continue;
            if (name.EndsWith("norm.weight")) p.fill_(1.0);
            else if (name.EndsWith(".bias")) p.zero_();
            else if (onCuda) p.normal_(0, std);
            else SeededRandom.Normal_(p, 0, std, gen); // not nn.init.normal_: TorchSharp 0.107's nn.init ignores the generator
        }
    }

    /// <summary>Runs the model on token ids (B, T).</summary>
    public CausalLMOutput Forward(Tensor inputIds, ForwardOptions? options = null)
    {
        options ??= new ForwardOptions();
        long B = inputIds.shape[0], T = inputIds.shape[1];
        var cache = options.Cache;
        long past = cache?.Length ?? 0;
        var newMask = options.AttentionMask ?? ones(B, T, dtype: ScalarType.Int64, device: inputIds.device);
        var fullMask = cache is null ? newMask : cache.ExtendMask(newMask);                   // (B, S)
        Tensor positions, attend;
        if (options.PositionIds is { } packed)
        {
            if (cache is not null) throw new ArgumentException("PositionIds (packed sequences) cannot be combined with a KV cache.", nameof(options));
            positions = packed;                                                                // (B, T)
            attend = PackedAttentionMask(packed, newMask, Config.SlidingWindow);               // (B, 1, T, T)
        }
        else
        {
            positions = (fullMask.cumsum(1, ScalarType.Int64) - 1).clamp_min(0)[.., (int)past..]; // (B, T)
            attend = AttentionMask(fullMask, past, T, Config.SlidingWindow);                  // (B, 1, T, S)
        }

        var x = model.embed_tokens.forward(inputIds); // (B, T, C)
        if (ComputeDType is ScalarType compute && x.dtype != compute) x = x.to(compute);
        if (options.EmbeddingTransform is not null) x = options.EmbeddingTransform(x);
        var (cos, sin) = _rope.Angles(positions, x.dtype);

        List<Tensor>? hidden = options.OutputHiddenStates ? new List<Tensor> { x } : null;
        var steering = options.LayerSteering;
        if (steering is not null && steering.Count != LayerCount)
            throw new ArgumentException($"LayerSteering has {steering.Count} vectors; the model has {LayerCount} layers.");
        for (int i = 0; i < LayerCount; i++)
        {
            // A layer's temporaries die with its scope: autograd keeps what backward needs, and frees it as backward
            // passes. Held to the caller's step scope instead, they doubled peak device memory (H200, 1B shape).
            using var layerScope = NewDisposeScope();
            var y = model.layers[i].Forward(x, cos, sin, attend, cache, i, options.MlpOutputTransform); // (B, T, C)
            if (steering is not null) y = y + steering[i];
            var previous = x;
            x = layerScope.MoveToOuter(y);
            if (i > 0 && hidden is null) previous.Dispose(); // an earlier layer's output: autograd keeps what it needs
            if (hidden is not null && i < LayerCount - 1) hidden.Add(x);
        }
        x = model.norm.forward(x);
        hidden?.Add(x);

        if (options.LastPositionOnly) x = x[.., ^1..]; // (B, 1, C)
        var logits = lm_head is not null ? lm_head.forward(x) : nn.functional.linear(x, ComputeCast.AsDType(model.embed_tokens.weight, x.dtype)); // (B, T, vocab)
        var loss = options.Labels is null ? null : CrossEntropy(logits, options.Labels);
        return new CausalLMOutput(logits, loss, hidden);
    }

    /// <summary>
    /// Causal + padding mask as booleans (true = may attend). Each query may always attend to itself, so rows of
    /// padding never become all-masked (that would give NaN, and NaN times a zero weight is still NaN downstream).
    /// </summary>
    static Tensor AttentionMask(Tensor fullMask, long past, long T, int? slidingWindow)
    {
        long S = fullMask.shape[1];
        var device = fullMask.device;
        var q = arange(past, past + T, dtype: ScalarType.Int64, device: device).unsqueeze(1); // (T, 1)
        var k = arange(0, S, dtype: ScalarType.Int64, device: device).unsqueeze(0);           // (1, S)
        var causal = k <= q;                                                                 // (T, S)
        if (slidingWindow is int w) causal = causal.logical_and(q - k < w);
        var keyOk = fullMask.to(ScalarType.Bool).unsqueeze(1);                               // (B, 1, S)
        var allowed = causal.unsqueeze(0).logical_and(keyOk).logical_or((k == q).unsqueeze(0)); // (B, T, S)
        return allowed.unsqueeze(1);                                                         // (B, 1, T, S)
    }

    /// <summary>
    /// The mask of packed rows: causal, within one example (a position id of 0 starts the next), never onto padding;
    /// each query may attend to itself, as in <see cref="AttentionMask"/>.
    /// </summary>
    static Tensor PackedAttentionMask(Tensor positionIds, Tensor mask, int? slidingWindow)
    {
        long T = positionIds.shape[1];
        var device = positionIds.device;
        var segment = (positionIds == 0).cumsum(1, ScalarType.Int64);                        // (B, T)
        var q = arange(0, T, dtype: ScalarType.Int64, device: device).unsqueeze(1);          // (T, 1)
        var k = arange(0, T, dtype: ScalarType.Int64, device: device).unsqueeze(0);          // (1, T)
        var causal = k <= q;                                                                 // (T, T)
        if (slidingWindow is int w) causal = causal.logical_and(q - k < w);
        var sameSegment = segment.unsqueeze(2) == segment.unsqueeze(1);                      // (B, T, T)
        var keyOk = mask.to(ScalarType.Bool).unsqueeze(1);                                   // (B, 1, T)
        var allowed = causal.unsqueeze(0).logical_and(sameSegment).logical_and(keyOk).logical_or((k == q).unsqueeze(0)); // (B, T, T)
        return allowed.unsqueeze(1);                                                         // (B, 1, T, T)
    }

    /// <summary>
    /// Mean next-token cross-entropy over positions whose (shifted) label is not -100. logits: (B, T, V); labels: (B, T).
    /// Computed in float32 exactly as transformers does (labels shifted left and padded with -100, logits upcast),
    /// so losses and gradients match PyTorch references bit for bit in float64 and stay stable in half precision.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope(); // the float32 copy of the logits (B·T·V) is not needed past the loss
        long V = logits.shape[^1];
        var shifted = nn.functional.pad(labels[.., 1..], new long[] { 0, 1 }, value: -100); // (B, T)
        return scope.MoveToOuter(nn.functional.cross_entropy(logits.to(ScalarType.Float32).reshape(-1, V), shifted.reshape(-1), ignore_index: -100));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _rope.Dispose();
        base.Dispose(disposing);
    }
}
