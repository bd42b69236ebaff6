// The consumer check of scripts/check-consumer.sh: an app that references the packed LfU.MLNet package beside
// Microsoft.ML.ImageAnalytics (SkiaSharp 2.88) runs an image pipeline and a short LfU fine-tune in one process.
using LfU.MLNet;
using LfU.MLNet.Objectives;
using Microsoft.ML;
using Microsoft.ML.Data;

string repo = args.Length == 1 ? args[0] : throw new ArgumentException("usage: consumer-check REPOSITORY_ROOT");
var mlContext = new MLContext(seed: 0);

// 1. ImageAnalytics: LoadImages -> ResizeImages -> ExtractPixels on a generated 8x8 24-bit BMP.
string imageFolder = Directory.CreateTempSubdirectory("lfu-consumer-").FullName;
File.WriteAllBytes(Path.Combine(imageFolder, "red.bmp"), Bmp(8, 8, 255, 0, 0));
var images = mlContext.Data.LoadFromEnumerable(new[] { new ImageRow { ImagePath = "red.bmp" } });
var imagePipeline = mlContext.Transforms.LoadImages("Image", imageFolder, nameof(ImageRow.ImagePath))
    .Append(mlContext.Transforms.ResizeImages("Small", 4, 4, "Image"))
    .Append(mlContext.Transforms.ExtractPixels("Pixels", "Small"));
var pixels = imagePipeline.Fit(images).Transform(images).GetColumn<VBuffer<float>>("Pixels").Single().DenseValues().ToArray();
if (pixels.Length != 4 * 4 * 3 || pixels.Take(16).Any(v => v < 250)) throw new Exception($"unexpected pixels: {pixels.Length} values, first {pixels[0]}");
Console.WriteLine($"image pipeline: {pixels.Length} pixel values, red channel {pixels[0]}");

// 2. LfU: two optimizer steps on the bundled model, then one generation.
var rows = File.ReadLines(Path.Combine(repo, "data", "mini-world", "finetune_train.jsonl")).Take(32)
    .Select(l => System.Text.Json.JsonSerializer.Deserialize<TrainRow>(l, new System.Text.Json.JsonSerializerOptions { PropertyNameCaseInsensitive = true })!).ToList();
var options = new LfUOptions
{
    ModelFolder = Path.Combine(repo, "data", "models", "mini-world"),
    Template = "alpaca",
    Training = new() { Objective = new LfULoraObjective(), MaxSteps = 2, BatchSize = 8 },
};
using var transformer = mlContext.Transforms.Text.FineTuneWithLfU(options).Fit(mlContext.Data.LoadFromEnumerable(rows));
var engine = mlContext.Model.CreatePredictionEngine<Question, Answer>(transformer, new PredictionEngineOptions { OwnsTransformer = false });
Console.WriteLine($"LfU fine-tune: 2 steps; generated: {engine.Predict(new Question { Prompt = rows[0].Prompt }).Generated.Trim().Split('\n')[0]}");
Console.WriteLine("consumer check: OK");

static byte[] Bmp(int width, int height, byte r, byte g, byte b)
{
    int row = (width * 3 + 3) / 4 * 4, size = 54 + row * height;
    var bytes = new byte[size];
    void Int(int at, int value) => BitConverter.GetBytes(value).CopyTo(bytes, at);
    bytes[0] = (byte)'B'; bytes[1] = (byte)'M'; Int(2, size); Int(10, 54); Int(14, 40); Int(18, width); Int(22, height);
    bytes[26] = 1; bytes[28] = 24; Int(34, row * height);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) { int at = 54 + y * row + x * 3; bytes[at] = b; bytes[at + 1] = g; bytes[at + 2] = r; }
    return bytes;
}

sealed class ImageRow { public string ImagePath { get; set; } = ""; }
sealed class TrainRow { public string Prompt { get; set; } = ""; public string Response { get; set; } = ""; }
sealed class Question { public string Prompt { get; set; } = ""; }
sealed class Answer { public string Generated { get; set; } = ""; }
