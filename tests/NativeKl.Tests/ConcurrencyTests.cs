namespace NativeKl.Tests;

/// <summary>16 threads × 10,000 calls on shared inputs give identical results.</summary>
public class ConcurrencyTests
{
    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Theory, MemberData(nameof(BackendNames))]
    public void Sixteen_threads_ten_thousand_calls_each(string backend)
    {
        const int threads = 16, calls = 10_000, n = 300;
        var options = Registry.With(backend, logTarget: false, masked: false);
        var (xd, td) = TestData.Make(n, false, false, seed: 3);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        float expectedSum = KlDivergence.Sum(x, t, options);
        double expectedMean = KlDivergence.Mean(xd, td, options);
        var expectedPointwise = new float[n];
        KlDivergence.Pointwise(x, t, expectedPointwise, options);

        int failures = 0;
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(w => new Thread(() =>
        {
            var mine = new float[n];
            start.SignalAndWait();
            for (int i = 0; i < calls; i++)
            {
                bool ok = (i % 3) switch
                {
                    0 => BitConverter.SingleToInt32Bits(KlDivergence.Sum(x, t, options)) == BitConverter.SingleToInt32Bits(expectedSum),
                    1 => BitConverter.DoubleToInt64Bits(KlDivergence.Mean(xd, td, options)) == BitConverter.DoubleToInt64Bits(expectedMean),
                    _ => PointwiseEqual(x, t, mine, expectedPointwise, options),
                };
                if (!ok) Interlocked.Increment(ref failures);
            }
        })).ToList();
        workers.ForEach(th => th.Start());
        workers.ForEach(th => th.Join());
        Assert.Equal(0, failures);
    }

    private static bool PointwiseEqual(float[] x, float[] t, float[] destination, float[] expected, KlOptions options)
    {
        KlDivergence.Pointwise(x, t, destination, options);
        return destination.AsSpan().SequenceEqual(expected);
    }
}
