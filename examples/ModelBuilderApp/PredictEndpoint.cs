using System.Text.Json;

namespace ModelBuilderApp;

/// <summary>The body of POST /predict.</summary>
public sealed record PredictRequest(string? Prompt);

/// <summary>The answer of POST /predict.</summary>
public sealed record PredictResponse(string Text);

/// <summary>POST /predict: {"prompt": "..."} in, {"text": "..."} out; a bad body gets 400 with {"error": "..."} saying what is wrong.</summary>
public static class PredictEndpoint
{
    /// <summary>Longer prompts are refused: the mini-world model sees at most 512 tokens, prompt and answer together.</summary>
    public const int MaxPromptLength = 2000;

    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/predict", Handle);

    static async Task<IResult> Handle(HttpRequest request, PooledPredictor predictor)
    {
        // The body is read here rather than bound by the framework, so that every malformed body gets a message that says why.
        PredictRequest? body;
        try { body = await request.ReadFromJsonAsync<PredictRequest>(request.HttpContext.RequestAborted); }
        catch (JsonException e) { return BadRequest($"The body must be a JSON object {{\"prompt\": \"...\"}}: {e.Message}"); }
        catch (InvalidOperationException) { return BadRequest("The body must be JSON (Content-Type: application/json) of the form {\"prompt\": \"...\"}."); }
        if (body?.Prompt is null)
            return BadRequest("Missing \"prompt\": send {\"prompt\": \"...\"} with the text to answer.");
        if (string.IsNullOrWhiteSpace(body.Prompt))
            return BadRequest("\"prompt\" is empty: send the text to answer.");
        if (body.Prompt.Length > MaxPromptLength)
            return BadRequest($"\"prompt\" has {body.Prompt.Length} characters; at most {MaxPromptLength} are accepted.");

        // Generation is CPU-bound and blocking: run it off the request thread.
        var output = await Task.Run(() => predictor.Predict(new MiniWorldModel.ModelInput { Prompt = body.Prompt }));
        return Results.Ok(new PredictResponse(output.Generated));
    }

    static IResult BadRequest(string error) => Results.BadRequest(new { error });
}
