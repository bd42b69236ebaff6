using System.Text.Json.Nodes;
using LfU.MLNet.Generation;
using LfU.MLNet.Model;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Model;

/// <summary>Qwen3 and Mistral from Hub-style configs, config parsing and its errors.</summary>
public class ArchitectureTests
{
    // Shapes as the Hub writes them, shrunk: Qwen3 has head_dim != hidden / heads and q/k norms; Mistral a sliding window.
    const string Qwen3Config = """
        {"architectures":["Qwen3ForCausalLM"],"attention_bias":false,"bos_token_id":151643,"eos_token_id":151645,"head_dim":24,
         "hidden_act":"silu","hidden_size":64,"intermediate_size":96,"max_position_embeddings":512,"max_window_layers":28,
         "model_type":"qwen3","num_attention_heads":4,"num_hidden_layers":2,"num_key_value_heads":2,"rms_norm_eps":1e-06,
         "rope_scaling":null,"rope_theta":1000000,"sliding_window":null,"tie_word_embeddings":true,"torch_dtype":"bfloat16",
         "use_cache":true,"use_sliding_window":false,"vocab_size":300}
        """;
    const string MistralConfig = """
        {"architectures":["MistralForCausalLM"],"bos_token_id":1,"eos_token_id":2,"hidden_act":"silu","hidden_size":64,
         "intermediate_size":128,"max_position_embeddings":512,"model_type":"mistral","num_attention_heads":8,"num_hidden_layers":2,
         "num_key_value_heads":2,"rms_norm_eps":1e-05,"rope_theta":10000.0,"sliding_window":4,"tie_word_embeddings":false,
         "torch_dtype":"float32","vocab_size":300}
        """;

    static ModelConfig Parse(string json) => ModelConfig.FromJson((JsonObject)JsonNode.Parse(json)!);

    [Fact]
    public void Qwen3HasHeadDimIndependentOfHiddenSizeAndQkNorms()
    {
        var config = Parse(Qwen3Config);
        Assert.Equal(24, config.HeadDim);
        Assert.True(config.QkNorm);
        Assert.True(config.TieWordEmbeddings);
        using var model = new CausalLM(config);
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("model.layers.0.self_attn.q_norm.weight", names);
        Assert.Contains("model.layers.1.self_attn.k_norm.weight", names);
        Assert.DoesNotContain("lm_head.weight", names);
        Assert.DoesNotContain("model.layers.0.self_attn.q_proj.bias", names);
        var q = model.named_parameters().Single(p => p.name == "model.layers.0.self_attn.q_proj.weight").parameter;
        Assert.Equal(new long[] { 4 * 24, 64 }, q.shape);
    }

    [Theory]
    [InlineData(Qwen3Config)]
    [InlineData(MistralConfig)]
    public void CachedDecodingEqualsFullRecomputation(string json)
    {
        using var scope = NewDisposeScope();
        using var model = new CausalLM(Parse(json));
        model.InitializeWeights(0.1, seed: 3);
        var prompt = tensor(new long[] { 3, 14, 15, 92, 65, 35 }, new long[] { 1, 6 });
        var generated = TokenGenerator.Generate(model, prompt, ones_like(prompt), maxNewTokens: 8)[0];
        // Recompute every step from scratch, without a cache.
        var sequence = prompt.data<long>().ToList();
        using var _ = no_grad();
        for (int i = 0; i < 8; i++)
        {
            var ids = tensor(sequence.ToArray(), new long[] { 1, sequence.Count });
            sequence.Add(model.Forward(ids).Logits[0, -1].argmax().item<long>());
        }
        Assert.Equal(sequence.Skip(6).ToArray(), generated);
    }

    [Fact]
    public void MistralSlidingWindowLimitsAttention()
    {
        using var scope = NewDisposeScope();
        var config = Parse(MistralConfig);
        Assert.Equal(4, config.SlidingWindow);
        using var model = new CausalLM(config);
        model.InitializeWeights(0.1, seed: 5);
        using var _ = no_grad();
        // With a window of 4, the first layer's last position cannot see position 0: changing it changes only early outputs.
        var a = tensor(new long[] { 7, 1, 2, 3, 4, 5, 6, 8 }, new long[] { 1, 8 });
        var b = tensor(new long[] { 9, 1, 2, 3, 4, 5, 6, 8 }, new long[] { 1, 8 });
        var ha = model.Forward(a, new ForwardOptions { OutputHiddenStates = true }).HiddenStates![1];
        var hb = model.Forward(b, new ForwardOptions { OutputHiddenStates = true }).HiddenStates![1];
        Assert.True((ha[0, 7] - hb[0, 7]).abs().max().item<float>() == 0, "position 7 must not see position 0 through a window of 4");
        Assert.True((ha[0, 3] - hb[0, 3]).abs().max().item<float>() > 0, "position 3 sees position 0");
    }

    [Theory]
    [InlineData(Qwen3Config, "bfloat16")]
    [InlineData(MistralConfig, "float32")]
    public void SavedCheckpointReloadsIdentically(string json, string dtype)
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder("lfu-ckpt-");
        string dir = folder.Path;
        using var model = new CausalLM(Parse(json), PretrainedModel.ParseDType(dtype));
        model.InitializeWeights(0.05, seed: 11);
        PretrainedModel.Save(model, dir);
        using var reloaded = PretrainedModel.Load(dir);
        Assert.Equal(model.DType, reloaded.DType);
        var ids = tensor(new long[] { 1, 2, 3, 4, 5 }, new long[] { 1, 5 });
        using var _ = no_grad();
        Assert.True((model.Forward(ids).Logits == reloaded.Forward(ids).Logits).all().item<bool>());
    }

    [Fact]
    public void RopeParametersFormIsRead()
    {
        var json = (JsonObject)JsonNode.Parse(MistralConfig)!;
        json.Remove("rope_theta");
        json["model_type"] = "llama";
        json["rope_parameters"] = JsonNode.Parse("""{"rope_type":"llama3","rope_theta":500000.0,"factor":32.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}""");
        var config = ModelConfig.FromJson(json);
        Assert.Equal(RopeScalingType.Llama3, config.RopeScaling);
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal(32.0, config.RopeFactor);
        Assert.Equal(8192, config.RopeOriginalMaxPositions);
    }

    [Theory]
    [InlineData("model_type", "\"gpt2\"", "model_type 'gpt2' is not supported (supported: llama, mistral, qwen2, qwen3)")]
    [InlineData("rope_scaling", "{\"rope_type\":\"yarn\",\"factor\":4.0}", "rope_scaling.rope_type 'yarn' is not supported (supported: default, linear, llama3)")]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act 'gelu' is not supported")]
    [InlineData("num_key_value_heads", "3", "num_key_value_heads 3 does not divide num_attention_heads 8")]
    [InlineData("hidden_size", "\"big\"", "hidden_size must be an integer")]
    public void BadConfigsNameTheField(string field, string value, string message)
    {
        var json = (JsonObject)JsonNode.Parse(MistralConfig)!;
        json[field] = JsonNode.Parse(value);
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson(json));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MissingFieldAndMissingFolderAreClear()
    {
        var json = (JsonObject)JsonNode.Parse(MistralConfig)!;
        json.Remove("vocab_size");
        Assert.Contains("vocab_size is missing", Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson(json)).Message);
        var e = Assert.Throws<DirectoryNotFoundException>(() => PretrainedModel.Load("/nonexistent/model"));
        Assert.Contains("/nonexistent/model", e.Message);
    }
}
