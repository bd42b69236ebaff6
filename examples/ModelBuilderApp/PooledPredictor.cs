using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace ModelBuilderApp;

/// <summary>
/// Serves predictions of one loaded model to concurrent requests.
/// </summary>
/// <remarks>
/// A PredictionEngine is not thread-safe. ML.NET's PredictionEnginePool (package Microsoft.Extensions.ML) would be the
/// usual answer, but that package is not available to this repository, so engines come from an
/// <see cref="ObjectPool{T}"/> (Microsoft.Extensions.ObjectPool ships with ASP.NET Core): each request rents its own
/// engine, and a lock-free pool keeps them for reuse. All engines share the one loaded transformer, which serialises
/// calls into the language model itself, so the weights are in memory once.
/// </remarks>
public sealed class PooledPredictor : IDisposable
{
    readonly ITransformer _model;
    readonly ObjectPool<PredictionEngine<MiniWorldModel.ModelInput, MiniWorldModel.ModelOutput>> _engines;

    /// <summary>Loads the model zip at <paramref name="modelPath"/>.</summary>
    public PooledPredictor(string modelPath)
    {
        var mlContext = new MLContext();
        _model = MiniWorldModel.LoadModel(mlContext, modelPath);
        _engines = new DefaultObjectPoolProvider().Create(new EnginePolicy(mlContext, _model));
    }

    /// <summary>Generates the answer to one prompt; safe to call from many threads at once.</summary>
    public MiniWorldModel.ModelOutput Predict(MiniWorldModel.ModelInput input)
    {
        var engine = _engines.Get();
        try { return engine.Predict(input); }
        finally { _engines.Return(engine); }
    }

    public void Dispose() => (_model as IDisposable)?.Dispose();

    sealed class EnginePolicy(MLContext mlContext, ITransformer model)
        : PooledObjectPolicy<PredictionEngine<MiniWorldModel.ModelInput, MiniWorldModel.ModelOutput>>
    {
        // OwnsTransformer = false: the pool disposes the engines it does not keep (more concurrent requests than it
        // retains), and an engine that owns its transformer disposes it with itself, which would take the one shared
        // model away from every other engine.
        public override PredictionEngine<MiniWorldModel.ModelInput, MiniWorldModel.ModelOutput> Create() =>
            mlContext.Model.CreatePredictionEngine<MiniWorldModel.ModelInput, MiniWorldModel.ModelOutput>(model, new PredictionEngineOptions { OwnsTransformer = false });

        public override bool Return(PredictionEngine<MiniWorldModel.ModelInput, MiniWorldModel.ModelOutput> engine) => true;
    }
}
