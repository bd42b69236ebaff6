using System.Text.Json;
using LfU.MLNet.Model;
using LfU.MLNet.Native;
using LfU.MLNet.Tokenization;
using LfU.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LfU.MLNet;

/// <summary>
/// Fine-tunes a Llama-family model on (prompt, response) rows with the LfU objective (or a baseline) and returns an
/// <see cref="LfUTransformer"/> that generates and scores text. Training runs in <see cref="Fit"/>, on TorchSharp.
/// </summary>
/// <example>
/// <code>
/// var pipeline = mlContext.Transforms.Text.FineTuneWithLfU(new LfUOptions { ModelFolder = "models/mini" });
/// using var model = pipeline.Fit(trainData);
/// var predictions = model.Transform(testData);
/// </code>
/// </example>
public sealed class LfUEstimator : IEstimator<LfUTransformer>
{
    readonly IHostEnvironment _env;
    readonly IHost _host;
    readonly LfUOptions _options;

    /// <summary>Creates the estimator; options are checked here and again in <see cref="Fit"/>.</summary>
    public LfUEstimator(MLContext mlContext, LfUOptions options)
        : this((IHostEnvironment)(mlContext ?? throw new ArgumentNullException(nameof(mlContext))), options) { }

    internal LfUEstimator(IHostEnvironment env, LfUOptions options)
    {
        _env = env;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _host = env.Register(nameof(LfUEstimator));
        ValidateOptions();
    }

    /// <summary>MLContext.GpuDeviceId and FallbackToCpu, which live on ML.NET's internal environment.</summary>
    (int? GpuDeviceId, bool FallbackToCpu) GpuSettings() =>
        _env is IHostEnvironmentInternal e ? (e.GpuDeviceId, e.FallbackToCpu) : (null, true);

    void ValidateOptions()
    {
        if (string.IsNullOrWhiteSpace(_options.ModelFolder))
            throw new ArgumentException("LfUOptions.ModelFolder is required: a Hugging Face model folder (config.json, *.safetensors, tokenizer.json).", nameof(LfUOptions.ModelFolder));
        if (_options.CutoffLength < 2) throw new ArgumentOutOfRangeException(nameof(LfUOptions.CutoffLength), _options.CutoffLength, "CutoffLength must be at least 2 tokens.");
        if (_options.InferenceBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(LfUOptions.InferenceBatchSize), _options.InferenceBatchSize, "InferenceBatchSize must be at least 1.");
        if (!Enum.IsDefined(_options.Device)) throw new ArgumentOutOfRangeException(nameof(LfUOptions.Device), _options.Device, "Device must be Auto, Cpu or Cuda.");
        if (_options.Training is null) throw new ArgumentNullException(nameof(LfUOptions.Training), "LfUOptions.Training must not be null.");
        var training = _options.Training;
        if (!Enum.IsDefined(training.FineTuning)) throw new ArgumentOutOfRangeException(nameof(TrainerOptions.FineTuning), training.FineTuning, "FineTuning must be Lora or Full.");
        if (_options.Template is { } template) CheckOption(nameof(LfUOptions.Template), () => PromptTemplates.Resolve(template));
        if (_options.DType is { } dtype) CheckOption(nameof(LfUOptions.DType), () => PretrainedModel.ParseDType(dtype));
        if (training.Objective is null) throw new ArgumentNullException(nameof(TrainerOptions.Objective), "LfUOptions.Training.Objective must not be null.");
        if (training.Lora is null) throw new ArgumentNullException(nameof(TrainerOptions.Lora), "LfUOptions.Training.Lora must not be null.");
        if (_options.Generation is null) throw new ArgumentNullException(nameof(LfUOptions.Generation), "LfUOptions.Generation must not be null.");
        // The layer range of the hidden states is checked against the model once it is loaded; everything else now.
        training.Objective.Validate(layers: int.MaxValue);
        training.Lora.Validate();
        _options.Columns.Validate();
        _options.Generation.Validate();
        training.Validate();
    }

    static void CheckOption(string option, Action check)
    {
        try { check(); }
        catch (ArgumentException e) { throw new ArgumentException($"LfUOptions.{option}: {e.Message}", option, e); }
    }

    /// <summary>
    /// Checks the input columns — the prompt (text) and, for training, the response (text), or the messages column —
    /// and describes the output: the generated text plus, when a response column is present, the two scores.
    /// </summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var columns = inputSchema.ToDictionary(c => c.Name);
        void RequireText(string name, string role)
        {
            if (!inputSchema.TryFindColumn(name, out var column))
                throw new ArgumentOutOfRangeException(nameof(inputSchema),
                    $"The {role} column '{name}' was not found in the input; expected a text (String) column. Input columns: {string.Join(", ", inputSchema.Select(c => c.Name))}.");
            if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
                throw new ArgumentOutOfRangeException(nameof(inputSchema),
                    $"The {role} column '{name}' must be a scalar text (String) column, but it is {Describe(column)}.");
        }
        RequireText(_options.PromptColumnName, "prompt");
        if (_options.MessagesColumnName is { } messages) RequireText(messages, "messages");
        else RequireText(_options.ResponseColumnName, "response");

        var output = columns;
        output[_options.GeneratedColumnName] = Column(_options.GeneratedColumnName, TextDataViewType.Instance);
        if (inputSchema.TryFindColumn(_options.ResponseColumnName, out _))
        {
            output[_options.ScoreMeanColumnName] = Column(_options.ScoreMeanColumnName, NumberDataViewType.Double);
            output[_options.ScoreTotalColumnName] = Column(_options.ScoreTotalColumnName, NumberDataViewType.Double);
        }
        return new SchemaShape(output.Values);
    }

    static SchemaShape.Column Column(string name, DataViewType type) =>
        new(name, SchemaShape.Column.VectorKind.Scalar, type, false);

    static string Describe(SchemaShape.Column c) => c.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => c.ItemType.ToString() ?? c.ItemType.GetType().Name,
        _ => $"a vector of {c.ItemType}",
    };

    /// <summary>Reads the rows, tokenizes them, trains and returns the fitted transformer.</summary>
    /// <remarks>
    /// Stops with an <see cref="OperationCanceledException"/> at the next training step when
    /// <see cref="LfUOptions.CancellationToken"/> is cancelled or, as ML.NET's own trainers do, when the MLContext is
    /// (<c>mlContext.CancelExecution()</c>); either way a checkpoint of the last finished step is written first when
    /// <see cref="TrainerOptions.CheckpointFolder"/> (in <see cref="LfUOptions.Training"/>) is set.
    /// </remarks>
    public LfUTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ValidateOptions();
        GetOutputSchema(SchemaShape.Create(input.Schema));
        // ML.NET cancels by flagging the environment and its hosts, which its trainers poll (CheckAlive) rather than
        // through a token: poll the host between rows and after every step, and cancel the trainer's token from it.
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_options.CancellationToken);
        void PollHost()
        {
            if (_host is ICancelable { IsCanceled: true }) cancellation.Cancel();
            cancellation.Token.ThrowIfCancellationRequested();
        }
        PollHost();
        using var channel = _host.Start("Fit");
        var device = ResolveDevice(channel);
        ScalarType dtype = _options.DType is { } name ? PretrainedModel.ParseDType(name)
            : device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;

        // Everything that can be wrong with the data or the model folder fails here, before any training.
        var baseModel = BaseModel.Load(_options.ModelFolder, _options.Template, dtype, device);
        var network = baseModel.Network;
        network.AttentionImplementation = _options.Attention;
        try
        {
            var job = new FineTuningJob(baseModel, _options.Training, _options.Examples)
            {
                // The host is polled once more before the first step.
                BeforeTraining = PollHost,
            };
            string? messagesName = _options.MessagesColumnName;
            var train = job.BuildExamples(ReadConversations(input, PollHost),
                messagesName is null ? null : (row, e) => new InvalidDataException($"Row {row}, column '{messagesName}': {e.Message}", e));
            var report = train.Report;
            if (report.Total == 0)
                throw new InvalidOperationException("The training data has no rows; give the estimator at least one (prompt, response) row.");
            string summary = $"LfU: training data: {report.Summary(_options.CutoffLength)}.";
            if (report.Skipped.Count > 0 || report.Truncated > 0)
            {
                channel.Warning(summary + " First skipped: " + (report.Skipped.Count == 0 ? "none" :
                    string.Join("; ", report.Skipped.Take(3).Select(s => $"row {s.Index}: {s.Reason}"))) + ".");
            }
            else channel.Info(summary);
            if (train.Examples.Count == 0)
                throw new InvalidOperationException($"None of the {report.Total} rows has anything to learn ({string.Join("; ", report.Skipped.Take(3).Select(s => $"row {s.Index}: {s.Reason}"))}); check the {(messagesName is { } m ? $"messages column '{m}'" : $"response column '{_options.ResponseColumnName}'")}.");

            var training = job.Options;
            channel.Info($"LfU: training {training.FineTuning} with {training.Objective.Describe()} on {train.Examples.Count} examples, {device.type} {dtype}" +
                         (job.ComputeDType is { } compute ? $", computing in {compute}." : "."));
            // The host is polled after each step's report, so the trainer sees the cancellation before the next step.
            var progress = new Progress(channel, _options.Progress, () =>
            {
                if (_host is ICancelable { IsCanceled: true }) cancellation.Cancel();
            });
            var result = job.Train(train, null, progress, _options.ResumeFrom, cancellation.Token).Training;
            channel.Info($"LfU: done after {result.History.Count} steps; final SFT loss {result.Final.Sft:F4}.");

            var model = LfUModel.FromBase(baseModel, _options.ModelFolder, training, _options.EmbedWeightsInSavedModel);
            return new LfUTransformer(_env, model, _options.Columns, _options.Generation, _options.InferenceBatchSize) { TrainingResult = result };
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The rows as conversations (prompt and response, or the messages column's JSON), read lazily with
    /// <paramref name="checkCancelled"/> between rows.</summary>
    IEnumerable<IReadOnlyList<ChatMessage>> ReadConversations(IDataView input, Action checkCancelled)
    {
        string? messagesName = _options.MessagesColumnName;
        var columns = messagesName is not null
            ? new[] { input.Schema[messagesName] }
            : new[] { input.Schema[_options.PromptColumnName], input.Schema[_options.ResponseColumnName] };
        using var cursor = input.GetRowCursor(columns);
        var first = cursor.GetGetter<ReadOnlyMemory<char>>(columns[0]);
        var second = columns.Length > 1 ? cursor.GetGetter<ReadOnlyMemory<char>>(columns[1]) : null;
        ReadOnlyMemory<char> a = default, b = default;
        long row = 0;
        while (cursor.MoveNext())
        {
            checkCancelled();
            first(ref a);
            if (second is null) yield return ParseMessages(a.ToString(), messagesName!, row);
            else
            {
                second(ref b);
                yield return [new ChatMessage("user", a.ToString()), new ChatMessage("assistant", b.ToString())];
            }
            row++;
        }
    }

    static IReadOnlyList<ChatMessage> ParseMessages(string json, string column, long row)
    {
        try
        {
            var messages = JsonSerializer.Deserialize<List<ChatMessage>>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
            if (messages is null || messages.Any(m => m.Role is null || m.Content is null)) throw new JsonException("every message needs \"role\" and \"content\"");
            return messages;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Row {row}, column '{column}': not a JSON list of {{\"role\", \"content\"}} messages ({e.Message}).", e);
        }
    }

    Device ResolveDevice(IChannel channel)
    {
        var (gpuDeviceId, fallbackToCpu) = GpuSettings();
        bool wantCuda = _options.Device == ComputeDevice.Cuda || (_options.Device == ComputeDevice.Auto && gpuDeviceId is not null);
        if (!wantCuda)
        {
            TorchRuntime.EnsureInitialized();
            return CPU;
        }
        string? missing = null;
        try { TorchRuntime.EnsureInitialized(cuda: true); }
        catch (InvalidOperationException e) { missing = e.Message; }
        if (missing is null) return new Device(DeviceType.CUDA, gpuDeviceId ?? 0);
        string why = _options.Device == ComputeDevice.Cuda ? "LfUOptions.Device is Cuda" : $"MLContext.GpuDeviceId is {gpuDeviceId}";
        if (fallbackToCpu)
        {
            channel.Warning($"LfU: {why} but CUDA is not available; training on the CPU because MLContext.FallbackToCpu is set. {missing}");
            TorchRuntime.EnsureInitialized();
            return CPU;
        }
        throw new InvalidOperationException($"{why} but CUDA is not available; set MLContext.FallbackToCpu = true to train on the CPU instead, " +
            $"or LfUOptions.Device = ComputeDevice.Cpu. {missing}");
    }

    /// <summary>Forwards training progress to the MLContext log (the first step, every 10th and the last) and to the user's
    /// callback, then runs <c>afterStep</c> (the MLContext cancellation poll).</summary>
    sealed class Progress(IChannel channel, IProgress<TrainingProgress>? user, Action afterStep) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            var m = value.Metrics;
            if (m.Step == 1 || m.Step % 10 == 0 || m.Step == value.TotalSteps)
                channel.Info($"LfU: step {m.Step}/{value.TotalSteps} loss {m.Total:F4} (sft {m.Sft:F4}" +
                             (m.Consistency is double c ? $", consistency {c:G3}" : "") + $") lr {m.LearningRate:G3} {value.TokensPerSecond:F0} tok/s, ETA {value.Remaining:hh\\:mm\\:ss}");
            user?.Report(value);
            afterStep();
        }
    }
}
