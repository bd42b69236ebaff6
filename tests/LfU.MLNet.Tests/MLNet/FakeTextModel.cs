using System.Runtime.CompilerServices;
using System.Text;
using LfU.MLNet;

namespace LfU.MLNet.Tests.MLNet;

/// <summary>
/// A deterministic stand-in for the real model: generates the reversed, upper-cased prompt plus a suffix and the
/// MaxNewTokens setting; scores by lengths times a weight. Suffix and weight live in its saved state, so outputs
/// after a round trip prove the state (and the settings) came back.
/// </summary>
internal sealed class FakeTextModel(string suffix, double weight, string kind = FakeTextModel.KindName) : ITextModel
{
    public const string KindName = "test-fake";

    public string Kind { get; } = kind;

    /// <summary>Size of each Generate call's batch, in call order.</summary>
    public List<int> GenerateBatches { get; } = [];

    /// <summary>Size of each Score call's batch, in call order.</summary>
    public List<int> ScoreBatches { get; } = [];

    public bool Disposed { get; private set; }

    [ModuleInitializer]
    internal static void RegisterLoader() => TextModelLoader.Register(KindName, (state, _) => FromState(state));

    public static FakeTextModel FromState(IReadOnlyDictionary<string, byte[]> state) =>
        new(Encoding.UTF8.GetString(state["fake/suffix.txt"]), BitConverter.ToDouble(state["fake/weight.bin"]));

    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationSettings settings)
    {
        GenerateBatches.Add(prompts.Count);
        return prompts.Select(p => new string(p.ToUpperInvariant().Reverse().ToArray()) + suffix + settings.MaxNewTokens).ToList();
    }

    public IReadOnlyList<(double Mean, double Total)> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ScoreBatches.Add(prompts.Count);
        return prompts.Zip(responses, (p, r) => (-weight * r.Length / (p.Length + 1.0), -weight * r.Length)).ToList();
    }

    public IReadOnlyDictionary<string, byte[]> SaveState() => new Dictionary<string, byte[]>
    {
        ["fake/suffix.txt"] = Encoding.UTF8.GetBytes(suffix),
        ["fake/weight.bin"] = BitConverter.GetBytes(weight),
    };

    public void Dispose() => Disposed = true;
}
