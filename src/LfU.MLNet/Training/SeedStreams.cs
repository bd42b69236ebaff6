namespace LfU.MLNet.Training;

/// <summary>
/// The trainer's seeded randomness besides torch's generators. Each use draws from its own stream of seeds derived from
/// the run seed, so that one use's draws never shift another's and every draw is a pure function of (seed, stream, index):
/// that is what lets a resumed run read exactly the data the uninterrupted one would have.
/// </summary>
internal static class SeedStreams
{
    /// <summary>The shuffled order of the training examples; indexed by epoch.</summary>
    public const long EpochOrder = 1;

    /// <summary>LfU's independent ascent batch; indexed by micro-batch (step × accumulation + micro-batch).</summary>
    public const long AscentBatch = 2;

    /// <summary>The CUDA generators after a resume (TorchSharp cannot read their state to checkpoint it); indexed by the step resumed at.</summary>
    public const long CudaAfterResume = 3;

    /// <summary>A 31-bit seed derived from the run seed, a stream id and an index (SplitMix64 finaliser), stable across processes.</summary>
    public static int Derive(long seed, long stream, long index)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)stream * 0xBF58476D1CE4E5B9UL ^ (ulong)index * 0x94D049BB133111EBUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    /// <summary>A Fisher–Yates permutation of 0…n−1 from a seeded <see cref="Random"/> (whose seeded sequence is stable across .NET versions).</summary>
    public static int[] Shuffle(int n, int seed)
    {
        var random = new Random(seed);
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
