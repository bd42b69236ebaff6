using LfU.MLNet.Benchmark;
using LfU.MLNet.Objectives;
using LfU.MLNet.Training;
using Xunit;

namespace LfU.MLNet.Tests.Benchmark;

public class BenchmarkPlanAndReportTests
{
    static BenchmarkOptions Options(string methods, int seeds, params string[] sweeps) => new()
    {
        ModelFolder = "m", DataFolder = "d", OutputFolder = "o", Methods = BenchmarkMethods.ParseList(methods), Seeds = seeds,
        Sweeps = sweeps.Select(Sweep.Parse).ToList(), CommandLine = "lfu benchmark --quick",
    };

    [Fact]
    public void PlanRunsBaseOnceAndSweepsOnlyTheMethodsThatUseTheParameter()
    {
        var plan = BenchmarkRun.Plan(Options("base,sft,lfu-lora", 2, "lambda=1,5,20", "epochs=3"));
        Assert.Equal(
        [
            "base 0 default",
            "sft 1 epochs=10", "sft 1 epochs=3",
            "lfu-lora 1 lambda=5 epochs=10", "lfu-lora 1 lambda=1 epochs=10", "lfu-lora 1 lambda=20 epochs=10", "lfu-lora 1 lambda=5 epochs=3",
            "sft 2 epochs=10", "sft 2 epochs=3",
            "lfu-lora 2 lambda=5 epochs=10", "lfu-lora 2 lambda=1 epochs=10", "lfu-lora 2 lambda=20 epochs=10", "lfu-lora 2 lambda=5 epochs=3",
        ], plan.Select(r => $"{r.Method.Name} {r.Seed} {r.Setting}"));
        Assert.Equal(20, plan.Single(r => r.Seed == 2 && r.Setting.StartsWith("lambda=20")).Hyperparameters.Lambda);
        Assert.Equal(3, plan.Single(r => r.Seed == 1 && r.Method == BenchmarkMethod.Named("sft") && r.Setting == "epochs=3").Hyperparameters.Epochs);
    }

    [Fact]
    public void EachMethodTrainsWithItsObjective()
    {
        var options = Options("sft,lfu-lora,lfu-reps,neftune,l2,lfu-lora-multistep", 1) with { Defaults = Hyperparameters.Default with { Lambda = 7, Alpha = 0.2, RepsAlpha = 1.5, NoiseAlpha = 4, L2Weight = 0.5, AscentSteps = 2 } };
        var benchmark = new ForgettingBenchmark(options, TextWriter.Null);
        var objectives = BenchmarkRun.Plan(options).ToDictionary(r => r.Method, r => benchmark.TrainerOptionsFor(r));
        Assert.IsType<SftObjective>(objectives[BenchmarkMethod.Named("sft")].Objective);
        Assert.Equal(new LfULoraObjective { Lambda = 7, Alpha = 0.2 }, objectives[BenchmarkMethod.Named("lfu-lora")].Objective);
        Assert.Equal(new LfURepsObjective { Lambda = 7, Alpha = 1.5 }, objectives[BenchmarkMethod.Named("lfu-reps")].Objective);
        Assert.Equal(new NEFTuneObjective { NoiseAlpha = 4 }, objectives[BenchmarkMethod.Named("neftune")].Objective);
        Assert.Equal(new L2Objective { Weight = 0.5 }, objectives[BenchmarkMethod.Named("l2")].Objective);
        Assert.Equal(new LfULoraMultiStepObjective { Lambda = 7, Alpha = 0.2, AscentSteps = 2 }, objectives[BenchmarkMethod.Named("lfu-lora-multistep")].Objective);
        var sft = objectives[BenchmarkMethod.Named("sft")];
        Assert.Equal((FineTuning.Lora, 8, 16.0, 3e-3, 10, 16, 1L, LearningRateSchedule.Cosine, 0.1),
            (sft.FineTuning, sft.Lora.Rank, sft.Lora.Alpha, sft.LearningRate, sft.Epochs, sft.BatchSize, sft.Seed, sft.Schedule, sft.WarmupRatio));
    }

    [Theory]
    [InlineData("lambda", "name=v1,v2")]
    [InlineData("gamma=1", "unknown parameter 'gamma'")]
    [InlineData("epochs=1.5", "whole numbers")]
    [InlineData("lambda=1,x", "'x' is not a number")]
    [InlineData("lambda=1,1", "listed twice")]
    [InlineData("lambda=", "no values")]
    [InlineData("lr=-1", "learning rate")]
    [InlineData("epochs=auto", "'auto' is not a number.")]
    [InlineData("lambda=auto,AUTO", "listed twice")]
    public void BadSweepsAreExplained(string spec, string message)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Sweep.Parse(spec));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void EveryRegisteredObjectiveIsAMethodAndReadsTheGridByItsType()
    {
        Assert.Equal(["base", .. ObjectiveRegistry.Names.Order()], BenchmarkMethods.Known.Select(m => m.Name).Order());
        var options = Options("lfu-reps-relative,l1", 1) with { Defaults = Hyperparameters.Default with { Lambda = 7, Alpha = 0.2, RepsAlpha = 0.05, L2Weight = 0.5 } };
        var benchmark = new ForgettingBenchmark(options, TextWriter.Null);
        var objectives = BenchmarkRun.Plan(options).ToDictionary(r => r.Method.Name, r => benchmark.TrainerOptionsFor(r).Objective);
        // The representation-steering kinds take the RepS α, from their type rather than their name.
        Assert.Equal(new LfURepsRelativeObjective { Lambda = 7, Alpha = 0.05 }, objectives["lfu-reps-relative"]);
        Assert.Equal(new L1Objective { Weight = 0.5 }, objectives["l1"]);
        var relative = BenchmarkMethod.Named("LFU-REPS-RELATIVE");
        Assert.Equal("lfu-reps-relative", relative.Name);
        Assert.True(Sweep.Parse("reps-alpha=0.1").Affects(relative));
        Assert.False(Sweep.Parse("alpha=0.1").Affects(relative));
        Assert.True(Sweep.Parse("lambda=1").Affects(relative));
        Assert.False(Sweep.Parse("noise-alpha=1").Affects(relative));
        Assert.False(Sweep.Parse("lr=1e-3").Affects(BenchmarkMethod.Base));
    }

    [Fact]
    public void BadMethodListsAreExplained()
    {
        Assert.Contains("choose from base, sft, lfu-lora, lfu-reps, neftune, l2", Assert.Throws<ArgumentException>(() => BenchmarkMethods.ParseList("sft,lora")).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => BenchmarkMethods.ParseList("sft,SFT")).Message);
        Assert.Equal([BenchmarkMethod.Named("lfu-reps"), BenchmarkMethod.Named("neftune")], BenchmarkMethods.ParseList(" lfu-reps , neftune "));
    }

    static BenchmarkRunResult Result(BenchmarkRun run, double inDomain, double ood) => new(run, inDomain, ood, ood, ood, ood,
        new SortedDictionary<int, double> { [1] = 0.5, [6] = 0.25 }, 0.375, 0.125, run.Trains ? 19 : 0, run.Trains ? 0.5 : null, 40, run.Trains ? 10 : 0, 2, run.Trains ? 12.5 : 2);

    [Fact]
    public void CsvHasOneRowPerRunWithEveryMetric()
    {
        var options = Options("base,lfu-lora", 2, "lambda=1");
        var plan = BenchmarkRun.Plan(options);
        var results = plan.Select((run, i) => Result(run, 0.1 * i, 0.9)).ToList();
        var lines = BenchmarkReport.Csv(results).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + plan.Count, lines.Length);
        Assert.Equal("method,setting,seed,epochs,lr,lambda,alpha,reps_alpha,noise_alpha,l2_weight,ascent_steps,steps,final_loss,in_domain,ood_knowledge,ood_math,ood_reasoning,ood_avg," +
                     "paraphrase_mean,paraphrase_std,paraphrase_t1,paraphrase_t6,generations,train_s,eval_s,wall_s", lines[0]);
        Assert.Equal("base,default,0,10,0.003,5,0.1,1,5,0.01,3,0,,0.0000,0.9000,0.9000,0.9000,0.9000,0.3750,0.1250,0.5000,0.2500,40,0.00,2.00,2.00", lines[1]);
        Assert.StartsWith("lfu-lora,lambda=1,1,10,0.003,1,", lines[3]);
        Assert.All(lines, l => Assert.Equal(26, l.Split(',').Length));
        Assert.Equal("\"a,b\"", BenchmarkReport.CsvField("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", BenchmarkReport.CsvField("say \"hi\""));
    }

    [Fact]
    public void MarkdownSummarisesEachMethodAndSettingOverSeeds()
    {
        var options = Options("base,lfu-lora", 2, "lambda=1");
        var plan = BenchmarkRun.Plan(options);
        var results = plan.Select(run => Result(run, run.Seed == 1 ? 0.5 : 1.0, 0.8)).ToList();
        string markdown = BenchmarkReport.Markdown(results, options, plan.Count);
        Assert.Contains("```\nlfu benchmark --quick\n```", markdown);
        Assert.DoesNotContain("Partial", markdown);
        Assert.Contains("α=1 (additive steering", markdown);
        var rows = markdown.Split('\n').Where(l => l.StartsWith("| ")).ToList();
        Assert.Equal(4, rows.Count); // header + base + two lfu-lora settings
        Assert.StartsWith("| method | setting | seeds | in-domain | OOD knowledge | OOD math | OOD reasoning | OOD avg | OOD Δ vs base |", rows[0]);
        Assert.Equal("| base | default | 1 | 1.000 | 0.800 | 0.800 | 0.800 | 0.800 | 0.000 | 0.375 | 0.125 | 2.0 |", rows[1]);
        Assert.Equal("| lfu-lora | lambda=5 | 2 | 0.750 ± 0.354 | 0.800 ± 0.000 | 0.800 ± 0.000 | 0.800 ± 0.000 | 0.800 ± 0.000 | 0.000 | 0.375 ± 0.000 | 0.125 ± 0.000 | 12.5 ± 0.0 |", rows[2]);
        Assert.StartsWith("| lfu-lora | lambda=1 | 2 |", rows[3]);

        Assert.Contains("**Partial: 2 of 5 runs completed.**", BenchmarkReport.Markdown(results.Take(2).ToList(), options, plan.Count));
        // Without the base model there is no reference for forgetting.
        Assert.Contains("| 0.800 ± 0.000 | n/a |", BenchmarkReport.Markdown(results.Skip(1).ToList(), options, plan.Count));
    }

    [Fact]
    public void AscentStepsAreSweptForTheMultistepMethodAloneAndOlderFilesReadWithTheDefault()
    {
        var plan = BenchmarkRun.Plan(Options("lfu-lora,lfu-lora-multistep", 1, "ascent-steps=1,2"));
        Assert.Equal(["lfu-lora default", "lfu-lora-multistep ascent-steps=3", "lfu-lora-multistep ascent-steps=1", "lfu-lora-multistep ascent-steps=2"],
            plan.Select(r => $"{r.Method.Name} {r.Setting}"));
        Assert.Contains("whole numbers", Assert.Throws<ArgumentException>(() => Sweep.Parse("ascent-steps=1.5")).Message);
        Assert.DoesNotContain(BenchmarkMethod.Named("lfu-lora-multistep"), BenchmarkMethods.All); // listed only when asked for

        // A results.csv written before the column existed: its runs used the default number of steps.
        var results = plan.Select(run => Result(run, 0.5, 0.5)).ToList();
        var lines = BenchmarkReport.Csv(results).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => string.Join(',', l.Split(',').Where((_, i) => i != 10))).ToList(); // drop ascent_steps
        var parsed = BenchmarkReport.ParseCsv(string.Join('\n', lines) + "\n", "old.csv", plan);
        Assert.Equal(["lfu-lora default", "lfu-lora-multistep ascent-steps=3"], parsed.Select(r => $"{r.Run.Method.Name} {r.Run.Setting}"));
    }

    [Fact]
    public void AutoIsACalibratedValueThatSurvivesTheCsv()
    {
        var options = Options("sft,lfu-lora,lfu-reps", 1, "lambda=auto,5", "reps-alpha=auto");
        var plan = BenchmarkRun.Plan(options);
        Assert.Equal(["sft default", "lfu-lora lambda=5", "lfu-lora lambda=auto", "lfu-reps lambda=5 reps-alpha=1", "lfu-reps lambda=auto reps-alpha=1", "lfu-reps lambda=5 reps-alpha=auto"],
            plan.Select(r => $"{r.Method.Name} {r.Setting}"));
        var benchmark = new ForgettingBenchmark(options, TextWriter.Null);
        Assert.Equal(new LfULoraObjective { Calibration = new LfUCalibration { Alpha = false } }, benchmark.TrainerOptionsFor(plan[2]).Objective);
        Assert.Equal(new LfURepsObjective { Lambda = 5, Calibration = new LfUCalibration { Lambda = false } }, benchmark.TrainerOptionsFor(plan[5]).Objective);
        Assert.Null(((LfUObjective)benchmark.TrainerOptionsFor(plan[1]).Objective).Calibration);

        var results = plan.Select(run => Result(run, 0.5, 0.5)).ToList();
        string csv = BenchmarkReport.Csv(results);
        Assert.Contains(",auto,", csv);
        Assert.Equal(plan, BenchmarkReport.ParseCsv(csv, "results.csv", plan).Select(r => r.Run));
        Assert.Contains("lambda = auto, 5", BenchmarkReport.Markdown(results, options, plan.Count));
    }

    [Fact]
    public void CsvParsesBackIntoTheRunsOfAPlan()
    {
        var options = Options("base,lfu-lora", 2, "lambda=1,0.123456789");
        var plan = BenchmarkRun.Plan(options);
        var results = plan.Select((run, i) => Result(run, 0.125 * (i % 8), 0.5)).ToList();
        string csv = BenchmarkReport.Csv(results);
        var parsed = BenchmarkReport.ParseCsv(csv, "results.csv", plan);
        Assert.Equal(BenchmarkReport.Csv(results), BenchmarkReport.Csv(parsed));
        Assert.Equal(plan, parsed.Select(r => r.Run));

        // Rows of runs another plan does not have (other λ, other seeds) are left out.
        var other = BenchmarkRun.Plan(Options("base,lfu-lora", 1, "lambda=1"));
        Assert.Equal(other, BenchmarkReport.ParseCsv(csv, "results.csv", other).Select(r => r.Run));
        Assert.DoesNotContain(BenchmarkReport.ParseCsv(csv, "results.csv", BenchmarkRun.Plan(Options("lfu-lora", 1, "lambda=2"))), r => r.Run.Setting == "lambda=2");

        var e = Assert.Throws<InvalidDataException>(() => BenchmarkReport.ParseCsv(csv.Replace(",0.2500,", ",x,"), "r.csv", plan));
        Assert.Equal("r.csv:2: column 'paraphrase_t6' is 'x', not a number.", e.Message);
        e = Assert.Throws<InvalidDataException>(() => BenchmarkReport.ParseCsv(csv + "base,default\n", "r.csv", plan));
        Assert.Contains("2 fields but the header has 26", e.Message);
        Assert.Equal(["a,b", "say \"hi\"", ""], BenchmarkReport.SplitCsvLine("\"a,b\",\"say \"\"hi\"\"\",", "f", 1));
    }
}
