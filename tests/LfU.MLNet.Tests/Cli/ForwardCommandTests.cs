using LfU.MLNet.Checkpoints;
using Xunit;
using static TorchSharp.torch;

namespace LfU.MLNet.Tests.Cli;

/// <summary>The stable <c>lfu forward</c> contract, run in-process.</summary>
[Collection("Console")]
public class ForwardCommandTests
{
    [Fact]
    public void WritesLogitsHiddenStatesAndGreedyContinuation()
    {
        using var scope = NewDisposeScope();
        string model = FixturePaths.Model("qwen2-tiny");
        using var temp = new TempFolder("lfu-forward-");
        string dir = temp.Path;
        using var expected = SafeTensorsFile.Open(Path.Combine(model, "expected.safetensors"));
        string input = Path.Combine(dir, "in.safetensors"), output = Path.Combine(dir, "out.safetensors");
        SafeTensorsWriter.Write(input, new[] { ("input_ids", expected.Read("input_ids")), ("attention_mask", expected.Read("attention_mask")) });
        Assert.Equal(0, LfU.Cli.CliApp.Run(new[] { "forward", "--model", model, "--input", input, "--output", output }));
        using (var result = SafeTensorsFile.Open(output))
        {
            var valid = expected.Read("attention_mask").to(ScalarType.Bool);
            Model.ParityTests.AssertClose(expected.Read("logits")[valid], result.Read("logits")[valid], 1e-4, "logits");
            for (int i = 0; i <= 2; i++)
                Model.ParityTests.AssertClose(expected.Read($"hidden_states.{i}")[valid], result.Read($"hidden_states.{i}")[valid], 1e-4, $"hidden_states.{i}");
            Assert.False(result.Tensors.ContainsKey("generated"));
        }

        var prompt = expected.Read("generate.prompt");
        SafeTensorsWriter.Write(input, new[] { ("input_ids", prompt), ("attention_mask", ones_like(prompt)) });
        Assert.Equal(0, LfU.Cli.CliApp.Run(new[] { "forward", "--model", model, "--input", input, "--output", output, "--generate", "10" }));
        using var generated = SafeTensorsFile.Open(output);
        Assert.Equal(expected.Read("generate.greedy").data<long>().ToArray(), generated.Read("generated").data<long>().ToArray());
    }

    [Fact]
    public void BadInputsFailWithOneLine()
    {
        string model = FixturePaths.Model("llama-tiny");
        using var temp = new TempFolder("lfu-forward-");
        string dir = temp.Path;
        string input = Path.Combine(dir, "in.safetensors");
        using (var scope = NewDisposeScope())
            SafeTensorsWriter.Write(input, new[] { ("input_ids", tensor(new long[] { 1, 2, 600 }, new long[] { 1, 3 })) });
        var stderr = new StringWriter();
        var old = Console.Error;
        Console.SetError(stderr);
        try
        {
            Assert.Equal(1, LfU.Cli.CliApp.Run(new[] { "forward", "--model", model, "--input", input, "--output", Path.Combine(dir, "o.safetensors") }));
            Assert.Equal(2, LfU.Cli.CliApp.Run(new[] { "forward", "--model", model }));
        }
        finally { Console.SetError(old); }
        string text = stderr.ToString();
        Assert.Contains("input_ids must lie in [0, 512)", text);
        Assert.Single(text.Split("\n", StringSplitOptions.RemoveEmptyEntries), l => l.Contains("input_ids must lie"));
    }
}
