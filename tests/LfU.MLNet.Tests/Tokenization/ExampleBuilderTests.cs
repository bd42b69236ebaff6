using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

public class ExampleBuilderTests
{
    static HfTokenizer Qwen => TokenizerFixtures.Tokenizer("qwen3");
    static HfTokenizer Llama => TokenizerFixtures.Tokenizer("llama3");

    [Fact]
    public void PromptIsMaskedAndResponseEndsWithTheEndOfTurnToken()
    {
        var builder = new ExampleBuilder(Llama, PromptTemplates.FromTokenizer(Llama)!);
        TrainingExample example = builder.Build("What is 2+3?", "2+3 = 5.")!;

        int[] prompt = Llama.Encode(PromptTemplates.FromTokenizer(Llama)!.RenderGenerationPrompt("What is 2+3?"), addSpecialTokens: false);
        int[] response = Llama.Encode("2+3 = 5.", addSpecialTokens: false);
        Assert.Equal([.. prompt, .. response, 128009], example.InputIds);
        Assert.Equal(128000, example.InputIds[0]);  // one BOS, from the template
        Assert.Equal([.. Enumerable.Repeat(-100, prompt.Length), .. response, 128009], example.Labels);
        Assert.Equal(1, builder.Report.Total);
    }

    [Fact]
    public void Qwen3ReplyGetsTheEmptyThinkBlockLikeTheChatTemplate()
    {
        PromptTemplate chatMl = PromptTemplates.FromTokenizer(Qwen)!;
        var builder = new ExampleBuilder(Qwen, chatMl);
        TrainingExample example = builder.Build([new("user", "What is 2+3?"), new("assistant", "2+3 = 5.")])!;
        string rendered = chatMl.Render([new("user", "What is 2+3?"), new("assistant", "2+3 = 5.")]);
        Assert.Equal(rendered.TrimEnd('\n'), Qwen.Decode(example.InputIds, skipSpecialTokens: false));
        Assert.Equal(151645, example.InputIds[^1]);  // <|im_end|>
    }

    [Fact]
    public void AlpacaAppendsEosAndTrainOnPromptUnmasksEverything()
    {
        var builder = new ExampleBuilder(Qwen, PromptTemplates.ByName("alpaca"), new ExampleBuilderOptions { TrainOnPrompt = true });
        TrainingExample example = builder.Build("Say hi.", "Hi")!;
        Assert.Equal(Qwen.EosId, example.InputIds[^1]);
        Assert.Equal(example.InputIds, example.Labels);
    }

    [Fact]
    public void TruncationCutsThePromptFromTheLeftFirstThenTheResponseEnd()
    {
        PromptTemplate template = PromptTemplates.FromTokenizer(Llama)!;
        int[] fullPrompt = Llama.Encode(template.RenderGenerationPrompt("one two three four five six seven eight nine ten"), addSpecialTokens: false);
        int[] response = [.. Llama.Encode("alpha beta gamma", addSpecialTokens: false), 128009];

        var builder = new ExampleBuilder(Llama, template, new ExampleBuilderOptions { CutoffLength = response.Length + 4 });
        TrainingExample cutPrompt = builder.Build("one two three four five six seven eight nine ten", "alpha beta gamma")!;
        Assert.Equal(response.Length + 4, cutPrompt.InputIds.Length);
        Assert.Equal(128000, cutPrompt.InputIds[0]);                     // BOS kept
        Assert.Equal(fullPrompt[^3..], cutPrompt.InputIds[1..4]);         // the prompt's end kept
        Assert.Equal(response, cutPrompt.InputIds[4..]);                  // whole response kept

        var tight = new ExampleBuilder(Llama, template, new ExampleBuilderOptions { CutoffLength = 3 });
        TrainingExample cutResponse = tight.Build("one two three", "alpha beta gamma")!;
        Assert.Equal([128000, .. response[..2]], cutResponse.InputIds);   // BOS + start of the response
        Assert.Equal(1, tight.Report.Truncated);
    }

    [Fact]
    public void ExamplesWithNothingToLearnAreSkippedAndCounted()
    {
        var builder = new ExampleBuilder(Llama, PromptTemplates.FromTokenizer(Llama)!, new ExampleBuilderOptions { CutoffLength = 2 });
        var examples = builder.BuildAll([("Hi", ""), ("Hi", "Hello"), ("Hi", "Hello there")]);
        Assert.Equal(3, builder.Report.Total);
        Assert.Equal(2, builder.Report.Kept);
        Assert.Equal(2, builder.Report.Truncated);
        Assert.Equal(new SkippedExample(0, "empty response"), Assert.Single(builder.Report.Skipped));
        Assert.Contains("1 skipped (1 empty response)", builder.Report.Summary(2));
        Assert.All(examples, e => Assert.Equal(2, e.InputIds.Length));
    }
}
