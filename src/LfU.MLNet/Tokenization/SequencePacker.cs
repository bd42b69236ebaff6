namespace LfU.MLNet.Tokenization;

/// <summary>
/// Packs short training examples into rows of at most a fixed length, so that a batch is nearly all real tokens
/// instead of padding. Each example keeps its own positions (counting from 0) and, through
/// <c>ForwardOptions.PositionIds</c>, attends only to itself: a packed row computes exactly what its examples compute
/// alone. The label of each example's first token is dropped (it would be the target of the previous example's last
/// token; unpacked, the one-position shift drops it anyway), so the loss is unchanged too.
/// </summary>
public static class SequencePacker
{
    /// <summary>
    /// Packs <paramref name="examples"/> into rows of at most <paramref name="rowLength"/> tokens, longest first, each
    /// into the row it fills best (best-fit decreasing, near-optimal). Rows come out in packing order, so shuffle them
    /// for training. Deterministic: the same examples give the same rows.
    /// </summary>
    /// <exception cref="ArgumentException">An example is longer than a row, or already packed.</exception>
    public static IReadOnlyList<TrainingExample> Pack(IReadOnlyList<TrainingExample> examples, int rowLength)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowLength, 1);
        for (int i = 0; i < examples.Count; i++)
        {
            if (examples[i].InputIds.Length > rowLength)
                throw new ArgumentException($"Example {i} has {examples[i].InputIds.Length} tokens, more than the packed row length {rowLength}; raise the row length or lower the cutoff length.", nameof(examples));
            if (examples[i].PositionIds is not null)
                throw new ArgumentException($"Example {i} is already packed.", nameof(examples));
        }
        var rows = new List<List<TrainingExample>>();
        // withRoom[s]: rows with exactly s free tokens (best fit = the smallest s that is large enough).
        var withRoom = Enumerable.Range(0, rowLength + 1).Select(_ => new Stack<int>()).ToArray();
        // Stable: equal lengths keep their order.
        foreach (var e in examples.OrderByDescending(e => e.InputIds.Length))
        {
            int length = e.InputIds.Length, room = length;
            while (room < rowLength && withRoom[room].Count == 0) room++;
            int row;
            if (withRoom[room].Count > 0 && room >= length) row = withRoom[room].Pop();
            else
            {
                rows.Add(new List<TrainingExample>());
                row = rows.Count - 1;
                room = rowLength;
            }
            rows[row].Add(e);
            withRoom[room - length].Push(row);
        }
        return rows.Select(Join).ToList();
    }

    static TrainingExample Join(List<TrainingExample> members)
    {
        int length = members.Sum(m => m.InputIds.Length);
        var ids = new int[length];
        var labels = new int[length];
        var positions = new int[length];
        int at = 0;
        foreach (var m in members)
        {
            m.InputIds.CopyTo(ids, at);
            m.Labels.CopyTo(labels, at);
            labels[at] = TrainingExample.IgnoreIndex;
            for (int t = 0; t < m.InputIds.Length; t++) positions[at + t] = t;
            at += m.InputIds.Length;
        }
        return new TrainingExample(ids, labels) { PositionIds = positions };
    }
}
