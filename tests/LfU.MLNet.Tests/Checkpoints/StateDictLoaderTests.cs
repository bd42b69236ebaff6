using LfU.MLNet.Checkpoints;
using LfU.MLNet.Native;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Checkpoints;

public class StateDictLoaderTests
{
    public StateDictLoaderTests() => TorchRuntime.EnsureInitialized();

    /// <summary>A decoder-shaped module whose names follow Hugging Face conventions.</summary>
    sealed class TinyInner : nn.Module
    {
        public readonly Embedding embed_tokens;
        public readonly ModuleList<Linear> layers;

        public TinyInner() : base(nameof(TinyInner))
        {
            embed_tokens = nn.Embedding(10, 4);
            layers = nn.ModuleList(nn.Linear(4, 4, hasBias: false), nn.Linear(4, 4, hasBias: true));
            register_buffer("scale", ones(4));
            register_buffer("inv_freq", ones(2), persistent: false);
            RegisterComponents();
        }
    }

    sealed class TinyLm : nn.Module
    {
        public readonly TinyInner model;
        public readonly Linear lm_head;

        public TinyLm(int seed) : base(nameof(TinyLm))
        {
            manual_seed(seed);
            model = new TinyInner();
            lm_head = nn.Linear(4, 10, hasBias: false);
            RegisterComponents();
        }
    }

    static readonly string[] CheckpointNames =
        ["lm_head.weight", "model.embed_tokens.weight", "model.layers.0.weight", "model.layers.1.bias", "model.layers.1.weight", "model.scale"];

    static Dictionary<string, Tensor> State(nn.Module module) =>
        StateDictLoader.NamedTensors(module).ToDictionary(t => t.Name, t => t.Tensor.detach().clone());

    static void AssertSameState(IReadOnlyDictionary<string, Tensor> expected, nn.Module module)
    {
        foreach (var (name, tensor) in StateDictLoader.NamedTensors(module))
            Assert.True(SafeTensorsWriterTests.SameValues(expected[name], tensor.detach()), $"{name} differs");
    }

    [Fact]
    public void SaveThenLoadCopiesParametersAndPersistentBuffers()
    {
        using var scratch = new ScratchFolder();
        var source = new TinyLm(seed: 1);
        using (no_grad()) source.model.get_buffer("scale")!.fill_(2);
        string path = scratch.File("model.safetensors");
        StateDictLoader.SaveFrom(source, path);

        using var reader = CheckpointReader.OpenFolder(scratch.Path);
        Assert.Equal(CheckpointNames, reader.Names); // non-persistent inv_freq is not saved
        using (var file = SafeTensorsFile.Open(path)) Assert.Equal("pt", file.Metadata["format"]);

        var target = new TinyLm(seed: 2);
        Assert.False(SafeTensorsWriterTests.SameValues(source.lm_head.weight!.detach(), target.lm_head.weight!.detach()));
        var leftMissing = StateDictLoader.LoadInto(target, reader);
        Assert.Empty(leftMissing);
        AssertSameState(State(source), target);
        Assert.True(target.lm_head.weight!.requires_grad); // still a trainable parameter
    }

    [Fact]
    public void MismatchesAreAllReportedAndNothingIsLoaded()
    {
        using var scratch = new ScratchFolder();
        var source = new TinyLm(seed: 1);
        using var wrongBias = zeros(5);
        using var extra = zeros(3);
        using var invFreq = zeros(2);
        var tensors = StateDictLoader.NamedTensors(source)
            .Where(t => t.Name is not ("model.layers.0.weight" or "model.layers.1.bias"))
            .Append(("model.layers.1.bias", wrongBias))
            .Append(("model.extra.weight", extra))
            .Append(("model.layers.0.self_attn.rotary_emb.inv_freq", invFreq));
        SafeTensorsWriter.Write(scratch.File("model.safetensors"), tensors);

        var target = new TinyLm(seed: 2);
        var before = State(target);
        using var reader = CheckpointReader.OpenFolder(scratch.Path);
        var e = Assert.Throws<CheckpointMismatchException>(() => StateDictLoader.LoadInto(target, reader));
        Assert.Equal(["model.layers.0.weight"], e.Missing);
        Assert.Equal(["model.extra.weight"], e.Unexpected);
        Assert.Equal(["model.layers.1.bias: checkpoint [5], model [4]"], e.ShapeMismatches);
        Assert.Contains("1 tensor(s) missing from the checkpoint: model.layers.0.weight", e.Message);
        Assert.Contains("1 unexpected tensor(s) the model does not have: model.extra.weight", e.Message);
        Assert.Contains("1 shape mismatch(es): model.layers.1.bias: checkpoint [5], model [4]", e.Message);
        AssertSameState(before, target);
    }

    [Fact]
    public void TiedWeightsMayBeMissingWhenAllowed()
    {
        using var scratch = new ScratchFolder();
        var source = new TinyLm(seed: 1);
        SafeTensorsWriter.Write(scratch.File("model.safetensors"), StateDictLoader.NamedTensors(source).Where(t => t.Name != "lm_head.weight"));
        using var reader = CheckpointReader.OpenFolder(scratch.Path);

        var strict = new TinyLm(seed: 2);
        var e = Assert.Throws<CheckpointMismatchException>(() => StateDictLoader.LoadInto(strict, reader));
        Assert.Equal(["lm_head.weight"], e.Missing);

        var tied = new TinyLm(seed: 2);
        using var headBefore = tied.lm_head.weight!.detach().clone();
        var leftMissing = StateDictLoader.LoadInto(tied, reader, mayBeMissing: key => key == "lm_head.weight");
        Assert.Equal(["lm_head.weight"], leftMissing);
        Assert.True(SafeTensorsWriterTests.SameValues(headBefore, tied.lm_head.weight!.detach()));
        Assert.True(SafeTensorsWriterTests.SameValues(source.model.embed_tokens.weight!.detach(), tied.model.embed_tokens.weight!.detach()));
    }

    [Fact]
    public void KeyPrefixLoadsASubmoduleAndIgnoresKeysOutsideIt()
    {
        using var scratch = new ScratchFolder();
        var source = new TinyLm(seed: 1);
        StateDictLoader.SaveFrom(source, scratch.File("model.safetensors"));
        using var reader = CheckpointReader.OpenFolder(scratch.Path);
        var inner = new TinyLm(seed: 3).model;
        StateDictLoader.LoadInto(inner, reader, keyPrefix: "model.");
        AssertSameState(State(source.model), inner);
    }

    [Fact]
    public void ConvertsCheckpointDtypeToTheParameters()
    {
        using var scratch = new ScratchFolder();
        var source = new TinyLm(seed: 1);
        var bf16 = StateDictLoader.NamedTensors(source).Select(t => (t.Name, t.Tensor.detach().to_type(ScalarType.BFloat16))).ToList();
        SafeTensorsWriter.Write(scratch.File("model.safetensors"), bf16);
        using var reader = CheckpointReader.OpenFolder(scratch.Path);
        Assert.Equal(ScalarType.BFloat16, reader.Info("lm_head.weight").DType);

        var target = new TinyLm(seed: 2);
        StateDictLoader.LoadInto(target, reader);
        Assert.Equal(ScalarType.Float32, target.lm_head.weight!.dtype);
        Assert.True(source.lm_head.weight!.detach().allclose(target.lm_head.weight!.detach(), rtol: 1e-2, atol: 1e-2));
    }

    [Fact]
    public void LongListsAreCutInTheMessageButKeptInTheException()
    {
        using var scratch = new ScratchFolder();
        using var unrelated = zeros(1);
        SafeTensorsWriter.Write(scratch.File("model.safetensors"), [("unrelated", unrelated)]);
        using var reader = CheckpointReader.OpenFolder(scratch.Path);
        var wide = nn.Sequential(Enumerable.Range(0, 25).Select(i => ($"l{i}", (nn.Module<Tensor, Tensor>)nn.Linear(2, 2))).ToArray());
        var e = Assert.Throws<CheckpointMismatchException>(() => StateDictLoader.LoadInto(wide, reader));
        Assert.Equal(50, e.Missing.Count);
        Assert.Contains("50 tensor(s) missing from the checkpoint:", e.Message);
        Assert.Contains("… and 30 more", e.Message);
        Assert.Equal(["unrelated"], e.Unexpected);
    }
}
