using LfU.Cli.Commands;
using Xunit;

namespace LfU.MLNet.Tests.Cli;

/// <summary>Parsing and comparing the PyTorch reference benchmark's output (the script itself needs a GPU).</summary>
public class PyTorchReferenceTests
{
    const string Output = """
        {"impl": "pytorch+transformers+peft", "shape": "8b", "batch": 4, "seq": 512, "variant": "sft", "step_ms_median": 270.7, "step_ms_min": 268.1, "tokens_per_s": 7565, "peak_mem_gib": 36.7, "params": 8030261248}
        some warning from transformers
        {"impl": "pytorch+transformers+peft", "shape": "8b", "batch": 4, "seq": 512, "variant": "lfu_official_3f3b", "step_ms_median": 967.5, "step_ms_min": 960.0, "tokens_per_s": 2117, "peak_mem_gib": 57.5, "params": 8030261248}
        {"impl": "pytorch+transformers+peft", "shape": "8b", "batch": 4, "seq": 512, "variant": "lfu_same_batch_2f2b", "step_ms_median": 617.8, "step_ms_min": 610.0, "tokens_per_s": 3315, "peak_mem_gib": 37.5, "params": 8030261248}
        """;

    [Fact]
    public void ParsesTheScriptsJsonLines()
    {
        var timings = PyTorchReference.Parse(Output);
        Assert.Equal(new[] { "sft", "lfu_official_3f3b", "lfu_same_batch_2f2b" }, timings.Select(t => t.Variant));
        Assert.Equal(617.8, timings[2].MedianMs);
        Assert.Equal(37.5, timings[2].PeakGiB);
    }

    [Fact]
    public void ComparesOursWithTheirs()
    {
        var table = PyTorchReference.Compare(new Dictionary<string, double> { ["sft"] = 250.0, ["lfu-lora"] = 450.0 }, PyTorchReference.Parse(Output));
        Assert.Contains("| SFT vs PyTorch+peft SFT | 250.0 | 270.7 | 0.92 |", table);
        Assert.Contains("| LfU-LoRA same batch vs PyTorch same batch (2F+2B) | 450.0 | 617.8 | 0.73 |", table);
        Assert.Contains("| LfU-LoRA same batch vs PyTorch official code (3F+3B) | 450.0 | 967.5 | 0.47 |", table);
        Assert.DoesNotContain("independent", table);
    }

    [Fact]
    public void BadOutputIsAClearError()
    {
        Assert.Contains("printed no timing lines", Assert.Throws<InvalidDataException>(() => PyTorchReference.Parse("Traceback ...")).Message);
        Assert.Contains("line 1", Assert.Throws<InvalidDataException>(() => PyTorchReference.Parse("{\"variant\": \"sft\"}")).Message);
    }
}
