using LfU.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace LfU.MLNet.Tests.MLNet;

/// <summary>Fast settings and data for end-to-end estimator tests on <see cref="TinyTextModel"/>.</summary>
internal static class TinyFineTuning
{
    /// <summary>Twelve arithmetic rows: 3 steps per epoch at batch size 4.</summary>
    public static List<PromptResponseRow> Rows(int count = 12) =>
        Enumerable.Range(0, count).Select(i => new PromptResponseRow { Prompt = $"What is {i} plus {i}?", Response = $"#### {2 * i}" }).ToList();

    /// <summary>Options for a few fast steps (one epoch of 12 rows = 3 steps) with short generations.</summary>
    public static LfUOptions Options(string? modelFolder = null) => new()
    {
        ModelFolder = modelFolder ?? TinyTextModel.Path,
        Training = new() { Epochs = 1, BatchSize = 4, LearningRate = 1e-2 },
        Generation = new GenerationSettings { MaxNewTokens = 6 },
    };

    /// <summary>A private copy of the tiny model folder, for tests that modify or delete it.</summary>
    public static string CopyModel(string parent)
    {
        string copy = Path.Combine(parent, "model");
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(TinyTextModel.Path))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    /// <summary>Collects MLContext log messages of the LfU components.</summary>
    public static List<(ChannelMessageKind Kind, string Message)> CaptureLog(MLContext mlContext)
    {
        var messages = new List<(ChannelMessageKind, string)>();
        mlContext.Log += (_, e) =>
        {
            if (e.Source.StartsWith(nameof(LfUEstimator), StringComparison.Ordinal))
                lock (messages) messages.Add((e.Kind, e.Message));
        };
        return messages;
    }
}

/// <summary>Runs the callback on the reporting thread (unlike <see cref="Progress{T}"/>, which posts it).</summary>
internal sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
