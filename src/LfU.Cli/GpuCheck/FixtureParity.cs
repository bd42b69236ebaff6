using LfU.MLNet.Checkpoints;
using LfU.MLNet.Generation;
using LfU.MLNet.Model;
using static TorchSharp.torch;

namespace LfU.Cli.GpuCheck;

/// <summary>How far one reference checkpoint's outputs are from the Hugging Face fixture (expected.safetensors).</summary>
/// <param name="LogitsMaxAbsDiff">Max |ours − reference| over the logits at unmasked positions.</param>
/// <param name="LogitsMaxAbs">Max |reference logit|, to state the difference relative to the logits' scale.</param>
/// <param name="HiddenMaxAbsDiff">Per hidden state (Hugging Face convention, 0 = embeddings), max |ours − reference| at unmasked positions.</param>
/// <param name="HiddenMaxAbs">Max |reference| over all hidden states.</param>
/// <param name="Greedy">The fixture's greedy sequence (prompt + 10 new tokens) and ours.</param>
internal sealed record ParityMeasurement(double LogitsMaxAbsDiff, double LogitsMaxAbs, IReadOnlyList<double> HiddenMaxAbsDiff, double HiddenMaxAbs,
    long[] ExpectedGreedy, long[] Greedy)
{
    public double HiddenWorst => HiddenMaxAbsDiff.Max();
    public bool GreedyExact => ExpectedGreedy.SequenceEqual(Greedy);
    /// <summary>The larger of the logits' and hidden states' differences, each relative to its own scale.</summary>
    public double WorstRelative => Math.Max(LogitsMaxAbsDiff / LogitsMaxAbs, HiddenWorst / HiddenMaxAbs);
}

/// <summary>
/// Parity of a reference checkpoint (shared/fixtures/models/*: config.json, model.safetensors, expected.safetensors)
/// with the transformers run that produced its fixture: logits, every hidden state and greedy generation with the KV cache.
/// </summary>
internal static class FixtureParity
{
    public const int GreedyNewTokens = 10;

    /// <summary>Loads the checkpoint in <paramref name="dtype"/> on <paramref name="device"/> and measures it against its fixture.</summary>
    public static ParityMeasurement Measure(string modelFolder, Device device, ScalarType dtype,
        AttentionImplementation attention = AttentionImplementation.Sdpa)
    {
        string fixture = Path.Combine(modelFolder, "expected.safetensors");
        if (!File.Exists(fixture)) throw new FileNotFoundException($"Parity fixture '{fixture}' does not exist; copy the model folder from shared/fixtures/models.");
        using var scope = NewDisposeScope();
        using var model = PretrainedModel.Load(modelFolder, dtype, device);
        model.AttentionImplementation = attention;
        using var expected = SafeTensorsFile.Open(fixture);
        var mask = expected.Read("attention_mask");
        CausalLMOutput output;
        using (no_grad())
            output = model.Forward(expected.Read("input_ids").to(device), new ForwardOptions { AttentionMask = mask.to(device), OutputHiddenStates = true });
        if (output.HiddenStates!.Count != model.LayerCount + 1)
            throw new InvalidOperationException($"The model returned {output.HiddenStates.Count} hidden states; {model.LayerCount + 1} (embeddings + every layer) were expected.");
        var valid = mask.to(ScalarType.Bool); // compare only real positions

        var referenceLogits = expected.Read("logits")[valid].to(ScalarType.Float64);
        double logitsDiff = MaxAbsDiff(referenceLogits, output.Logits.cpu()[valid]);
        var hiddenDiffs = new double[model.LayerCount + 1];
        double hiddenScale = 0;
        for (int i = 0; i <= model.LayerCount; i++)
        {
            var reference = expected.Read($"hidden_states.{i}")[valid].to(ScalarType.Float64);
            hiddenDiffs[i] = MaxAbsDiff(reference, output.HiddenStates[i].cpu()[valid]);
            hiddenScale = Math.Max(hiddenScale, reference.abs().max().item<double>());
        }

        var prompt = expected.Read("generate.prompt");
        long[] greedy = expected.Read("generate.greedy").data<long>().ToArray();
        var generated = TokenGenerator.Generate(model, prompt, ones_like(prompt), maxNewTokens: GreedyNewTokens);
        return new ParityMeasurement(logitsDiff, referenceLogits.abs().max().item<double>(), hiddenDiffs, hiddenScale,
            greedy, prompt.data<long>().ToArray().Concat(generated[0]).ToArray());
    }

    static double MaxAbsDiff(Tensor reference, Tensor actual)
    {
        if (!reference.shape.SequenceEqual(actual.shape))
            throw new InvalidOperationException($"Shape [{string.Join(", ", actual.shape)}] does not match the fixture's [{string.Join(", ", reference.shape)}].");
        return (reference - actual.to(ScalarType.Float64)).abs().max().item<double>();
    }
}
