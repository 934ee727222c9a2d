namespace NativeKl.Tests;

/// <summary>No hot path allocates on the managed heap (GC.GetAllocatedBytesForCurrentThread).</summary>
public class AllocationTests
{
    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Theory, MemberData(nameof(BackendNames))]
    public void Hot_paths_allocate_nothing(string backend)
    {
        var options = Registry.With(backend, logTarget: false, masked: false);
        var (xd, td) = TestData.Make(40_000, false, false, seed: 4);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        var df = new float[x.Length];
        var dd = new double[x.Length];
        var rows = new float[8];
        var rowsD = new double[8];
        var partials = new KlPartial[KlDivergence.ChunkCount(x.Length)];

        void Calls()
        {
            KlDivergence.Sum(x, t, options);
            KlDivergence.Mean(x, t, options);
            KlDivergence.BatchMean(x, t, 8, options);
            KlDivergence.Reduce(x, t, KlReduction.Sum, options, degreeOfParallelism: 1);
            KlDivergence.Pointwise(x, t, df, options);
            KlDivergence.Rows(x, t, 8, 5000, rows, options);
            KlDivergence.Sum(xd, td, options);
            KlDivergence.BatchMean(xd, td, 8, options);
            KlDivergence.Pointwise(xd, td, dd, options);
            KlDivergence.Rows(xd, 5000, td, 5000, 8, 5000, rowsD, options);
            KlDivergence.Sum(x.AsSpan(0, 6), t.AsSpan(0, 6), options);
            // the parallel overloads at degree 1, and the chunk API (a caller's own job system)
            KlDivergence.Pointwise(x, t, df, options, 1);
            KlDivergence.PointwiseBackward(x, t, df, default, default, 1f, options, 1);
            KlDivergence.Backward(xd, td, dd, default, KlReduction.Sum, 1.0, options, 1);
            KlDivergence.Rows(x, t, 8, 5000, rows, options, 1);
            KlDivergence.Partials(x, t, 1, partials.AsSpan(1, 2), options);
            KlDivergence.BackwardPartials(x, t, 0, df, default, partials, KlReduction.Mean, 1f, options);
            KlDivergence.BackwardPartials(xd, td, 2, dd, default, partials.AsSpan(2), KlReduction.Sum, 1.0, options);
            KlDivergence.Finish(partials, x.Length, KlReduction.Mean);
            KlDivergence.ChunkCount(x.Length);
            // small calls: a tail block only, on this backend and on Auto
            KlDivergence.Sum(x.AsSpan(0, 13), t.AsSpan(0, 13), options);
            KlDivergence.Mean(xd.AsSpan(0, 13), td.AsSpan(0, 13), options);
            KlDivergence.Sum(x.AsSpan(0, 6), t.AsSpan(0, 6));
            KlDivergence.BatchMean(xd.AsSpan(0, 16), td.AsSpan(0, 16), 2);
        }

        for (int i = 0; i < 50; i++) Calls(); // warm up: JIT, static constructors, backend choice
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) Calls();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// What a parallel call allocates on the calling thread, reported (not asserted: it is the
    /// runtime's Parallel.For); the figures quoted in KlDivergence.Finish's remarks come from here.
    /// </summary>
    [Fact]
    public void Parallel_calls_report_what_they_allocate()
    {
        var (xd, td) = TestData.Make(1 << 20, false, false, seed: 4);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td), a = new float[x.Length], b = new float[x.Length];
        var rows = new float[1024];
        var calls = new (string, Action)[]
        {
            ("Pointwise", () => KlDivergence.Pointwise(x, t, a, default, 2)),
            ("PointwiseBackward", () => KlDivergence.PointwiseBackward(x, t, a, b, default, 1f, default, 2)),
            ("Backward Sum", () => KlDivergence.Backward(x, t, a, b, KlReduction.Sum, 1f, default, 2)),
            ("Rows 1024 x 1024", () => KlDivergence.Rows(x, t, 1024, 1024, rows, default, 2)),
            ("Reduce", () => KlDivergence.Reduce(x, t, KlReduction.Sum, default, 2)),
        };
        foreach (var (name, call) in calls)
        {
            for (int i = 0; i < 5; i++) call();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) call();
            long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 20;
            TestContext.Current.TestOutputHelper?.WriteLine($"{name}, 2 threads, 2^20 elements: {perCall} bytes per call on the calling thread");
            Assert.InRange(perCall, 0, 64 * 1024); // a runaway (an array per element, a copy of the data) fails
        }
    }
}
