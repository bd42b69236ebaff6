using LfU.MLNet.Tokenization;
using System.Diagnostics;
using System.Security.Cryptography;
using LfU.MLNet.Adapters;
using LfU.MLNet.Model;
using LfU.MLNet.Native;
using LfU.MLNet.Objectives;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LfU.MLNet.Training;

/// <summary>
/// The training loop: AdamW with a warm-up schedule, token-normalised gradient accumulation, global-norm clipping,
/// seeded shuffling, periodic evaluation and atomic, resumable checkpoints. On the CPU a run is deterministic for a
/// fixed seed, and resuming from a checkpoint reproduces the uninterrupted run bit for bit.
/// </summary>
/// <remarks>
/// The model runs in its weights' dtype: load the base in bfloat16 on CUDA and the LoRA adapter is kept in float32
/// (full fine-tuning keeps float32 master weights). Optimizer step s (0-based) reads micro-batches
/// s·accum … s·accum + accum − 1 of epoch ⌊s / steps-per-epoch⌋, whose order is a seeded shuffle: the data position is
/// a pure function of the step.
/// </remarks>
public sealed class Trainer : IDisposable
{
    /// <summary>torch.nn.utils.clip_grad_norm_'s guard against a zero norm: the same constant, so that clipping matches PyTorch's.</summary>
    const double ClipEpsilon = 1e-6;

    /// <summary>Floor of the elapsed time in the throughput reading, so that a first step faster than the clock's tick divides by no zero.</summary>
    const double MinElapsedSeconds = 1e-9;

    readonly CausalLM _model;
    readonly TrainerOptions _options;
    readonly IReadOnlyList<(string Name, Parameter Parameter)> _trainable;
    readonly ObjectiveStep _objective;
    readonly AdamW _optimizer;
    readonly MemoryProbe _memory;
    readonly Collator _collator;
    readonly ScalarType? _previousComputeDType;
    readonly IO.FolderLock? _checkpointLock;
    readonly TrainerCheckpoints _checkpoints;
    readonly List<string> _warnings = new();
    bool _trained, _objectiveDisposed;

    /// <summary>
    /// Prepares <paramref name="model"/> for training: attaches a fresh LoRA adapter (seeded) or unfreezes every weight.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid, or the model already carries a LoRA adapter.</exception>
    public Trainer(CausalLM model, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        TorchRuntime.EnsureInitialized(model.Device.type == DeviceType.CUDA);
        options.Validate();
        options.Objective.Validate(model.LayerCount);
        if (LoraAdapters.Parameters(model).Count > 0)
            throw new ArgumentException("The model already has a LoRA adapter attached; the trainer attaches its own. Remove it (LoraAdapters.RemoveAll) or merge it first.", nameof(model));
        // One writer per checkpoint folder: a second run there would interleave its checkpoints with ours.
        _checkpointLock = options.CheckpointFolder is null ? null : IO.FolderLock.Acquire(options.CheckpointFolder, "checkpoints");
        if (_checkpointLock?.TakeOverWarning is { } warning) _warnings.Add(warning);
        try
        {
            _model = model;
            _options = options;
            _previousComputeDType = model.ComputeDType;
            var compute = options.Precision is { } precision ? ComputePrecision.Resolve(precision, model.Device) : null;
            if (compute is not null) model.ComputeDType = compute;
            var masterType = model.DType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
            _trainable = options.FineTuning == FineTuning.Lora
                ? LoraAdapters.Attach(model, options.Lora, options.Seed, masterType)
                : model.named_parameters().Select(p => (p.name, p.parameter)).ToList();
            foreach (var (_, p) in _trainable) p.requires_grad = true;
            // Built after the trainable weights exist: L1/L2 anchor on them, and full-FT LfU attaches its auxiliary LoRA here.
            _objective = options.Objective.CreateStep(new ObjectiveContext(model, _trainable.Select(t => t.Parameter).ToList(), options.Seed));
            // LoRA: one flat buffer for the adapters (few launches per step); full fine-tuning keeps the weights where they are.
            _optimizer = new AdamW(_trainable.Select(t => t.Parameter).ToList(), options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay,
                flatten: options.FineTuning == FineTuning.Lora);
            _memory = new MemoryProbe(model.Device);
            _checkpoints = new TrainerCheckpoints(model, options, _trainable, _optimizer, _objective, compute);
            _collator = new Collator(checked((int)options.PadTokenId), options.PadToMultipleOf);
        }
        catch
        {
            _checkpointLock?.Dispose();
            throw;
        }
    }

    /// <summary>Things the user should know, e.g. that the checkpoint folder's lock was taken over from a run that died.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>The model being trained.</summary>
    public CausalLM Model => _model;

    /// <summary>The trained parameters by name (PEFT names for LoRA, Hugging Face names for full fine-tuning).</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters => _trainable;

    /// <summary>
    /// Trains on <paramref name="train"/>. Call once per trainer.
    /// </summary>
    /// <param name="train">Tokenized training examples.</param>
    /// <param name="validation">Optional examples scored (mean SFT loss) every <see cref="TrainerOptions.EvaluateEverySteps"/> and at the end.</param>
    /// <param name="progress">Receives every step's metrics.</param>
    /// <param name="resumeFrom">A checkpoint folder (or a folder of checkpoints: the newest is used) to continue from.</param>
    /// <param name="cancellationToken">Checked between steps; on cancellation a checkpoint is written (when a checkpoint folder is set) and <see cref="OperationCanceledException"/> is thrown.</param>
    /// <exception cref="TrainingDivergedException">A loss or gradient became NaN or infinite.</exception>
    public TrainingResult Train(IReadOnlyList<TrainingExample> train, IReadOnlyList<TrainingExample>? validation = null,
        IProgress<TrainingProgress>? progress = null, string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (_trained) throw new InvalidOperationException("Train was already called on this trainer; create a new Trainer (and resume from a checkpoint) to train further.");
        _trained = true;
        ExampleValidation.Validate(train, _model.Config.VocabSize, "training");
        if (validation is not null) ExampleValidation.Validate(validation, _model.Config.VocabSize, "validation");

        int B = _options.BatchSize, accumulation = _options.GradientAccumulationSteps;
        int microPerEpoch = (train.Count + B - 1) / B;
        int stepsPerEpoch = (microPerEpoch + accumulation - 1) / accumulation;
        int totalSteps = _options.MaxSteps ?? checked(_options.Epochs * stepsPerEpoch);
        string fingerprint = Fingerprint(train);

        // LoRA dropout draws from torch's global generators: seed them, as Hugging Face's Trainer does. A resume restores
        // the CPU generator's state; TorchSharp cannot read CUDA generator states, so CUDA gets a seed derived from the step.
        random.manual_seed(_options.Seed);
        if (_model.Device.type == DeviceType.CUDA) cuda.manual_seed_all(_options.Seed);
        string? resumedFrom = null;
        TrainerState? resumed = null;
        if (resumeFrom is not null)
        {
            resumedFrom = TrainingCheckpoint.Resolve(resumeFrom);
            resumed = _checkpoints.Restore(resumedFrom, fingerprint, totalSteps);
            if (_model.Device.type == DeviceType.CUDA) cuda.manual_seed_all(SeedStreams.Derive(_options.Seed, SeedStreams.CudaAfterResume, resumed.Step));
        }
        var run = new TrainingRun
        {
            Train = train, Validation = validation, Progress = progress, CancellationToken = cancellationToken,
            DataFingerprint = fingerprint, StartStep = resumed?.Step ?? 0, TotalSteps = totalSteps, StepsPerEpoch = stepsPerEpoch,
            MicroBatchesPerEpoch = microPerEpoch, WarmupSteps = LearningRates.WarmupSteps(_options.WarmupRatio, totalSteps),
            ResumedFrom = resumedFrom, LastCheckpoint = resumedFrom,
        };
        if (resumed is not null)
        {
            run.History.AddRange(resumed.History);
            run.Validations.AddRange(resumed.Validations);
        }

        try
        {
            return Loop(run);
        }
        finally
        {
            // Full-FT LfU's auxiliary LoRA goes now, so the returned model is exactly the trained one.
            DisposeObjective();
        }
    }

    TrainingResult Loop(TrainingRun run)
    {
        int B = _options.BatchSize, accumulation = _options.GradientAccumulationSteps;
        int start = run.StartStep, totalSteps = run.TotalSteps, stepsPerEpoch = run.StepsPerEpoch;
        var train = run.Train;
        _model.train();
        var clock = Stopwatch.StartNew();
        long sessionTokens = 0;
        int[]? order = null;
        int orderEpoch = -1;
        int? checkpointedStep = run.ResumedFrom is null ? null : start;

        for (int step = start; step < totalSteps; step++)
        {
            if (run.CancellationToken.IsCancellationRequested)
            {
                if (_options.CheckpointFolder is not null && checkpointedStep != step)
                    _checkpoints.Save(step, run);
                run.CancellationToken.ThrowIfCancellationRequested();
            }
            var stepClock = Stopwatch.StartNew();
            int epoch = step / stepsPerEpoch;
            if (epoch != orderEpoch) (order, orderEpoch) = (SeedStreams.Shuffle(train.Count, SeedStreams.Derive(_options.Seed, SeedStreams.EpochOrder, epoch)), epoch);
            int firstMicro = step % stepsPerEpoch * accumulation;
            int lastMicro = Math.Min(firstMicro + accumulation, run.MicroBatchesPerEpoch);

            var micro = Enumerable.Range(firstMicro, lastMicro - firstMicro)
                .Select(m => order!.Skip(m * B).Take(B).Select(i => train[i]).ToList()).ToList();
            long tokens = micro.Sum(batch => batch.Sum(e => (long)e.InputIds.Length));
            var losses = RunStep(step, micro, train, out double gradNorm, out string? divergence);
            if (divergence is not null)
                throw new TrainingDivergedException(step + 1, divergence, _checkpoints.SetAsideBadCheckpoints(step, run.ResumedFrom), run.History, run.Validations);
            double learningRate = LearningRates.At(_options.Schedule, _options.LearningRate, step, totalSteps, run.WarmupSteps);
            _optimizer.Step(learningRate);
            if (_model.Device.type == DeviceType.CUDA) cuda.synchronize();
            _memory.Sample();

            var metrics = new StepMetrics(step + 1, (double)(step + 1) / stepsPerEpoch, losses!.Sft, losses.Consistency, losses.Penalty,
                losses.Total, learningRate, gradNorm, tokens, stepClock.Elapsed.TotalSeconds)
            {
                Alpha = losses.Alpha, Lambda = losses.Lambda, RelativeChange = losses.RelativeChange, GradientRatio = losses.GradientRatio,
            };
            run.History.Add(metrics);
            sessionTokens += tokens;

            bool last = step + 1 == totalSteps;
            ValidationResult? evaluation = null;
            if (run.Validation is not null && (last || (_options.EvaluateEverySteps is int every && (step + 1) % every == 0)))
            {
                evaluation = Evaluate(run.Validation, step + 1);
                run.Validations.Add(evaluation);
            }
            if (_options.CheckpointFolder is not null && (last || (_options.CheckpointEverySteps is int save && (step + 1) % save == 0)))
            {
                run.LastCheckpoint = _checkpoints.Save(step + 1, run);
                checkpointedStep = step + 1;
            }

            var elapsed = clock.Elapsed;
            int done = step + 1 - start;
            run.Progress?.Report(new TrainingProgress(metrics, totalSteps, elapsed, elapsed / done * (totalSteps - step - 1),
                sessionTokens / Math.Max(elapsed.TotalSeconds, MinElapsedSeconds), evaluation, _memory.PeakBytes));
        }
        // Writing kept the newest verified checkpoint besides the newest (see TrainingCheckpoint.Write); a finished run needs it no more.
        if (_options.CheckpointFolder is { } root) TrainingCheckpoint.Prune(root, _options.KeepCheckpoints);
        return new TrainingResult(run.History, run.Validations, run.LastCheckpoint, _memory.PeakBytes);
    }

    /// <summary>
    /// Accumulates the gradient of one optimizer step, clips it and checks that it is finite. Returns token-weighted losses,
    /// or sets <paramref name="divergence"/> to what was not finite (the gradient is then not to be applied).
    /// </summary>
    /// <remarks>
    /// Everything up to the optimizer runs on the device without waiting for it: the micro-batches' losses are summed
    /// as device scalars and clipping is a device-side coefficient (as torch.nn.utils.clip_grad_norm_ does it). The
    /// step's numbers come to the host in one transfer, after the backward passes and before the update, because a
    /// non-finite loss or gradient must stop training before it reaches the weights.
    /// </remarks>
    StepLosses? RunStep(int step, List<List<TrainingExample>> micro, IReadOnlyList<TrainingExample> train, out double gradNorm, out string? divergence)
    {
        using var scope = NewDisposeScope();
        gradNorm = double.NaN;
        divergence = null;
        foreach (var (_, p) in _trainable) p.grad = null;
        var batches = micro.Select(Collate).ToList();
        var predicted = batches.Select(b => b.PredictedTokens()).ToArray();
        double totalPredicted = predicted.Sum();
        Tensor? sft = null, total = null, consistency = null, penalty = null, relativeChange = null, gradientRatio = null;
        StepLossTensors? last = null;
        static Tensor Add(Tensor? sum, Tensor value, double weight) => sum is null ? value * weight : sum + value * weight;
        for (int m = 0; m < batches.Count; m++)
        {
            double weight = predicted[m] / totalPredicted;
            TokenBatch? ascent = _options.Objective.Cost.NeedsAscentBatch
                ? Collate(AscentExamples(train, step, m))
                : null;
            var l = _objective.AccumulateOnDevice(batches[m], ascent, weight);
            sft = Add(sft, l.Sft, weight);
            total = Add(total, l.Total, weight);
            if (l.Consistency is not null) consistency = Add(consistency, l.Consistency, weight);
            if (l.Penalty is not null) penalty = Add(penalty, l.Penalty, weight);
            if (l.RelativeChange is not null) relativeChange = Add(relativeChange, l.RelativeChange, weight);
            if (l.GradientRatio is not null) gradientRatio = Add(gradientRatio, l.GradientRatio, weight);
            last = l;
        }

        var grads = _trainable.Select(t => t.Parameter.grad).Where(g => g is not null && !g.IsInvalid).Select(g => g!).ToList();
        var norm = grads.Count == 0
            ? tensor(0.0, ScalarType.Float64, _model.Device)
            : ObjectiveStep.GlobalNorm(grads);
        // torch.nn.utils.clip_grad_norm_: multiply by min(1, max / (norm + 1e-6)), on the device. (× 1 changes no bit.)
        if (_options.MaxGradNorm is double max && max > 0)
        {
            var coefficient = (max / (norm + ClipEpsilon)).clamp_max(1.0);
            using (no_grad())
                foreach (var g in grads) g.mul_(coefficient.to(g.dtype));
        }
        // α and λ of the last micro-batch; the readings token-weighted like the losses.
        var losses = new StepLossTensors(sft!, consistency, norm, penalty, total!)
        {
            Alpha = last!.Alpha, Lambda = last.Lambda, RelativeChange = relativeChange, GradientRatio = gradientRatio,
        }.Read();
        gradNorm = losses.AscentGradNorm!.Value; // the record's norm slot carries the clipping norm here
        if (!double.IsFinite(losses.Total) || !double.IsFinite(losses.Sft))
            divergence = $"the loss is {losses.Total} (SFT {losses.Sft}, consistency {losses.Consistency?.ToString() ?? "n/a"})";
        else if (!double.IsFinite(gradNorm))
            divergence = $"the gradient norm is {gradNorm}";
        return divergence is null ? losses with { AscentGradNorm = null } : null;
    }

    TokenBatch Collate(IReadOnlyList<TrainingExample> examples) => _collator.CollateForTraining(examples).To(_model.Device);

    /// <summary>LfU's independent ascent batch for micro-batch <paramref name="micro"/> of step <paramref name="step"/>: a seeded draw without replacement.</summary>
    List<TrainingExample> AscentExamples(IReadOnlyList<TrainingExample> train, int step, int micro) =>
        SeedStreams.Shuffle(train.Count, SeedStreams.Derive(_options.Seed, SeedStreams.AscentBatch, (long)step * _options.GradientAccumulationSteps + micro))
            .Take(_options.BatchSize).Select(i => train[i]).ToList();

    /// <summary>Mean SFT loss over all response tokens of <paramref name="examples"/>, in evaluation mode.</summary>
    ValidationResult Evaluate(IReadOnlyList<TrainingExample> examples, int step)
    {
        _model.eval();
        try
        {
            double weighted = 0;
            long tokens = 0;
            using var _ = no_grad();
            for (int start = 0; start < examples.Count; start += _options.BatchSize)
            {
                using var scope = NewDisposeScope();
                var batch = Collate(examples.Skip(start).Take(_options.BatchSize).ToList());
                long n = batch.PredictedTokens();
                var loss = _model.Forward(batch.InputIds, new ForwardOptions { AttentionMask = batch.AttentionMask, Labels = batch.Labels, PositionIds = batch.PositionIds }).Loss!;
                weighted += loss.to(ScalarType.Float64).item<double>() * n;
                tokens += n;
            }
            return new ValidationResult(step, weighted / tokens, tokens);
        }
        finally
        {
            _model.train();
        }
    }

    static string Fingerprint(IReadOnlyList<TrainingExample> examples)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var e in examples)
        {
            hash.AppendData(BitConverter.GetBytes(e.InputIds.Length));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(e.InputIds.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(e.Labels.AsSpan()));
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    void DisposeObjective()
    {
        if (_objectiveDisposed) return;
        _objectiveDisposed = true;
        _objective.Dispose();
    }

    /// <summary>Removes the objective's auxiliary state and freezes the weights again; a trained LoRA adapter stays attached.</summary>
    public void Dispose()
    {
        DisposeObjective();
        _checkpointLock?.Dispose();
        _model.ComputeDType = _previousComputeDType;
        _optimizer.Dispose();
        foreach (var (_, p) in _trainable)
        {
            if (p.IsInvalid) continue;
            p.grad = null;
            if (_options.FineTuning == FineTuning.Full) p.requires_grad = false;
        }
    }
}
