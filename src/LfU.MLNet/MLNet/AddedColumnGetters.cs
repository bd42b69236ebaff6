using Microsoft.ML;

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
