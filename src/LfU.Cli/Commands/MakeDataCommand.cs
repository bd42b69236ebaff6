using System.CommandLine;
using System.Globalization;
using LfU.MLNet.Benchmark;
using LfU.MLNet.Tokenization;

namespace LfU.Cli.Commands;

/// <summary><c>lfu make-data</c>: generates the mini-world benchmark data and optionally trains its tokenizer.</summary>
internal static class MakeDataCommand
{
    internal static Command Create()
    {
        var defaults = new MiniWorldOptions();
        var output = new Option<string>("--output", "-o")
        {
            Description = "Folder for the JSONL files, templates.json and manifest.json (created if missing).",
            Required = true,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of every split.", DefaultValueFactory = _ => defaults.Seed };
        var pretrainSize = new Option<int>("--pretrain-size")
        {
            Description = "Number of pretraining examples.",
            DefaultValueFactory = _ => defaults.PretrainSize,
        };
        var finetuneTrain = new Option<int>("--finetune-train-size")
        {
            Description = "Number of fine-tuning training examples.",
            DefaultValueFactory = _ => defaults.FineTuneTrainSize,
        };
        var finetuneTest = new Option<int>("--finetune-test-size")
        {
            Description = "Number of held-out fine-tuning test examples.",
            DefaultValueFactory = _ => defaults.FineTuneTestSize,
        };
        var oodSize = new Option<int>("--ood-size")
        {
            Description = "Number of examples in each out-of-domain test set (knowledge, math, reasoning).",
            DefaultValueFactory = _ => defaults.OodMathSize,
        };
        var tokenizerOutput = new Option<string?>("--tokenizer-output")
        {
            Description = "Also train a byte-level BPE tokenizer on the pretraining data and write tokenizer.json and tokenizer_config.json here.",
        };
        var vocabSize = new Option<int>("--vocab-size")
        {
            Description = "Vocabulary size of the tokenizer, special tokens included.",
            DefaultValueFactory = _ => 1024,
        };
        var splitDigits = new Option<bool>("--split-digits")
        {
            Description = "Pre-tokenize digits one by one (Qwen2's pattern) instead of in groups of up to three (Llama 3's); easier arithmetic for small models.",
        };
        var modelMaxLength = new Option<int>("--model-max-length")
        {
            Description = "model_max_length written to tokenizer_config.json.",
            DefaultValueFactory = _ => 512,
        };

        var overwrite = OutputFolder.OverwriteOption("Replace what --output (and --tokenizer-output) hold; the new files are swapped in only once all are written.");

        // Bad numbers are argument errors, caught before anything is written.
        foreach (var option in new[] { pretrainSize, finetuneTrain, finetuneTest, modelMaxLength })
            CliOptions.AtLeast(option, 1);
        CliOptions.AtLeast(oodSize, 1, MiniWorldOptions.MaxOodSize);
        CliOptions.AtLeast(vocabSize, BpeTrainer.MinimumVocabSize);
        CliOptions.AtLeast(seed, int.MinValue);

        var command = new Command("make-data",
            "Generate the mini-world forgetting benchmark (pretraining mixture, fine-tuning task, out-of-domain tests, paraphrased templates), deterministically for a seed.")
        {
            output, seed, pretrainSize, finetuneTrain, finetuneTest, oodSize, tokenizerOutput, vocabSize, splitDigits, modelMaxLength, overwrite,
        };
        command.SetAction(parsed =>
        {
            string outputDirectory = parsed.GetValue(output)!;
            string? tokenizerDirectory = parsed.GetValue(tokenizerOutput);
            bool replace = parsed.GetValue(overwrite);
            using var dataFolder = OutputFolder.Open(outputDirectory, replace);
            // The tokenizer may go into the data folder itself: then both are written (and swapped in) together.
            using var tokenizerFolder = tokenizerDirectory is null || Path.GetFullPath(tokenizerDirectory) == dataFolder.Target ? null
                : OutputFolder.Open(tokenizerDirectory, replace, "--tokenizer-output");
            var options = new MiniWorldOptions
            {
                Seed = parsed.GetValue(seed),
                PretrainSize = parsed.GetValue(pretrainSize),
                FineTuneTrainSize = parsed.GetValue(finetuneTrain),
                FineTuneTestSize = parsed.GetValue(finetuneTest),
                OodKnowledgeSize = parsed.GetValue(oodSize),
                OodMathSize = parsed.GetValue(oodSize),
                OodReasoningSize = parsed.GetValue(oodSize),
            };
            var data = MiniWorld.Generate(options);
            string regenerate = string.Create(CultureInfo.InvariantCulture,
                $"lfu make-data --output {outputDirectory} --seed {options.Seed} --pretrain-size {options.PretrainSize} " +
                $"--finetune-train-size {options.FineTuneTrainSize} --finetune-test-size {options.FineTuneTestSize} --ood-size {options.OodMathSize}");
            MiniWorldFiles.Write(data, dataFolder.Path, regenerate);
            TrainedBpe? bpe = null;
            if (tokenizerDirectory is not null)
            {
                bpe = BpeTrainer.Train(MiniWorld.TokenizerCorpus(data.Pretrain), parsed.GetValue(vocabSize), parsed.GetValue(splitDigits));
                bpe.Save(tokenizerFolder?.Path ?? dataFolder.Path, parsed.GetValue(modelMaxLength));
            }
            dataFolder.Commit();
            tokenizerFolder?.Commit();
            Console.WriteLine($"Wrote mini world {MiniWorld.GeneratorVersion} (seed {options.Seed}) to {outputDirectory}:");
            foreach (var (file, items) in MiniWorldFiles.Splits(data)) Console.WriteLine($"  {file,-32} {items.Count,7} examples");
            if (bpe is not null)
                Console.WriteLine($"Wrote a byte-level BPE tokenizer ({bpe.VocabSize} tokens, {bpe.Merges.Count} merges) to {tokenizerDirectory}.");
            return 0;
        });
        return command;
    }
}
