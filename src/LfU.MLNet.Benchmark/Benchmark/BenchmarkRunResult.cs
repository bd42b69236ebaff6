namespace LfU.MLNet.Benchmark;

/// <summary>The measurements of one benchmark run. Accuracies are exact-match fractions in [0, 1].</summary>
/// <param name="Run">The run measured.</param>
/// <param name="InDomain">Accuracy on the held-out fine-tuning questions (canonical template).</param>
/// <param name="OodKnowledge">Accuracy on the out-of-domain knowledge questions.</param>
/// <param name="OodMath">Accuracy on the out-of-domain math problems.</param>
/// <param name="OodReasoning">Accuracy on the out-of-domain reasoning tasks.</param>
/// <param name="OodAverage">Unweighted mean of the three out-of-domain categories.</param>
/// <param name="ParaphraseByTemplate">Accuracy on the paraphrased in-domain test per template id.</param>
/// <param name="ParaphraseMean">Mean of <paramref name="ParaphraseByTemplate"/>.</param>
/// <param name="ParaphraseStd">Population standard deviation of <paramref name="ParaphraseByTemplate"/> (the spread over templates).</param>
/// <param name="Steps">Optimizer steps trained (0 for the base model).</param>
/// <param name="FinalLoss">SFT loss of the last step, or null for the base model.</param>
/// <param name="Generations">Prompts generated for the evaluation.</param>
/// <param name="TrainSeconds">Time spent training (0 for the base model).</param>
/// <param name="EvalSeconds">Time spent generating the evaluation outputs.</param>
/// <param name="WallSeconds">Time of the whole run: loading, training, evaluation.</param>
internal sealed record BenchmarkRunResult(
    BenchmarkRun Run,
    double InDomain,
    double OodKnowledge,
    double OodMath,
    double OodReasoning,
    double OodAverage,
    IReadOnlyDictionary<int, double> ParaphraseByTemplate,
    double ParaphraseMean,
    double ParaphraseStd,
    int Steps,
    double? FinalLoss,
    int Generations,
    double TrainSeconds,
    double EvalSeconds,
    double WallSeconds);
