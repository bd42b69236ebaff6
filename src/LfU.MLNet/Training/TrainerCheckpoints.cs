using System.Globalization;
using System.Text.Json;
using LfU.MLNet.Adapters;
using LfU.MLNet.Checkpoints;
using LfU.MLNet.Model;
using LfU.MLNet.Objectives;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// The trainer's state in checkpoints: writes the trainable weights, the optimizer's state, the random generators, the
/// objective's running state and the loop's records into a <see cref="TrainingCheckpoint"/> folder, and restores them,
/// after checking that the checkpoint belongs to this run, so that a resume continues bit for bit.
/// </summary>
internal sealed class TrainerCheckpoints
{
    readonly CausalLM _model;
    readonly TrainerOptions _options;
    readonly IReadOnlyList<(string Name, Parameter Parameter)> _trainable;
    readonly AdamW _optimizer;
    readonly ObjectiveStep _objective;
    readonly ScalarType? _computeDType;
    readonly List<LearningRateChange> _learningRateChanges = new();

    /// <param name="computeDType">What <see cref="TrainerOptions.Precision"/> resolved to on the model's device (null: the weights' dtype).</param>
    public TrainerCheckpoints(CausalLM model, TrainerOptions options, IReadOnlyList<(string Name, Parameter Parameter)> trainable,
        AdamW optimizer, ObjectiveStep objective, ScalarType? computeDType)
    {
        _model = model;
        _options = options;
        _trainable = trainable;
        _optimizer = optimizer;
        _objective = objective;
        _computeDType = computeDType;
    }

    /// <summary>Writes the checkpoint of <paramref name="step"/> completed steps of <paramref name="run"/> and returns its folder.</summary>
    public string Save(int step, TrainingRun run)
    {
        return TrainingCheckpoint.Write(_options.CheckpointFolder!, step, _options.KeepCheckpoints, folder =>
        {
            using var scope = NewDisposeScope();
            if (_options.FineTuning == FineTuning.Lora) PeftAdapter.Save(_model, _options.Lora, folder);
            else PretrainedModel.Save(_model, folder);
            var names = _trainable.Select(t => t.Name).ToList();
            SafeTensorsWriter.Write(Path.Combine(folder, TrainingCheckpoint.OptimizerFile), _optimizer.State(names),
                new Dictionary<string, string> { ["step"] = _optimizer.StepCount.ToString(CultureInfo.InvariantCulture) });
            SafeTensorsWriter.Write(Path.Combine(folder, TrainingCheckpoint.RngFile), new[]
            {
                ("objective", _objective.Random.get_state()),
                ("cpu_default", torch.random.get_rng_state()),
            });
            if (_objective.State is { } objectiveState)
                SafeTensorsWriter.Write(Path.Combine(folder, TrainingCheckpoint.ObjectiveStateFile), new[] { ("state", objectiveState.cpu()) });
            TrainingCheckpoint.WriteState(folder, new TrainerState(step, run.TotalSteps, step / run.StepsPerEpoch, run.DataFingerprint,
                TrajectoryOptions(), run.History, run.Validations, _learningRateChanges));
        });
    }

    /// <summary>
    /// Loads the checkpoint in <paramref name="folder"/> into the weights, the optimizer, the generators and the objective,
    /// and returns the loop's state. Refuses a checkpoint of other data, another run length or other options (except a
    /// lower learning rate, which is how a diverged run is continued).
    /// </summary>
    public TrainerState Restore(string folder, string fingerprint, int totalSteps)
    {
        var state = TrainingCheckpoint.ReadState(folder);
        var saved = WithPrecisionSetting(state.Options);
        var now = TrajectoryOptions();
        // A lower learning rate is how a diverged run is continued: allowed, and recorded in the checkpoints' state.
        double savedRate = saved.TryGetProperty(nameof(TrainerOptions.LearningRate), out var rate) && rate.ValueKind == JsonValueKind.Number ? rate.GetDouble() : double.NaN;
        var comparable = _options.LearningRate < savedRate ? TrajectoryOptions(savedRate) : now;
        if (!JsonElement.DeepEquals(saved, comparable))
        {
            var differing = DifferingFields(saved, comparable);
            throw new ArgumentException($"Checkpoint '{folder}' was written with different training options ({string.Join(", ", differing)}); " +
                "resume with the options it was written with (only a lower LearningRate is allowed).");
        }
        _learningRateChanges.AddRange(state.LearningRateChanges ?? []);
        if (_options.LearningRate < savedRate) _learningRateChanges.Add(new LearningRateChange(state.Step, savedRate, _options.LearningRate));
        if (state.DataFingerprint != fingerprint)
            throw new ArgumentException($"Checkpoint '{folder}' was written for different training data; resume with the same examples in the same order.");
        if (state.TotalSteps != totalSteps || state.Step > totalSteps)
            throw new ArgumentException($"Checkpoint '{folder}' belongs to a run of {state.TotalSteps} steps; this run has {totalSteps}.");

        using var scope = NewDisposeScope();
        using (no_grad())
        {
            string weights = _options.FineTuning == FineTuning.Lora ? Path.Combine(folder, PeftAdapter.WeightsFile) : folder;
            using var reader = CheckpointReader.OpenFolder(weights);
            foreach (var (name, parameter) in _trainable)
            {
                if (!reader.Contains(name)) throw new InvalidDataException($"Checkpoint '{folder}' lacks trainable weight '{name}'.");
                parameter.copy_(reader.Read(name));
            }
        }
        using (var optimizer = SafeTensorsFile.Open(Path.Combine(folder, TrainingCheckpoint.OptimizerFile)))
        {
            if (!optimizer.Metadata.TryGetValue("step", out string? stepText) || !long.TryParse(stepText, out long optimizerSteps))
                throw new InvalidDataException($"{optimizer.Path}: the optimizer step count (metadata 'step') is missing.");
            _optimizer.Load(_trainable.Select(t => t.Name).ToList(), name =>
                optimizer.Tensors.ContainsKey(name) ? optimizer.Read(name) : throw new InvalidDataException($"{optimizer.Path}: optimizer state '{name}' is missing."), optimizerSteps);
        }
        using (var rng = SafeTensorsFile.Open(Path.Combine(folder, TrainingCheckpoint.RngFile)))
        {
            _objective.Random.set_state(rng.Read("objective"));
            torch.random.set_rng_state(rng.Read("cpu_default"));
        }
        string objectiveFile = Path.Combine(folder, TrainingCheckpoint.ObjectiveStateFile);
        if (_objective.State is not null)
        {
            if (!File.Exists(objectiveFile))
                throw new InvalidDataException($"Checkpoint '{folder}' lacks {TrainingCheckpoint.ObjectiveStateFile}, the objective's running state (LfU's calibration); it was not written by a calibrated run.");
            using var objective = SafeTensorsFile.Open(objectiveFile);
            _objective.LoadState(objective.Read("state"));
        }
        return state;
    }

    /// <summary>
    /// The newest checkpoint whose weights came before the update that made step <paramref name="step"/> (0-based)
    /// diverge: that step ran on the weights of <paramref name="step"/> updates, so checkpoint-<paramref name="step"/>
    /// (and any later one) holds the bad update. Those are renamed diverged-checkpoint-N, out of a resume's way.
    /// </summary>
    public string? SetAsideBadCheckpoints(int step, string? resumedFrom)
    {
        var good = new List<(int Step, string Path)>();
        if (_options.CheckpointFolder is { } root)
        {
            foreach (var (saved, path) in TrainingCheckpoint.List(root))
            {
                if (saved >= step) TrainingCheckpoint.SetAside(path);
                else good.Add((saved, path));
            }
        }
        if (resumedFrom is not null && Directory.Exists(resumedFrom) && TrainingCheckpoint.ReadState(resumedFrom).Step < step)
            good.Add((TrainingCheckpoint.ReadState(resumedFrom).Step, resumedFrom));
        return good.Count == 0 ? null : good.MaxBy(c => c.Step).Path;
    }

    /// <summary>
    /// Checkpoints written before the compute precision became one setting recorded the resolved dtype
    /// (<c>ComputeDType</c>: null or BFloat16); read those as the precision that computes in it, so they still resume.
    /// </summary>
    static JsonElement WithPrecisionSetting(JsonElement options)
    {
        if (!options.TryGetProperty("ComputeDType", out var dtype) || options.TryGetProperty(nameof(TrainerOptions.Precision), out _)) return options;
        string? precision;
        if (dtype.ValueKind == JsonValueKind.Null) precision = null;
        else if (dtype.ValueKind == JsonValueKind.String && dtype.GetString() == nameof(ScalarType.BFloat16)) precision = BFloat16Precision;
        else return options; // another dtype: no precision computes in it, and the comparison says so
        var fields = options.EnumerateObject().Where(p => p.Name != "ComputeDType").ToDictionary(p => p.Name, p => p.Value);
        fields[nameof(TrainerOptions.Precision)] = JsonSerializer.SerializeToElement(precision);
        return JsonSerializer.SerializeToElement(fields);
    }

    /// <summary>How the trajectory records a precision that computes in bfloat16.</summary>
    const string BFloat16Precision = "bf16";

    /// <summary>
    /// The options that shape the trajectory (a resume must use the same ones), as JSON. The precision is recorded as
    /// what it computes in on this device (bf16 or null, the weights' dtype): <c>auto</c>, <c>fp32</c> and none compare
    /// by their effect, as the resolved dtype did before.
    /// </summary>
    JsonElement TrajectoryOptions(double? learningRate = null) => JsonSerializer.SerializeToElement(
        _options with
        {
            CheckpointFolder = null, CheckpointEverySteps = null, KeepCheckpoints = 1, EvaluateEverySteps = null, LearningRate = learningRate ?? _options.LearningRate,
            Precision = _computeDType == ScalarType.BFloat16 ? BFloat16Precision : null,
        },
        TrainingCheckpoint.Json);

    static IEnumerable<string> DifferingFields(JsonElement saved, JsonElement now)
    {
        var a = saved.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        var b = now.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        string Show(Dictionary<string, JsonElement> d, string k) => d.TryGetValue(k, out var v) ? JsonSerializer.Serialize(v) : "absent";
        return a.Keys.Union(b.Keys)
            .Where(k => !(a.TryGetValue(k, out var x) && b.TryGetValue(k, out var y) && JsonElement.DeepEquals(x, y)))
            .Select(k => $"{k}: checkpoint {Show(a, k)}, now {Show(b, k)}");
    }
}
