using Microsoft.ML;
using Microsoft.ML.Data;

namespace LfU.MLNet;

/// <summary>
/// Maps one row at a time (for <see cref="PredictionEngine{TSrc, TDst}"/>): the model runs on a batch of one when an
/// added column is read, and the result is reused while the row's prompt and response stay the same.
/// </summary>
internal sealed class LfURowMapper(LfUTransformer parent, BoundSchema bound) : IRowToRowMapper
{
    public DataViewSchema InputSchema => bound.Input;

    public DataViewSchema OutputSchema => bound.Output;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        bound.InputsFor(dependingColumns);

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(activeColumns);
        var active = activeColumns.Select(c => { bound.CheckOutputColumn(c); return c.Index; }).ToHashSet();
        return new MappedRow(parent, bound, input, active);
    }

    private sealed class MappedRow : DataViewRow, IAddedValues
    {
        private readonly LfUTransformer _parent;
        private readonly BoundSchema _bound;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _promptGetter;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _responseGetter;

        // Keyed by the inputs, not by Position: callers such as PredictionEngine may reuse one position.
        private (string Prompt, string Generated)? _lastGenerated;
        private (string Prompt, string Response, (double Mean, double Total) Scores)? _lastScores;

        public MappedRow(LfUTransformer parent, BoundSchema bound, DataViewRow input, HashSet<int> active)
        {
            _parent = parent;
            _bound = bound;
            _input = input;
            _active = active;
            bool anyAdded = active.Any(bound.IsAddedColumn);
            if (anyAdded)
                _promptGetter = input.GetGetter<ReadOnlyMemory<char>>(input.Schema[bound.PromptIndex]);
            if (active.Any(bound.IsScoreColumn))
                _responseGetter = input.GetGetter<ReadOnlyMemory<char>>(input.Schema[bound.ResponseIndex]);
        }

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override DataViewSchema Schema => _bound.Output;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column)
        {
            _bound.CheckOutputColumn(column);
            return _active.Contains(column.Index)
                || (!_bound.IsAddedColumn(column.Index) && _input.IsColumnActive(_input.Schema[column.Index]));
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this row was created.");
            if (!_bound.IsAddedColumn(column.Index))
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            return AddedColumnGetters.Create<TValue>(_bound, column, this);
        }

        public string Generated()
        {
            string prompt = AddedColumnGetters.ReadText(_promptGetter!);
            if (_lastGenerated is not { } last || last.Prompt != prompt)
                _lastGenerated = last = (prompt, _parent.Generate([prompt])[0]);
            return last.Generated;
        }

        public (double Mean, double Total) Scores()
        {
            string prompt = AddedColumnGetters.ReadText(_promptGetter!);
            string response = AddedColumnGetters.ReadText(_responseGetter!);
            if (_lastScores is not { } last || last.Prompt != prompt || last.Response != response)
                _lastScores = last = (prompt, response, _parent.Score([prompt], [response])[0]);
            return last.Scores;
        }
    }
}
