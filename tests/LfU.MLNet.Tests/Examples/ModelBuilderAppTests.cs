using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using ModelBuilderApp;
using Xunit;

namespace LfU.MLNet.Tests.Examples;

/// <summary>Trains examples/ModelBuilderApp's model for a few steps once, for all the tests of <see cref="ModelBuilderAppTests"/>.</summary>
public sealed class TrainedModelBuilderModel : IDisposable
{
    readonly TempFolder _temp = new("lfu-model-builder-test-");

    public TrainedModelBuilderModel()
    {
        string root = TinyTextModel.RepositoryRoot();
        ModelPath = _temp.File("MiniWorldModel.mlnet");
        MiniWorldModel.Train(ModelPath, Path.Combine(root, "data", "mini-world", "finetune_train.jsonl"), maxSteps: 2,
            baseModelFolder: Path.Combine(root, "data", "models", "mini-world"));
        // The static Predict loads MLNetModelPath once per process; only these tests use it.
        MiniWorldModel.MLNetModelPath = ModelPath;
    }

    public string ModelPath { get; }

    public void Dispose() => _temp.Dispose();
}

/// <summary>The Model Builder-style example: training saves a zip, and POST /predict serves it to concurrent requests.</summary>
public sealed class ModelBuilderAppTests(TrainedModelBuilderModel trained) : IClassFixture<TrainedModelBuilderModel>
{
    static readonly string[] Prompts =
    [
        "Lena buys 3 kites at 4 dollars each and pays with 20 dollars. What is the change?",
        "Omar buys 2 mugs at 7 dollars each and pays with 50 dollars. What is the change?",
        "Hana buys 5 bowls at 3 dollars each and pays with 30 dollars. What is the change?",
        "Rosa buys 9 mugs at 9 dollars each and pays with 110 dollars. What is the change?",
        "Who is Lena?",
        "What is 12 + 30?",
        "Mateo buys 4 pens at 2 dollars each and pays with 10 dollars. What is the change?",
        "Name a colour.",
    ];

    async Task<WebApplication> StartServerAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        var app = PredictionServer.Build(builder, trained.ModelPath);
        await app.StartAsync();
        return app;
    }

    [Fact]
    public async Task ConcurrentRequestsEachGetTheAnswerPredictGives()
    {
        await using var app = await StartServerAsync();
        using var client = app.GetTestClient();

        var responses = await Task.WhenAll(Prompts.Select(prompt => client.PostAsJsonAsync("/predict", new { prompt })));

        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.True(responses[i].StatusCode == HttpStatusCode.OK, $"{Prompts[i]}: {responses[i].StatusCode} {await responses[i].Content.ReadAsStringAsync()}");
            var answer = await responses[i].Content.ReadFromJsonAsync<PredictResponse>();
            Assert.False(string.IsNullOrWhiteSpace(answer?.Text), $"empty text for '{Prompts[i]}'");
            // Greedy generation is deterministic: the pooled engines answer as the static, Model Builder-style Predict does.
            Assert.Equal(MiniWorldModel.Predict(new MiniWorldModel.ModelInput { Prompt = Prompts[i] }).Generated, answer!.Text);
        }
    }

    [Theory]
    [InlineData("{}", "Missing \"prompt\"")]
    [InlineData("{\"prompt\": null}", "Missing \"prompt\"")]
    [InlineData("{\"prompt\": \"  \"}", "\"prompt\" is empty")]
    [InlineData("{\"prompt\": 42}", "The body must be a JSON object")]
    [InlineData("not json", "The body must be a JSON object")]
    [InlineData("", "The body must be a JSON object")]
    public async Task ABadBodyGets400SayingWhatIsWrong(string body, string expectedError)
    {
        await using var app = await StartServerAsync();
        using var client = app.GetTestClient();

        var response = await client.PostAsync("/predict", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expectedError, await ErrorOf(response));
    }

    [Fact]
    public async Task ABodyThatIsNotJsonContentGets400()
    {
        await using var app = await StartServerAsync();
        using var client = app.GetTestClient();

        var response = await client.PostAsync("/predict", new StringContent("prompt=hi", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Content-Type: application/json", await ErrorOf(response));
    }

    /// <summary>The "error" of a 400's JSON body, unescaped.</summary>
    static async Task<string> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<Dictionary<string, string>>())?["error"] ?? "";

    [Fact]
    public void AMissingModelIsReportedWithHowToTrainOne()
    {
        var e = Assert.Throws<FileNotFoundException>(() => new PooledPredictor(Path.Combine(Path.GetTempPath(), "no-such-model.mlnet")));
        Assert.Contains("Train one first", e.Message);
    }

    [Fact]
    public void MissingTrainingDataIsReportedWithWhatToPass()
    {
        var e = Assert.Throws<FileNotFoundException>(() => MiniWorldModel.Train(Path.Combine(Path.GetTempPath(), "unused.mlnet"), "/no/such/train.jsonl", maxSteps: 1));
        Assert.Contains("finetune_train.jsonl", e.Message);
    }
}
