using static TorchSharp.torch;

namespace LfU.MLNet.Model;

/// <summary>
/// Keys and values of past positions, one pair per layer, so generation feeds only the new token.
/// Also keeps the attention mask of everything cached (left-padded batches keep their padding masked).
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _keys, _values; // each (B, nkv, S, hs)

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Positions already cached.</summary>
    public long Length => _keys[0]?.shape[2] ?? 0;

    /// <summary>Mask of every position seen so far (B, S), 1 = real token; grows with each forward pass.</summary>
    public Tensor? AttentionMask { get; private set; }

    /// <summary>Appends the new positions' mask and returns the mask of everything. newMask: (B, T) → (B, S).</summary>
    internal Tensor ExtendMask(Tensor newMask)
    {
        var full = AttentionMask is null ? newMask.clone() : cat(new[] { AttentionMask, newMask }, 1);
        full.DetachFromDisposeScope();
        AttentionMask?.Dispose();
        AttentionMask = full;
        return full;
    }

    /// <summary>Appends this step's keys and values for one layer and returns everything cached. k, v: (B, nkv, T, hs).</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        var oldK = _keys[layer];
        var oldV = _values[layer];
        var keys = oldK is null ? k.detach() : cat(new[] { oldK, k.detach() }, 2);
        var values = oldV is null ? v.detach() : cat(new[] { oldV, v.detach() }, 2);
        // The cache outlives the per-step dispose scopes of its callers.
        keys.DetachFromDisposeScope();
        values.DetachFromDisposeScope();
        oldK?.Dispose();
        oldV?.Dispose();
        _keys[layer] = keys;
        _values[layer] = values;
        return (keys, values);
    }

    public void Dispose()
    {
        foreach (var t in _keys) t?.Dispose();
        foreach (var t in _values) t?.Dispose();
        AttentionMask?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
    }
}
