using Microsoft.ML;

namespace LfU.MLNet;

/// <summary>An input schema checked against a transformer, with the indices of the columns it reads and adds.</summary>
internal sealed record BoundSchema(DataViewSchema Input, DataViewSchema Output, int PromptIndex, int ResponseIndex,
    int GeneratedIndex, int ScoreMeanIndex, int ScoreTotalIndex)
{
    public bool HasScores => ResponseIndex >= 0;

    public bool IsScoreColumn(int index) => HasScores && (index == ScoreMeanIndex || index == ScoreTotalIndex);

    public bool IsAddedColumn(int index) => index >= Input.Count;

    /// <summary>The input columns that the given output columns are computed from.</summary>
    public IEnumerable<DataViewSchema.Column> InputsFor(IEnumerable<DataViewSchema.Column> outputColumns)
    {
        var indices = new SortedSet<int>();
        foreach (var column in outputColumns)
        {
            CheckOutputColumn(column);
            if (!IsAddedColumn(column.Index))
                indices.Add(column.Index);
            else
            {
                indices.Add(PromptIndex);
                if (IsScoreColumn(column.Index))
                    indices.Add(ResponseIndex);
            }
        }
        return indices.Select(i => Input[i]);
    }

    public void CheckOutputColumn(DataViewSchema.Column column)
    {
        if (column.Index < 0 || column.Index >= Output.Count || Output[column.Index].Name != column.Name)
            throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' (index {column.Index}) is not a column of this data view's schema.");
    }
}
