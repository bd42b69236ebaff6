using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Model;
using LfU.MLNet.Tokenization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Objectives;

/// <summary>The LfU reference fixture in float64: the tiny Llama with its LoRA adapter, and the training batch.</summary>
internal static class LfUStepFixture
{
    public static (CausalLM Model, List<Parameter> Trainable, TokenBatch Batch) Load()
    {
        var model = PretrainedModel.Load(Path.Combine(FixturePaths.Lfu, "base"), ScalarType.Float64, CPU);
        PeftAdapter.Load(model, Path.Combine(FixturePaths.Lfu, "adapter"), ScalarType.Float64);
        var trainable = LoraAdapters.Parameters(model).Select(p => p.Parameter).ToList();
        using var expected = SafeTensorsFile.Open(Path.Combine(FixturePaths.Lfu, "expected.safetensors"));
        var batch = new TokenBatch(expected.Read("batch.input_ids"), expected.Read("batch.attention_mask"), expected.Read("batch.labels"));
        return (model, trainable, batch);
    }
}
