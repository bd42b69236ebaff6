namespace ModelBuilderApp;

/// <summary>Builds the web app that serves a saved model at POST /predict.</summary>
public static class PredictionServer
{
    /// <summary>Registers the model and the endpoint on <paramref name="builder"/> (which tests may point at a TestServer) and builds the app.</summary>
    /// <param name="modelPath">The model zip; loaded now, so that a missing or broken model stops the app at start-up, not at the first request.</param>
    public static WebApplication Build(WebApplicationBuilder builder, string modelPath)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var predictor = new PooledPredictor(modelPath);
        builder.Services.AddSingleton(predictor); // a registered instance is not disposed by the container: the app does it below
        var app = builder.Build();
        app.Lifetime.ApplicationStopped.Register(predictor.Dispose);
        PredictEndpoint.Map(app);
        return app;
    }
}
