namespace LfU.MLNet.Benchmark;

/// <summary>
/// A small seeded generator (SplitMix64) whose sequence is fixed by this code alone. System.Random's sequence for a
/// seed is an implementation detail of the runtime, and the mini-world data must be byte-identical everywhere.
/// </summary>
internal sealed class DeterministicRandom
{
    ulong _state;

    public DeterministicRandom(ulong seed) => _state = seed;

    /// <summary>A generator for one named stream of a seed, so that the splits do not depend on each other's sizes.</summary>
    public static DeterministicRandom ForStream(int seed, string stream)
    {
        // FNV-1a over the stream name: stable, unlike string.GetHashCode.
        ulong hash = 14695981039346656037UL;
        foreach (char c in stream) hash = (hash ^ c) * 1099511628211UL;
        return new DeterministicRandom(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL) ^ hash);
    }

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [minInclusive, maxInclusive].</summary>
    public int Next(int minInclusive, int maxInclusive)
    {
        if (maxInclusive < minInclusive) throw new ArgumentOutOfRangeException(nameof(maxInclusive), $"Empty range [{minInclusive}, {maxInclusive}].");
        ulong range = (ulong)((long)maxInclusive - minInclusive + 1);
        // Rejection sampling removes the modulo bias.
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong x;
        do x = NextUInt64(); while (x >= limit);
        return (int)((long)minInclusive + (long)(x % range));
    }

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count - 1)];

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(0, i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
