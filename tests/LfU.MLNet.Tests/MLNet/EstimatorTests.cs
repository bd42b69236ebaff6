using LfU.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace LfU.MLNet.Tests.MLNet;

public class EstimatorTests
{
    sealed class Row
    {
        public string Prompt { get; set; } = "";
        public string Response { get; set; } = "";
    }

    sealed class Output
    {
        public string Generated { get; set; } = "";
        public double ScoreMean { get; set; }
    }

    static Row[] Rows => Enumerable.Range(0, 12).Select(i => new Row { Prompt = $"What is {i} plus {i}?", Response = $"#### {2 * i}" }).ToArray();

    [Fact]
    public void PipelineFitsTransformsAndPredicts()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows);
        var progress = new List<TrainingProgress>();
        var options = new LfUOptions
        {
            ModelFolder = TinyTextModel.Path, Training = new() { Epochs = 2, BatchSize = 4, LearningRate = 1e-2 },
            Progress = new SynchronousProgress(progress.Add), Generation = new GenerationSettings { MaxNewTokens = 6 },
        };
        var pipeline = ml.Transforms.Text.FineTuneWithLfU(options);
        using var model = pipeline.Fit(data);
        Assert.Equal(6, model.TrainingResult!.History.Count);
        Assert.Equal([1, 2, 3, 4, 5, 6], progress.Select(p => p.Metrics.Step));
        Assert.All(model.TrainingResult.History, m => Assert.NotNull(m.Consistency));

        var transformed = model.Transform(data);
        var generated = transformed.GetColumn<string>("Generated").ToList();
        var scores = transformed.GetColumn<double>("ScoreMean").ToList();
        Assert.Equal(12, generated.Count);
        Assert.All(scores, s => Assert.True(s < 0 && double.IsFinite(s)));

        var engine = ml.Model.CreatePredictionEngine<Row, Output>(model);
        var one = engine.Predict(Rows[3]);
        Assert.Equal(generated[3], one.Generated);
        Assert.Equal(scores[3], one.ScoreMean, 6);
    }
}
