namespace NativeKl.Tests;

/// <summary>The parallel overload returns the same bits as the single-threaded call for 1, 2, 3, 8 workers.</summary>
public class ParallelTests
{
    public static TheoryData<string, bool, bool> Cases() => Registry.BackendSemantics();

    [Theory, MemberData(nameof(Cases))]
    public void Same_bits_for_any_degree_of_parallelism(string backend, bool logTarget, bool masked)
    {
        var options = Registry.With(backend, logTarget, masked);
        foreach (int n in new[] { 16384 * 3 + 1, TestData.LargeLength })
        {
            var (xd, td) = TestData.Make(n, logTarget, masked, seed: 5);
            float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
            int batch = n % 3 == 0 ? 3 : 1;
            foreach (var reduction in new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean })
            {
                float single = KlDivergence.Reduce(x, t, TestData.Reduction(reduction, batch), options);
                double singleD = KlDivergence.Reduce(xd, td, TestData.Reduction(reduction, batch), options);
                foreach (int workers in new[] { 1, 2, 3, 8 })
                {
                    float parallel = KlDivergence.Reduce(x, t, TestData.Reduction(reduction, batch), options, workers);
                    double parallelD = KlDivergence.Reduce(xd, td, TestData.Reduction(reduction, batch), options, workers);
                    Assert.True(BitConverter.SingleToInt32Bits(single) == BitConverter.SingleToInt32Bits(parallel),
                        $"float n={n} {reduction} workers={workers}: {parallel:R} vs {single:R}");
                    Assert.True(BitConverter.DoubleToInt64Bits(singleD) == BitConverter.DoubleToInt64Bits(parallelD),
                        $"double n={n} {reduction} workers={workers}: {parallelD:R} vs {singleD:R}");
                }
            }
        }
    }
}
