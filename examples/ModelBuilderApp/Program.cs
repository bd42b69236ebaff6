// A Model Builder-style app around LfU.MLNet: train a model zip, then serve it at POST /predict.
//
//   dotnet run --project examples/ModelBuilderApp -c Release -- train [--max-steps N] [--model-path FILE]
//   dotnet run --project examples/ModelBuilderApp -c Release [-- --model-path FILE] [--urls http://localhost:5000]
using ModelBuilderApp;

string? modelPath, stepsText;
try
{
    modelPath = OptionValue("--model-path");
    stepsText = OptionValue("--max-steps");
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"modelbuilderapp: error: {e.Message}");
    return 2;
}
if (modelPath is not null) MiniWorldModel.MLNetModelPath = modelPath;

if (args.FirstOrDefault() == "train")
{
    int maxSteps = MiniWorldModel.DefaultMaxSteps;
    if (stepsText is not null && (!int.TryParse(stepsText, out maxSteps) || maxSteps < 1))
    {
        Console.Error.WriteLine($"modelbuilderapp: error: --max-steps needs a positive whole number, not '{stepsText}'.");
        return 2;
    }
    Console.WriteLine($"Training {maxSteps} steps on {MiniWorldModel.RetrainFilePath} ...");
    MiniWorldModel.Train(MiniWorldModel.MLNetModelPath, maxSteps: maxSteps);
    Console.WriteLine($"Saved {MiniWorldModel.MLNetModelPath}");
    return 0;
}

if (!File.Exists(MiniWorldModel.MLNetModelPath))
{
    Console.Error.WriteLine($"modelbuilderapp: error: no trained model at '{MiniWorldModel.MLNetModelPath}'. " +
                            "Train one first: dotnet run --project examples/ModelBuilderApp -c Release -- train");
    return 1;
}
// The options of this app are removed so that ASP.NET Core's configuration only sees its own (--urls, ...).
var app = PredictionServer.Build(WebApplication.CreateBuilder(WithoutOption(args, "--model-path")), MiniWorldModel.MLNetModelPath);
app.Run();
return 0;

string? OptionValue(string name)
{
    int i = Array.IndexOf(args, name);
    if (i < 0) return null;
    return i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{name} needs a value.");
}

static string[] WithoutOption(string[] args, string name)
{
    int i = Array.IndexOf(args, name);
    return i < 0 ? args : [.. args[..i], .. args[Math.Min(i + 2, args.Length)..]];
}
