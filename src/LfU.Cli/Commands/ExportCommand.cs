using System.CommandLine;

namespace LfU.Cli.Commands;

/// <summary>
/// <c>lfu export --model DIR --adapter DIR --output OUT [--merged | --peft]</c>: a complete Hugging Face checkpoint
/// with the adapter merged into the weights (default), or the adapter re-written as a clean PEFT folder.
/// </summary>
internal static class ExportCommand
{
    internal static Command Create()
    {
        var model = CliOptions.ModelOptions.Create(adapterRequired: true);
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder to write.", Required = true }.NotAFile();
        var merged = new Option<bool>("--merged") { Description = "Write a Hugging Face model folder with the adapter merged in (the default)." };
        var peft = new Option<bool>("--peft") { Description = "Write the adapter as a PEFT folder (adapter_config.json + adapter_model.safetensors)." };
        var overwrite = OutputFolder.OverwriteOption("Replace what --output holds; the export is swapped in only once it is complete.");
        var command = new Command("export", "Export a fine-tuned model: merged into a Hugging Face checkpoint, or as a PEFT adapter.") { output, merged, peft, overwrite };
        foreach (var option in model.All.Where(o => o != model.Template)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            if (parse.GetValue(merged) && parse.GetValue(peft)) throw new CliUsageException("Give --merged or --peft, not both.");
            using var folder = OutputFolder.Open(parse.GetValue(output)!.FullName, parse.GetValue(overwrite));
            using var lm = model.Load(parse, keepCheckpointDType: true);
            if (parse.GetValue(peft))
            {
                lm.SaveAdapter(folder.Path);
                folder.Commit();
                Console.WriteLine($"Wrote the PEFT adapter (r={lm.Lora!.Rank}, alpha={lm.Lora.Alpha}) to {folder.Target}.");
            }
            else
            {
                lm.SaveMerged(folder.Path);
                folder.Commit();
                Console.WriteLine($"Wrote the merged model to {folder.Target}.");
            }
            return 0;
        });
        return command;
    }
}
