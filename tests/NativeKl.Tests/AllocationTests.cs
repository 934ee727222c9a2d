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
}
