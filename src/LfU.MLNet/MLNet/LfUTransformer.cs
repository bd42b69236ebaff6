using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace LfU.MLNet;

/// <summary>
/// Generates text for a prompt column and, when a response column is present, scores the response, using a
/// language model fine-tuned with LfU. Produced by the LfU estimator; saved and loaded with
/// <c>mlContext.Model.Save</c> / <c>mlContext.Model.Load</c>.
/// </summary>
/// <remarks>
/// <para>
/// Columns added: the generated text (<see cref="GeneratedColumnName"/>, text) for the prompt column
/// (<see cref="PromptColumnName"/>, text); and, only when the input has the response column
/// (<see cref="ResponseColumnName"/>, text), the mean and total log-probability of the response given the prompt
/// (<see cref="ScoreMeanColumnName"/>, <see cref="ScoreTotalColumnName"/>, double).
/// </para>
/// <para>
/// <see cref="Transform"/> is lazy: nothing is computed until a cursor reads an added column. Cursors then run the
/// model on <see cref="BatchSize"/> rows at a time. A <see cref="PredictionEngine{TSrc, TDst}"/> runs one row at a
/// time. Calls into the model are serialised, so several cursors or prediction engines (each used from one thread)
/// may share one transformer. Each cursor reads its input twice, in step (once for the passed-through columns, once
/// ahead for the batch), so the input must yield the same rows in the same order to every cursor, as ML.NET data
/// views do.
/// </para>
/// <para>Dispose the transformer to release the model; it cannot be used afterwards.</para>
/// <para>
/// <c>mlContext.Model.Load</c> calls the transformer's loader by reflection, so a model that cannot be loaded (base model
/// folder missing or changed, damaged file) throws a <see cref="System.Reflection.TargetInvocationException"/> whose
/// <see cref="Exception.InnerException"/> says what is wrong and how to fix it.
/// </para>
/// <para>
/// A zip saved without embedded weights records its base model folder both absolutely and relative to the zip, so a
/// folder holding both can move. A base moved elsewhere is given with
/// <see cref="LfUCatalog.LoadWithBaseModel"/> (or the environment variable <c>LFU_BASE_MODEL_DIR</c>); its files
/// must still have the SHA-256 recorded at saving.
/// </para>
/// </remarks>
public sealed partial class LfUTransformer : ITransformer, IDisposable, Generation.ITextScorer
{
    private readonly IHost _host;
    private readonly ITextModel _model;
    private readonly LfUColumnNames _columns;
    private readonly GenerationSettings _settings;
    private readonly object _modelLock = new();
    private bool _disposed;

    internal LfUTransformer(IHostEnvironment env, ITextModel model, LfUColumnNames columns, GenerationSettings settings,
        int batchSize = Generation.TextGenerator.DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        columns.Validate();
        settings.Validate();
        _host = env.Register(nameof(LfUTransformer));
        _model = model;
        _columns = columns;
        _settings = settings.Clone();
        BatchSize = batchSize;
    }

    /// <summary>
    /// The fine-tuned model, for use outside ML.NET: <see cref="LfUModel.Generate(string, GenerationSettings?)"/>,
    /// <see cref="LfUModel.Score"/>, <see cref="LfUModel.SaveAdapter"/>, <see cref="LfUModel.SaveMerged"/>.
    /// Calls made on it directly are not serialised with the transformer's: do not use it while a cursor or prediction
    /// engine of this transformer runs on another thread. It is disposed with the transformer. Null only for test doubles.
    /// </summary>
    public LfUModel? Model => _model as LfUModel;

    /// <summary>The training run that produced this transformer (loss history for plots); null after loading from a file.</summary>
    public Training.TrainingResult? TrainingResult { get; internal init; }

    /// <summary>Name of the input text column holding the prompts.</summary>
    public string PromptColumnName => _columns.Prompt;

    /// <summary>Name of the optional input text column holding responses to score.</summary>
    public string ResponseColumnName => _columns.Response;

    /// <summary>Name of the added text column holding the generations.</summary>
    public string GeneratedColumnName => _columns.Generated;

    /// <summary>Name of the added double column holding the mean log-probability per response token.</summary>
    public string ScoreMeanColumnName => _columns.ScoreMean;

    /// <summary>Name of the added double column holding the total log-probability of the response.</summary>
    public string ScoreTotalColumnName => _columns.ScoreTotal;

    /// <summary>A copy of the settings used for generation.</summary>
    public GenerationSettings GenerationSettings => _settings.Clone();

    /// <summary>How many rows a cursor passes to the model at once.</summary>
    public int BatchSize { get; }

    /// <summary>Always true: the transformer maps each row independently.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>
    /// The schema <see cref="Transform"/> produces for <paramref name="inputSchema"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The prompt column is missing, or the prompt or response column is not text.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Bind(inputSchema).Output;

    /// <summary>Adds the generated (and, with a response column, score) columns lazily.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The prompt column is missing, or the prompt or response column is not text.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfDisposed();
        return new LfUDataView(this, input, Bind(input.Schema));
    }

    /// <summary>A one-row-at-a-time mapper, as used by <see cref="PredictionEngine{TSrc, TDst}"/>.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ThrowIfDisposed();
        return new LfURowMapper(this, Bind(inputSchema));
    }

    /// <summary>Releases the model.</summary>
    public void Dispose()
    {
        lock (_modelLock)
        {
            if (_disposed)
                return;
            _disposed = true;
            _model.Dispose();
        }
    }

    internal IReadOnlyList<string> Generate(IReadOnlyList<string> prompts)
    {
        lock (_modelLock)
        {
            ThrowIfDisposed();
            var outputs = _model.Generate(prompts, _settings);
            CheckCount(outputs.Count, prompts.Count, nameof(ITextModel.Generate));
            return outputs;
        }
    }

    IReadOnlyList<(double Mean, double Total)> Generation.ITextScorer.Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) => Score(prompts, responses);

    internal IReadOnlyList<(double Mean, double Total)> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        lock (_modelLock)
        {
            ThrowIfDisposed();
            var scores = _model.Score(prompts, responses);
            CheckCount(scores.Count, prompts.Count, nameof(ITextModel.Score));
            return scores;
        }
    }

    private static void CheckCount(int actual, int expected, string method)
    {
        if (actual != expected)
            throw new InvalidOperationException($"The model's {method} returned {actual} results for {expected} inputs.");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Checks <paramref name="inputSchema"/> and computes the output schema.</summary>
    private BoundSchema Bind(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var prompt = inputSchema.GetColumnOrNull(_columns.Prompt)
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"Prompt column '{_columns.Prompt}' was not found in the input; expected a text (String) column. " +
                $"Input columns: {DescribeColumns(inputSchema)}.");
        CheckText(prompt, "Prompt");
        var response = inputSchema.GetColumnOrNull(_columns.Response);
        if (response is { } r)
            CheckText(r, "Response");

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(_columns.Generated, TextDataViewType.Instance);
        if (response is not null)
        {
            builder.AddColumn(_columns.ScoreMean, NumberDataViewType.Double);
            builder.AddColumn(_columns.ScoreTotal, NumberDataViewType.Double);
        }
        int n = inputSchema.Count;
        return new BoundSchema(inputSchema, builder.ToSchema(), prompt.Index, response?.Index ?? -1,
            GeneratedIndex: n, ScoreMeanIndex: response is null ? -1 : n + 1, ScoreTotalIndex: response is null ? -1 : n + 2);
    }

    private static void CheckText(DataViewSchema.Column column, string role)
    {
        if (column.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException("inputSchema",
                $"{role} column '{column.Name}' must be of type String (text), but found {column.Type}.");
    }

    private static string DescribeColumns(DataViewSchema schema) =>
        schema.Count == 0 ? "(none)" : string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' ({c.Type})"));
}
