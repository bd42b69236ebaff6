using System.Diagnostics;
using System.Text.Json.Nodes;
using LfU.MLNet.Model;
using LfU.MLNet.Tests.Checkpoints;
using Xunit;

namespace LfU.MLNet.Tests.Model;

/// <summary>config.json values that would crash, hang or poison every logit fail at once, naming the file and the field.</summary>
public sealed class ModelConfigSanityTests : IDisposable
{
    readonly ScratchFolder _scratch = new();
    string Dir => _scratch.Path;

    public void Dispose() => _scratch.Dispose();

    string ConfigFile => Path.Combine(Dir, "config.json");

    string WriteConfig(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(FixturePaths.Model("llama-tiny"), "config.json")))!.AsObject();
        edit(json);
        File.WriteAllText(ConfigFile, json.ToJsonString());
        return ConfigFile;
    }

    string LoadError(Action<JsonObject> edit) => Assert.Throws<InvalidDataException>(() => ModelConfig.FromFile(WriteConfig(edit))).Message;

    [Theory]
    [InlineData("eos_token_id", "[null]", "eos_token_id[0] must be a token id (a non-negative integer), not null")]
    [InlineData("eos_token_id", "[2, \"x\"]", "eos_token_id[1] must be a token id (a non-negative integer), not \"x\"")]
    [InlineData("eos_token_id", "1.5", "eos_token_id must be a token id (a non-negative integer), not 1.5")]
    [InlineData("eos_token_id", "\"x\"", "eos_token_id must be a token id (a non-negative integer), not \"x\"")]
    [InlineData("eos_token_id", "-1", "eos_token_id must be a token id (a non-negative integer), not -1")]
    [InlineData("bos_token_id", "1.5", "bos_token_id must be an integer")]
    [InlineData("rope_theta", "0", "rope_theta 0 must be a positive number")]
    [InlineData("rope_theta", "-10000", "rope_theta -10000 must be a positive number")]
    [InlineData("rms_norm_eps", "-1", "rms_norm_eps -1 must be a positive number")]
    [InlineData("rms_norm_eps", "0", "rms_norm_eps 0 must be a positive number")]
    [InlineData("rope_theta", "\"x\"", "rope_theta must be a number")]
    [InlineData("rope_scaling", "\"garbage\"", "rope_scaling must be an object or null, not \"garbage\"")]
    [InlineData("rope_scaling", "42", "rope_scaling must be an object or null, not 42")]
    [InlineData("rope_scaling", "[1,2]", "rope_scaling must be an object or null, not [1,2]")]
    [InlineData("rope_scaling", "{\"rope_type\": \"yarn\"}", "rope_scaling.rope_type 'yarn' is not supported")]
    [InlineData("rope_parameters", "\"x\"", "rope_parameters must be an object or null")]
    public void BadValuesAreNamedWithTheFileAndTheField(string field, string value, string expected)
    {
        string message = LoadError(j => j[field] = JsonNode.Parse(value));
        Assert.StartsWith($"{ConfigFile}: {expected}", message);
    }

    [Fact]
    public void NullRopeScalingMeansNone()
    {
        var config = ModelConfig.FromFile(WriteConfig(j => j["rope_scaling"] = null));
        Assert.Equal(RopeScalingType.Default, config.RopeScaling);
    }

    [Fact]
    public void DuplicateKeysAreRefusedNamingTheKey()
    {
        File.WriteAllText(ConfigFile, File.ReadAllText(Path.Combine(FixturePaths.Model("llama-tiny"), "config.json")).Replace("\"rope_theta\": 500000.0", "\"rope_theta\": 500000.0, \"rope_theta\": 0"));
        string message = Assert.Throws<InvalidDataException>(() => ModelConfig.FromFile(ConfigFile)).Message;
        Assert.StartsWith($"{ConfigFile}: not valid JSON", message);
        Assert.Contains("rope_theta", message);
    }

    [Theory]
    [InlineData("num_hidden_layers", 1_000_000)]
    [InlineData("hidden_size", 1e9)]
    [InlineData("intermediate_size", 2e9)]
    [InlineData("vocab_size", 2e9)]
    public void SizesBeyondMemoryFailBeforeAnyAllocationQuotingTheEstimate(string field, double value)
    {
        var config = ModelConfig.FromFile(WriteConfig(j => j[field] = value));
        var clock = Stopwatch.StartNew();

        string message = Assert.Throws<InvalidDataException>(() => new CausalLM(config)).Message;

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.StartsWith($"{ConfigFile}: the weights alone need about ", message);
        Assert.Contains($"{field} {value:0}", message);
        Assert.Contains("of this machine's memory; check those sizes.", message);
    }

    [Fact]
    public void LoadingAHugeConfigFailsBeforeTheCheckpointIsRead()
    {
        foreach (string file in Directory.GetFiles(FixturePaths.Model("llama-tiny"))) File.Copy(file, Path.Combine(Dir, Path.GetFileName(file)), overwrite: true);
        WriteConfig(j => j["num_hidden_layers"] = 1_000_000);
        string message = Assert.Throws<InvalidDataException>(() => PretrainedModel.Load(Dir)).Message;
        Assert.Contains("num_hidden_layers 1000000", message);
    }

    [Fact]
    public void ParameterCountMatchesTheBuiltModel()
    {
        var config = ModelConfig.FromFile(FixturePaths.Model("llama-tiny"));
        using var model = new CausalLM(config);
        Assert.Equal(model.parameters().Sum(p => p.numel()), (long)config.ParameterCount());
    }
}
