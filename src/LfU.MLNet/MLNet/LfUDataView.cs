using Microsoft.ML;
using Microsoft.ML.Data;

namespace LfU.MLNet;

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
