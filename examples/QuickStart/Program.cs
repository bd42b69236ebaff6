// LfU.MLNet quick start: teach a small pretrained language model a new task from an ML.NET pipeline, with
// "Learning from the Undesirable" (LfU), then check that it learnt the task without forgetting what it knew.
//
//   dotnet run --project examples/QuickStart -c Release            (a few minutes on a laptop CPU)
//   dotnet run --project examples/QuickStart -c Release -- --help
using LfU.MLNet;
using LfU.MLNet.Evaluation;
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
var generation = new GenerationSettings { MaxNewTokens = settings.MaxNewTokens };

// ---------------------------------------------------------------------------------------------------------------
Section("1. Load the data");
// The new task: "X buys A items at B dollars each and pays with C dollars. What is the change?" The model never saw
// it in pretraining. The arithmetic questions test a skill it has and should keep.
var trainRows = MiniWorldData.Read(Path.Combine(settings.DataFolder, "finetune_train.jsonl"), settings.MaxTrainRows);
var taskTest = MiniWorldData.Read(Path.Combine(settings.DataFolder, "finetune_test.jsonl"), settings.EvalRows);
var mathTest = MiniWorldData.Read(Path.Combine(settings.DataFolder, "ood_math.jsonl"), settings.EvalRows);
IDataView trainData = mlContext.Data.LoadFromEnumerable(trainRows);
Console.WriteLine($"{trainRows.Count} training rows, {taskTest.Count} new-task test rows, {mathTest.Count} arithmetic test rows. Example:");
Console.WriteLine($"  Prompt:   {trainRows[0].Prompt}");
Console.WriteLine($"  Response: {Indent(trainRows[0].Response)}");

// ---------------------------------------------------------------------------------------------------------------
Section("2. The base model, before fine-tuning");
NumericAnswerMetrics baseTask, baseMath;
using (var baseModel = LfUModel.Load(settings.ModelFolder, template: "alpaca"))
{
    baseTask = EvaluateModel(baseModel, taskTest);
    baseMath = EvaluateModel(baseModel, mathTest);
}
Console.WriteLine($"New task accuracy:   {baseTask.Accuracy,7:P1}");
Console.WriteLine($"Arithmetic accuracy: {baseMath.Accuracy,7:P1}");

// ---------------------------------------------------------------------------------------------------------------
Section("3. Fine-tune with LfU");
// An ordinary ML.NET estimator: LoRA adapter (r = 8) trained with the LfU objective (alpha = 0.1, lambda = 5).
var options = new LfUOptions
{
    ModelFolder = settings.ModelFolder,
    Template = "alpaca",
    Epochs = settings.Epochs,
    MaxSteps = settings.MaxSteps,
    BatchSize = settings.BatchSize,
    LearningRate = 3e-3,
    Progress = new ConsoleProgress(),
    Generation = generation,
    InferenceBatchSize = 32,
};
var pipeline = mlContext.Transforms.Text.FineTuneWithLfU(options);
using LfUTransformer model = pipeline.Fit(trainData);
var history = model.TrainingResult!.History;
Console.WriteLine($"{history.Count} steps, final loss {history[^1].Sft:F4} (first {history[0].Sft:F4}).");

string lossChart = Path.Combine(settings.OutputFolder, "loss.png");
Charts.SaveLossCurves(model.TrainingResult!, lossChart, "LfU fine-tuning of the mini-world model");
Console.WriteLine($"Loss curve: {lossChart}");

// ---------------------------------------------------------------------------------------------------------------
Section("4. Generate with the fine-tuned model");
// Transform adds the "Generated" column (and "ScoreMean"/"ScoreTotal", the log-probability of "Response").
IDataView predictions = model.Transform(mlContext.Data.LoadFromEnumerable(taskTest.Take(3)));
var samples = mlContext.Data.CreateEnumerable<Prediction>(predictions, reuseRowObject: false).ToList();
for (int i = 0; i < samples.Count; i++)
{
    Console.WriteLine($"  Prompt:    {taskTest[i].Prompt}");
    Console.WriteLine($"  Generated: {Indent(samples[i].Generated)}");
    Console.WriteLine($"  Expected:  {taskTest[i].Answer}");
    Console.WriteLine();
}

// ---------------------------------------------------------------------------------------------------------------
Section("5. Evaluate: learnt the new task, kept the old skill?");
var tunedTask = LfUEvaluator.EvaluateNumericAnswer(model.Transform(mlContext.Data.LoadFromEnumerable(taskTest)));
var tunedMath = LfUEvaluator.EvaluateNumericAnswer(model.Transform(mlContext.Data.LoadFromEnumerable(mathTest)));
Console.WriteLine($"{"",-22}{"base model",12}{"fine-tuned",12}");
Console.WriteLine($"{"New task accuracy",-22}{baseTask.Accuracy,12:P1}{tunedTask.Accuracy,12:P1}");
Console.WriteLine($"{"Arithmetic accuracy",-22}{baseMath.Accuracy,12:P1}{tunedMath.Accuracy,12:P1}");

// ---------------------------------------------------------------------------------------------------------------
Section("6. Save, load and predict");
string zip = Path.Combine(settings.OutputFolder, "lfu-model.zip");
mlContext.Model.Save(model, trainData.Schema, zip);
Console.WriteLine($"Saved the ML.NET model: {zip} ({new FileInfo(zip).Length / 1024.0:F0} KiB; the base model is referenced, not copied)");
string adapter = Path.Combine(settings.OutputFolder, "adapter");
model.Model!.SaveAdapter(adapter);
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

// The base model is not an ML.NET transformer: generate with it directly, then evaluate the same way.
NumericAnswerMetrics EvaluateModel(LfUModel lm, IReadOnlyList<QuestionRow> rows)
{
    var generated = lm.Generate(rows.Select(r => r.Prompt).ToList(), generation, batchSize: 32);
    var scored = rows.Zip(generated, (row, text) => new { row.Answer, Generated = text });
    return LfUEvaluator.EvaluateNumericAnswer(mlContext.Data.LoadFromEnumerable(scored));
}

static void Section(string title) => Console.WriteLine($"{Environment.NewLine}== {title}");

static string Indent(string text) => text.Replace("\n", "\n              ");
