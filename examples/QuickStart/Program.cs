// LfU.MLNet quick start: teach a small pretrained language model a new task from an ML.NET pipeline, with
// "Learning from the Undesirable" (LfU), then check that it learnt the task without forgetting what it knew.
//
//   dotnet run --project examples/QuickStart -c Release            (a few minutes on a laptop CPU)
//   dotnet run --project examples/QuickStart -c Release -- --help
using LfU.MLNet;
using LfU.MLNet.Evaluation;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using LfU.MLNet.Training;
using Microsoft.ML;
using QuickStart;

QuickStartSettings settings;
try
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(QuickStartSettings.Usage); return 0; }
    settings = QuickStartSettings.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"quickstart: error: {e.Message}");
    Console.Error.WriteLine(QuickStartSettings.Usage);
    return 2;
}
if (!File.Exists(Path.Combine(settings.ModelFolder, "config.json")))
{
    Console.Error.WriteLine($"quickstart: error: no model in '{settings.ModelFolder}' (config.json missing). " +
                            "Pass --model with a Hugging Face model folder (config.json, *.safetensors, tokenizer.json).");
    return 1;
}
if (!File.Exists(Path.Combine(settings.DataFolder, "finetune_train.jsonl")))
{
    Console.Error.WriteLine($"quickstart: error: no mini-world data in '{settings.DataFolder}' (finetune_train.jsonl missing). " +
                            "Pass --data with the data/mini-world folder of this repository.");
    return 1;
}
Directory.CreateDirectory(settings.OutputFolder);
Console.WriteLine($"Model:  {settings.ModelFolder}");
Console.WriteLine($"Data:   {settings.DataFolder}");
Console.WriteLine($"Output: {settings.OutputFolder}");

var mlContext = new MLContext(seed: 0);
var generation = new GenerationSettings { MaxNewTokens = settings.MaxNewTokens, StopStrings = ["\n### "] };

// ---------------------------------------------------------------------------------------------------------------
Section("1. Load the data");
// The new task: "X buys A items at B dollars each and pays with C dollars. What is the change?" The model never saw
// it in pretraining. The other three sets test skills it has and should keep: facts about the people of its world,
// arithmetic word problems, and small reasoning/format tasks.
var trainRows = MiniWorldData.Read(Path.Combine(settings.DataFolder, "finetune_train.jsonl"), settings.MaxTrainRows);
var skills = new Skill[]
{
    new("new task", MiniWorldData.Read(Path.Combine(settings.DataFolder, "finetune_test.jsonl"), settings.EvalRows), Numeric: true),
    new("knowledge", MiniWorldData.Read(Path.Combine(settings.DataFolder, "ood_knowledge.jsonl"), settings.EvalRows), Numeric: false),
    new("arithmetic", MiniWorldData.Read(Path.Combine(settings.DataFolder, "ood_math.jsonl"), settings.EvalRows), Numeric: true),
    new("reasoning", MiniWorldData.Read(Path.Combine(settings.DataFolder, "ood_reasoning.jsonl"), settings.EvalRows), Numeric: false),
};
IDataView trainData = mlContext.Data.LoadFromEnumerable(trainRows);
Console.WriteLine($"{trainRows.Count} training rows; test rows: {string.Join(", ", skills.Select(s => $"{s.Rows.Count} {s.Name}"))}. Example:");
Console.WriteLine($"  Prompt:   {trainRows[0].Prompt}");
Console.WriteLine($"  Response: {Indent(trainRows[0].Response)}");

// ---------------------------------------------------------------------------------------------------------------
Section("2. The base model, before fine-tuning");
double[] baseScores;
using (var baseModel = LfUModel.Load(settings.ModelFolder, template: "alpaca"))
    baseScores = skills.Select(s => s.Score(baseModel.Generate(s.Prompts, generation, batchSize: 32))).ToArray();
PrintScores(["base model"], [baseScores]);

// ---------------------------------------------------------------------------------------------------------------
Section("3. Fine-tune twice: plain SFT, then LfU");
// Two ordinary ML.NET estimators that differ only in the objective. Both train a LoRA adapter (r = 8) on the same
// rows with the same seed; LfU adds lambda times the consistency loss against an "undesirable" update (alpha).
LfUOptions Options(TrainingObjective objective) => new()
{
    ModelFolder = settings.ModelFolder,
    Template = "alpaca",
    // The training settings, one record shared with the trainer.
    Training = new()
    {
        Objective = objective,
        Epochs = settings.Epochs,
        MaxSteps = settings.MaxSteps,
        BatchSize = settings.BatchSize,
        LearningRate = settings.LearningRate,
        // bfloat16 matmuls where the CPU has them (AVX512-BF16, AMX): with eager attention, 2-3x faster on a laptop CPU.
        Precision = "auto",
    },
    Attention = AttentionImplementation.Eager,
    Progress = new ConsoleProgress(),
    Generation = generation,
    InferenceBatchSize = 32,
};
Console.WriteLine("SFT:");
using LfUTransformer sft = mlContext.Transforms.Text.FineTuneWithLfU(Options(new SftObjective())).Fit(trainData);
Console.WriteLine($"LfU (lambda {settings.Lambda}, alpha {settings.Alpha}):");
using LfUTransformer lfu = mlContext.Transforms.Text.FineTuneWithLfU(Options(new LfULoraObjective
{
    Lambda = settings.Lambda, Alpha = settings.Alpha,
})).Fit(trainData);

string lossChart = Path.Combine(settings.OutputFolder, "loss.png");
Charts.SaveLines(lossChart, "Fine-tuning loss (SFT part) of the mini-world model", "step", "SFT loss", new Dictionary<string, (double[], double[])>
{
    ["SFT"] = (sft.TrainingResult!.History.Select(m => (double)m.Step).ToArray(), sft.TrainingResult.History.Select(m => m.Sft).ToArray()),
    ["LfU"] = (lfu.TrainingResult!.History.Select(m => (double)m.Step).ToArray(), lfu.TrainingResult.History.Select(m => m.Sft).ToArray()),
});
Console.WriteLine($"Loss curves: {lossChart}");

// ---------------------------------------------------------------------------------------------------------------
Section("4. Learnt the new task, kept the old skills?");
// Transform adds the "Generated" column (and "ScoreMean"/"ScoreTotal", the log-probability of "Response").
double[] Evaluate(LfUTransformer model) => skills.Select(s =>
{
    var generated = mlContext.Data.CreateEnumerable<Prediction>(model.Transform(mlContext.Data.LoadFromEnumerable(s.Rows)), reuseRowObject: false);
    return s.Score(generated.Select(p => p.Generated).ToList());
}).ToArray();
double[] sftScores = Evaluate(sft), lfuScores = Evaluate(lfu);
PrintScores(["base model", "SFT", "LfU"], [baseScores, sftScores, lfuScores]);
double Old(double[] scores) => scores.Skip(1).Average();
Console.WriteLine();
Console.WriteLine($"SFT: new task {sftScores[0] - baseScores[0]:+0.0%;-0.0%}, old skills {Old(sftScores) - Old(baseScores):+0.0%;-0.0%} (mean of the three).");
Console.WriteLine($"LfU: new task {lfuScores[0] - baseScores[0]:+0.0%;-0.0%}, old skills {Old(lfuScores) - Old(baseScores):+0.0%;-0.0%}.");
Console.WriteLine("One seed on a few rows: the benchmark (README) measures the trade-off over seeds and settings before concluding.");

// ---------------------------------------------------------------------------------------------------------------
Section("5. Generate with the LfU model");
var samples = mlContext.Data.CreateEnumerable<Prediction>(lfu.Transform(mlContext.Data.LoadFromEnumerable(skills[0].Rows.Take(3))), reuseRowObject: false).ToList();
for (int i = 0; i < samples.Count; i++)
{
    Console.WriteLine($"  Prompt:    {skills[0].Rows[i].Prompt}");
    Console.WriteLine($"  Generated: {Indent(samples[i].Generated)}");
    Console.WriteLine($"  Expected:  {skills[0].Rows[i].Answer}");
    Console.WriteLine();
}

// ---------------------------------------------------------------------------------------------------------------
Section("6. Save, load and predict");
string zip = Path.Combine(settings.OutputFolder, "lfu-model.zip");
mlContext.Model.Save(lfu, trainData.Schema, zip);
Console.WriteLine($"Saved the ML.NET model: {zip} ({new FileInfo(zip).Length / 1024.0:F0} KiB; the base model is referenced, not copied)");
string adapter = Path.Combine(settings.OutputFolder, "adapter");
lfu.Model!.SaveAdapter(adapter);
Console.WriteLine($"Saved the LoRA adapter in PEFT format (for Python's transformers + peft): {adapter}");

ITransformer loaded = mlContext.Model.Load(zip, out _);
using (loaded as IDisposable)
{
    var engine = mlContext.Model.CreatePredictionEngine<Question, Prediction>(loaded);
    var question = new Question { Prompt = "Lena buys 3 kites at 4 dollars each and pays with 20 dollars. What is the change?" };
    Console.WriteLine($"  Q: {question.Prompt}");
    Console.WriteLine($"  A: {Indent(engine.Predict(question).Generated)}");
}
return 0;

// ---------------------------------------------------------------------------------------------------------------

void PrintScores(string[] columns, double[][] scores)
{
    Console.WriteLine($"{"accuracy",-14}" + string.Concat(columns.Select(c => $"{c,12}")));
    for (int i = 0; i < skills.Length; i++)
        Console.WriteLine($"{skills[i].Name,-14}" + string.Concat(scores.Select(s => $"{s[i],12:P1}")));
}

static void Section(string title) => Console.WriteLine($"{Environment.NewLine}== {title}");

static string Indent(string text) => text.Replace("\n", "\n              ");

/// <summary>A test set and how its answers are compared: the final number (numeric) or the text, normalised.</summary>
record Skill(string Name, List<QuestionRow> Rows, bool Numeric)
{
    public List<string> Prompts => Rows.Select(r => r.Prompt).ToList();

    public double Score(IReadOnlyList<string> generated)
    {
        var data = new MLContext().Data.LoadFromEnumerable(Rows.Zip(generated, (row, text) => new { row.Answer, Generated = text }));
        return Numeric ? LfUEvaluator.EvaluateNumericAnswer(data).Accuracy : LfUEvaluator.EvaluateStringMatch(data).NormalizedMatch;
    }
}
