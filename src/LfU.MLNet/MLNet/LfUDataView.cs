using Microsoft.ML;
using Microsoft.ML.Data;

namespace LfU.MLNet;

/// <summary>Where a row's added values come from: a cursor's current batch, or a single mapped row.</summary>
internal interface IAddedValues
{
    string Generated();
    (double Mean, double Total) Scores();
}

/// <summary>Getters for the columns an <see cref="LfUTransformer"/> adds.</summary>
internal static class AddedColumnGetters
{
    public static ValueGetter<TValue> Create<TValue>(BoundSchema bound, DataViewSchema.Column column, IAddedValues values)
    {
        Delegate getter;
        if (column.Index == bound.GeneratedIndex)
            getter = (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = values.Generated().AsMemory());
        else if (column.Index == bound.ScoreMeanIndex)
            getter = (ValueGetter<double>)((ref double value) => value = values.Scores().Mean);
        else if (column.Index == bound.ScoreTotalIndex)
            getter = (ValueGetter<double>)((ref double value) => value = values.Scores().Total);
        else
            throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' is not a column added by the LfU transformer.");

        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException(
                $"Column '{column.Name}' holds {column.Type} values (.NET {column.Type.RawType.Name}), not {typeof(TValue).Name}.");
    }

    public static string ReadText(ValueGetter<ReadOnlyMemory<char>> getter)
    {
        ReadOnlyMemory<char> value = default;
        getter(ref value);
        return value.ToString();
    }
}

/// <summary>
/// The lazy output of <see cref="LfUTransformer.Transform"/>. Each cursor walks the source twice, in step: the main
/// source cursor serves the passed-through columns of the current row, and a look-ahead source cursor reads the
/// prompts (and responses) of the next <see cref="LfUTransformer.BatchSize"/> rows, so that the model runs on whole
/// batches only when an added column is read.
/// </summary>
internal sealed class LfUDataView(LfUTransformer parent, IDataView source, BoundSchema bound) : IDataView
{
    // Shuffling would put the two source cursors out of step.
    public bool CanShuffle => false;

    public DataViewSchema Schema => bound.Output;

    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var needed = columnsNeeded.ToList();
        var inputColumns = needed.Where(c => { bound.CheckOutputColumn(c); return !bound.IsAddedColumn(c.Index); })
            .Select(c => bound.Input[c.Index]);
        bool generatedActive = needed.Any(c => c.Index == bound.GeneratedIndex);
        bool scoresActive = needed.Any(c => bound.IsScoreColumn(c.Index));

        var main = source.GetRowCursor(inputColumns);
        DataViewRowCursor? lookAhead = null;
        if (generatedActive || scoresActive)
        {
            var lookAheadColumns = new List<DataViewSchema.Column> { bound.Input[bound.PromptIndex] };
            if (scoresActive)
                lookAheadColumns.Add(bound.Input[bound.ResponseIndex]);
            lookAhead = source.GetRowCursor(lookAheadColumns);
        }
        return new Cursor(parent, bound, main, lookAhead, generatedActive, scoresActive);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor, IAddedValues
    {
        private readonly LfUTransformer _parent;
        private readonly BoundSchema _bound;
        private readonly DataViewRowCursor _main;
        private readonly DataViewRowCursor? _lookAhead;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _promptGetter;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _responseGetter;
        private readonly bool _generatedActive;
        private readonly bool _scoresActive;

        private long _position = -1;
        private long _lookAheadPosition = -1;

        // The current batch: rows [_batchStart, _batchStart + _prompts.Count); outputs computed on first read.
        private long _batchStart;
        private readonly List<string> _prompts = [];
        private readonly List<string> _responses = [];
        private IReadOnlyList<string>? _generated;
        private IReadOnlyList<(double Mean, double Total)>? _scores;

        public Cursor(LfUTransformer parent, BoundSchema bound, DataViewRowCursor main, DataViewRowCursor? lookAhead,
            bool generatedActive, bool scoresActive)
        {
            _parent = parent;
            _bound = bound;
            _main = main;
            _lookAhead = lookAhead;
            _generatedActive = generatedActive;
            _scoresActive = scoresActive;
            if (lookAhead is not null)
            {
                _promptGetter = lookAhead.GetGetter<ReadOnlyMemory<char>>(bound.Input[bound.PromptIndex]);
                if (scoresActive)
                    _responseGetter = lookAhead.GetGetter<ReadOnlyMemory<char>>(bound.Input[bound.ResponseIndex]);
            }
        }

        public override long Position => _position;

        public override long Batch => _main.Batch;

        public override DataViewSchema Schema => _bound.Output;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _main.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column)
        {
            _bound.CheckOutputColumn(column);
            if (!_bound.IsAddedColumn(column.Index))
                return _main.IsColumnActive(_bound.Input[column.Index]);
            return column.Index == _bound.GeneratedIndex ? _generatedActive : _scoresActive;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
            if (!_bound.IsAddedColumn(column.Index))
                return _main.GetGetter<TValue>(_bound.Input[column.Index]);
            return AddedColumnGetters.Create<TValue>(_bound, column, this);
        }

        public override bool MoveNext()
        {
            if (!_main.MoveNext())
                return false;
            _position++;
            return true;
        }

        public string Generated()
        {
            int row = RowInBatch();
            _generated ??= _parent.Generate(_prompts);
            return _generated[row];
        }

        public (double Mean, double Total) Scores()
        {
            int row = RowInBatch();
            _scores ??= _parent.Score(_prompts, _responses);
            return _scores[row];
        }

        /// <summary>The current row's index in the batch, reading the next batch if the row is past this one.</summary>
        private int RowInBatch()
        {
            if (_position < 0)
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");
            if (_position >= _batchStart + _prompts.Count)
                ReadBatchAtCurrentRow();
            return checked((int)(_position - _batchStart));
        }

        private void ReadBatchAtCurrentRow()
        {
            var lookAhead = _lookAhead!;
            // Rows whose added columns were never read are skipped without running the model.
            while (_lookAheadPosition < _position - 1)
                MoveLookAhead(lookAhead);

            _batchStart = _position;
            _prompts.Clear();
            _responses.Clear();
            _generated = null;
            _scores = null;
            MoveLookAhead(lookAhead);
            ReadLookAheadRow();
            while (_prompts.Count < _parent.BatchSize && lookAhead.MoveNext())
            {
                _lookAheadPosition++;
                ReadLookAheadRow();
            }
        }

        private void ReadLookAheadRow()
        {
            _prompts.Add(AddedColumnGetters.ReadText(_promptGetter!));
            _responses.Add(_responseGetter is null ? "" : AddedColumnGetters.ReadText(_responseGetter));
        }

        private void MoveLookAhead(DataViewRowCursor lookAhead)
        {
            if (!lookAhead.MoveNext())
                throw new InvalidOperationException(
                    "The input data view returned fewer rows to a second cursor than to the first; " +
                    "the LfU transformer needs an input that yields the same rows, in the same order, to every cursor.");
            _lookAheadPosition++;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _main.Dispose();
                _lookAhead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

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
