using LfU.MLNet.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet.Checkpoints;

/// <summary>
/// Copies checkpoint tensors into any TorchSharp module whose parameter and buffer names are the checkpoint's keys
/// (Hugging Face names such as <c>model.layers.0.self_attn.q_proj.weight</c>), and saves modules the same way.
/// Loading streams tensor by tensor: each tensor is read from disk, copied into its parameter and freed before the
/// next, so peak memory is the model plus its largest tensor.
/// </summary>
internal static class StateDictLoader
{
    /// <summary>
    /// Loads every parameter and persistent buffer of <paramref name="module"/> from the checkpoint tensor named
    /// <paramref name="keyPrefix"/> + its name, converting to the parameter's dtype and device. Nothing is copied
    /// unless the whole checkpoint fits: otherwise one <see cref="CheckpointMismatchException"/> lists every problem.
    /// </summary>
    /// <param name="module">The model to fill; its parameters keep their dtype and device.</param>
    /// <param name="reader">The open checkpoint.</param>
    /// <param name="mayBeMissing">Checkpoint keys the checkpoint may lack (e.g. a tied <c>lm_head.weight</c>); they keep their current values.</param>
    /// <param name="keyPrefix">Prepended to module names to form checkpoint keys; checkpoint keys without it belong to other modules and are not reported.</param>
    /// <param name="mayBeUnexpected">Checkpoint keys the model may lack beyond the always-ignored <c>*.rotary_emb.inv_freq</c> (recomputed by models).</param>
    /// <returns>The checkpoint keys that were missing and allowed to be.</returns>
    internal static IReadOnlyList<string> LoadInto(nn.Module module, CheckpointReader reader, Func<string, bool>? mayBeMissing = null,
        string keyPrefix = "", Func<string, bool>? mayBeUnexpected = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(reader);
        TorchRuntime.EnsureInitialized();

        var targets = NamedTensors(module).Select(t => (Key: keyPrefix + t.Name, t.Tensor)).ToList();
        var missing = new List<string>();
        var allowedMissing = new List<string>();
        var shapeMismatches = new List<string>();
        var toLoad = new List<(string Key, Tensor Target)>();
        foreach (var (key, target) in targets)
        {
            if (!reader.Contains(key))
            {
                (mayBeMissing?.Invoke(key) == true ? allowedMissing : missing).Add(key);
                continue;
            }
            var stored = reader.Info(key).Shape;
            if (!stored.SequenceEqual(target.shape))
                shapeMismatches.Add($"{key}: checkpoint {SafeTensorInfo.FormatShape(stored)}, model {SafeTensorInfo.FormatShape(target.shape)}");
            else
                toLoad.Add((key, target));
        }
        var known = targets.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        var unexpected = reader.Names
            .Where(n => n.StartsWith(keyPrefix, StringComparison.Ordinal) && !known.Contains(n))
            .Where(n => !n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) && mayBeUnexpected?.Invoke(n) != true)
            .ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || shapeMismatches.Count > 0)
            throw new CheckpointMismatchException(reader.Source, missing, unexpected, shapeMismatches);

        using (no_grad())
        {
            foreach (var (key, target) in toLoad)
            {
                using var scope = NewDisposeScope();
                // copy_ converts dtype and device, so the checkpoint's tensor is read as stored and freed right after.
                target.copy_(reader.Read(key));
            }
        }
        return allowedMissing;
    }

    /// <summary>
    /// Saves every parameter and persistent buffer of <paramref name="module"/> to one safetensors file, named
    /// <paramref name="keyPrefix"/> + its module name, with <c>format: pt</c> metadata as Hugging Face writes.
    /// </summary>
    internal static void SaveFrom(nn.Module module, string path, string keyPrefix = "", IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        SafeTensorsWriter.Write(path, NamedTensors(module).Select(t => (keyPrefix + t.Name, t.Tensor)), metadata ?? SafeTensorsWriter.PyTorchFormat);
    }

    /// <summary>The module's parameters and persistent buffers by dotted name: what a checkpoint stores.</summary>
    internal static IEnumerable<(string Name, Tensor Tensor)> NamedTensors(nn.Module module) =>
        module.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(module.named_buffers(recurse: true, include_nonpersistent: false));
}
