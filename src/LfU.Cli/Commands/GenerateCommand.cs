using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using LfU.MLNet;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu generate</c>: answers one --prompt, a JSONL file (--input/--output, adding a "generated" field to each row),
/// prompts piped on standard input (one a line; JSONL {"prompt","generated"} lines out), or, on a terminal, an
/// interactive session.
/// </summary>
internal static class GenerateCommand
{
    internal static Command Create()
    {
        var model = CliOptions.ModelOptions.Create();
        var generation = CliOptions.GenerationOptions.Create();
        var prompt = new Option<string?>("--prompt") { Description = "Answer this one prompt and print the answer." };
        var input = new Option<FileInfo>("--input") { Description = "JSONL (or CSV) with a \"prompt\" field per row; needs --output." }.AcceptExistingOnly();
        var output = new Option<FileInfo>("--output") { Description = "JSONL to write: each input row plus \"generated\"." }.NotAFolder();
        var command = new Command("generate",
            "Generate text: --prompt TEXT, --input FILE --output FILE, prompts piped on stdin (one per line, JSONL out), or an interactive session on a terminal.")
        {
            prompt, input, output,
        };
        foreach (var option in model.All.Concat(generation.All)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string? text = parse.GetValue(prompt);
            var inputFile = parse.GetValue(input);
            var outputFile = parse.GetValue(output);
            if (text is not null && inputFile is not null) throw new CliUsageException("Give either --prompt or --input, not both.");
            if ((inputFile is null) != (outputFile is null)) throw new CliUsageException("--input and --output go together: read prompts from one JSONL file, write the generations to another.");
            var settings = generation.Settings(parse);
            int batch = parse.GetValue(generation.Batch);
            var records = inputFile is null ? null : DataFiles.Read(inputFile.FullName);
            var prompts = records?.Select(r => r.Prompt()).ToList(); // fail on a bad row before loading the model

            using var lm = model.Load(parse);
            if (text is not null) Console.WriteLine(lm.Generate(text, settings));
            else if (records is not null) GenerateFile(lm, records, prompts!, outputFile!.FullName, settings, batch);
            else if (Console.IsInputRedirected) GeneratePiped(lm, settings, batch);
            else Interactive(lm, settings);
            return 0;
        });
        return command;
    }

    static void GenerateFile(LfUModel lm, List<DataRecord> records, List<string> prompts, string outputPath, GenerationSettings settings, int batch)
    {
        var generated = GenerateAll(lm, prompts, settings, batch);
        DataFiles.WriteJsonLines(outputPath, records.Select((r, i) =>
        {
            var row = (JsonObject)r.Fields.DeepClone();
            row["generated"] = generated[i];
            return row;
        }));
        Console.WriteLine($"Wrote {records.Count} generations to {outputPath}.");
    }

    /// <summary>Generates in batches with a progress bar; Ctrl+C stops between batches.</summary>
    internal static List<string> GenerateAll(LfUModel lm, IReadOnlyList<string> prompts, GenerationSettings settings, int batch)
    {
        var results = new List<string>(prompts.Count);
        using var stop = new StopSignals();
        using var progress = ConsoleProgress.OnStandardOutput(printEvery: Math.Max(batch, 50));
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < prompts.Count; start += batch)
        {
            stop.Token.ThrowIfCancellationRequested();
            var chunk = prompts.Skip(start).Take(batch).ToList();
            results.AddRange(lm.Generate(chunk, settings, batch, stop.Token));
            progress.Update("prompt", results.Count, prompts.Count, "", clock.Elapsed / results.Count * (prompts.Count - results.Count));
        }
        return results;
    }

    /// <summary>One prompt per input line; one JSON line per prompt, so that multi-line answers stay one record.</summary>
    static void GeneratePiped(LfUModel lm, GenerationSettings settings, int batch)
    {
        var pending = new List<string>();
        void Flush()
        {
            var answers = lm.Generate(pending, settings, batch);
            for (int i = 0; i < pending.Count; i++)
                Console.WriteLine(DataFiles.ToJsonLine(new JsonObject { ["prompt"] = pending[i], ["generated"] = answers[i] }));
            pending.Clear();
        }
        while (Console.In.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            pending.Add(line);
            if (pending.Count == batch) Flush();
        }
        if (pending.Count > 0) Flush();
    }

    static void Interactive(LfUModel lm, GenerationSettings settings)
    {
        Console.WriteLine($"Template {lm.Template.Name}. Type a prompt and press Enter; an empty line or Ctrl+D quits.");
        while (true)
        {
            Console.Write("> ");
            string? line = Console.ReadLine();
            if (string.IsNullOrWhiteSpace(line)) return;
            Console.WriteLine(lm.Generate(line, settings));
            Console.WriteLine();
        }
    }
}
