using System.Text.Json;
using LfU.MLNet.Tokenization;
using Xunit;

namespace LfU.MLNet.Tests.Tokenization;

public class PromptTemplateTests
{
    [Theory]
    [InlineData("llama3", "llama3")]
    [InlineData("qwen3", "chatml")]
    public void ChatRenderingMatchesThePackagesOwnChatTemplate(string package, string expectedName)
    {
        PromptTemplate template = PromptTemplates.FromTokenizer(TokenizerFixtures.Tokenizer(package))!;
        Assert.Equal(expectedName, template.Name);
        foreach (JsonElement chat in TokenizerFixtures.Fixture(package).GetProperty("chat").EnumerateArray())
        {
            var messages = chat.GetProperty("messages").EnumerateArray()
                .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();
            Assert.Equal(chat.GetProperty("rendered").GetString(), template.Render(messages));
            Assert.Equal(chat.GetProperty("rendered_generation_prompt").GetString(), template.RenderGenerationPrompt(messages.Take(messages.Count - 1).ToList()));
        }
    }

    [Fact]
    public void AlpacaIsTheOfficialTemplate()
    {
        PromptTemplate alpaca = PromptTemplates.ByName("alpaca");
        Assert.Equal("Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd 2 and 3.\n\n### Response:\n",
                     alpaca.RenderGenerationPrompt("Add 2 and 3."));
        Assert.Equal("Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate.\n\n### Input:\nHallo\n\n### Response:\n",
                     alpaca.RenderGenerationPrompt("Translate.", system: "Hallo"));
    }

    [Fact]
    public void CustomTemplateAndUnknownNames()
    {
        PromptTemplate custom = PromptTemplates.Resolve("[{system}] Q: {prompt}\nA:");
        Assert.Equal("[Be brief.] Q: 2+2?\nA:", custom.RenderGenerationPrompt("2+2?", "Be brief."));
        var error = Assert.Throws<ArgumentException>(() => PromptTemplates.ByName("vicuna"));
        Assert.Contains("alpaca, llama3, chatml", error.Message);
        Assert.Throws<ArgumentException>(() => PromptTemplates.Custom("no placeholder"));
    }

    [Fact]
    public void Qwen3KeepsReasoningGivenInTheReply()
    {
        PromptTemplate qwen = PromptTemplates.FromTokenizer(TokenizerFixtures.Tokenizer("qwen3"))!;
        string rendered = qwen.Render([new("user", "Hi"), new("assistant", "<think>\nsay hi\n</think>\n\nHello!")]);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nsay hi\n</think>\n\nHello!<|im_end|>\n", rendered);
    }
}
