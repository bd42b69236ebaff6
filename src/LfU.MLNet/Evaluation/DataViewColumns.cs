using Microsoft.ML;
using Microsoft.ML.Data;

namespace LfU.MLNet.Evaluation;

/// <summary>Reads evaluator input columns, with clear errors for missing columns and wrong types.</summary>
internal static class DataViewColumns
{
    public static DataViewSchema.Column Find(IDataView data, string name, string role, string expected, Func<DataViewType, bool> isExpected)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var column = data.Schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(data),
                $"{role} column '{name}' was not found in the data; expected a {expected} column. " +
                $"Columns: {string.Join(", ", data.Schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' ({c.Type})"))}.");
        if (!isExpected(column.Type))
            throw new ArgumentOutOfRangeException(nameof(data), $"{role} column '{name}' must be of type {expected}, but found {column.Type}.");
        return column;
    }

    public static DataViewSchema.Column FindText(IDataView data, string name, string role) =>
        Find(data, name, role, "String (text)", t => t is TextDataViewType);

    /// <summary>Reads the given text columns row by row; fails on empty data.</summary>
    public static List<string[]> ReadTextRows(IDataView data, params DataViewSchema.Column[] columns)
    {
        var rows = new List<string[]>();
        using var cursor = data.GetRowCursor(columns);
        var getters = columns.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            var row = new string[getters.Length];
            for (int i = 0; i < getters.Length; i++)
            {
                getters[i](ref value);
                row[i] = value.ToString();
            }
            rows.Add(row);
        }
        ThrowIfEmpty(rows.Count);
        return rows;
    }

    public static void ThrowIfEmpty(int count)
    {
        if (count == 0)
            throw new ArgumentException("The data has no rows to evaluate.", "data");
    }
}
