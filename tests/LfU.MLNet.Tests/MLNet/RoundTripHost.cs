using System.Text.Json;
using Microsoft.ML;

namespace LfU.MLNet.Tests.MLNet;

/// <summary>
/// Entry point of the test assembly when run as a program (<c>dotnet LfU.MLNet.Tests.dll load-and-transform
/// model.zip rows.json</c>): loads a saved model in a fresh process, transforms the rows and prints the outputs as
/// JSON, so that tests can check a model zip round-trips across processes. Works for any saved LfU model: the
/// fake model's loader is registered by its module initializer, the real <see cref="LfUModel"/>'s by the library's.
/// </summary>
internal static class RoundTripHost
{
    public const string Verb = "load-and-transform";

    public static int Main(string[] args)
    {
        if (args.Length != 3 || args[0] != Verb)
        {
            Console.Error.WriteLine($"usage: LfU.MLNet.Tests {Verb} <model.zip> <rows.json>");
            return 2;
        }
        var rows = JsonSerializer.Deserialize<List<PromptResponseRow>>(File.ReadAllText(args[2]))!;
        var mlContext = new MLContext(seed: 1);
        var transformer = mlContext.Model.Load(args[1], out _);
        var outputs = TransformerTestData.Run(mlContext, transformer, rows);
        Console.WriteLine(JsonSerializer.Serialize(new { Type = transformer.GetType().FullName, Outputs = outputs }));
        (transformer as IDisposable)?.Dispose();
        return 0;
    }

    /// <summary>Runs this test assembly as a program in a new process and returns its standard output.</summary>
    public static string Run(params string[] args) =>
        ChildProcess.RunDotnet(typeof(RoundTripHost).Assembly.Location, args).EnsureSuccess().Out;
}
