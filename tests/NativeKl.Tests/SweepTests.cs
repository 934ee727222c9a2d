namespace NativeKl.Tests;

/// <summary>
/// The contract over every backend: lengths 0..257 and 1,000,003 × the four reductions ×
/// log_target × both semantics × float/double, against the double-precision reference.
/// </summary>
public class SweepTests
{
    public static TheoryData<string, bool, bool> Cases => Registry.BackendSemantics();

    [Theory, MemberData(nameof(Cases))]
    public void Float_all_lengths_0_to_257(string backend, bool logTarget, bool masked)
    {
        foreach (int n in TestData.SweepLengths) CheckFloat(n, backend, logTarget, masked);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Double_all_lengths_0_to_257(string backend, bool logTarget, bool masked)
    {
        foreach (int n in TestData.SweepLengths) CheckDouble(n, backend, logTarget, masked);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Float_length_1000003(string backend, bool logTarget, bool masked) =>
        CheckFloat(TestData.LargeLength, backend, logTarget, masked);

    [Theory, MemberData(nameof(Cases))]
    public void Double_length_1000003(string backend, bool logTarget, bool masked) =>
        CheckDouble(TestData.LargeLength, backend, logTarget, masked);

    /// <summary>A batch size that divides n (0 for empty input, as PyTorch's shape [0]).</summary>
    private static int BatchOf(int n) => n == 0 ? 0 : n % 3 == 0 ? 3 : n % 2 == 0 ? 2 : 1;

    private static void CheckFloat(int n, string backend, bool logTarget, bool masked)
    {
        var (xd, td) = TestData.Make(n, logTarget, masked, seed: 1);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        double[] xw = TestData.Widen(x), tw = TestData.Widen(t);
        var options = Registry.With(backend, logTarget, masked);
        string where = $"{backend} float n={n} logTarget={logTarget} masked={masked}";

        var pointwise = new float[n];
        KlDivergence.Pointwise(x, t, pointwise, options);
        for (int i = 0; i < n; i++)
        {
            double expected = Reference.Term(xw[i], tw[i], logTarget, masked);
            Assert.True(Reference.Close(pointwise[i], expected, Reference.Scale(xw[i], tw[i], logTarget, masked), Reference.Float32Epsilon),
                $"{where}: pointwise[{i}] = {pointwise[i]:R}, reference {expected:R} (x={x[i]:R}, t={t[i]:R})");
        }

        var (sum, scale) = Reference.Sum(xw, tw, logTarget, masked);
        int batch = BatchOf(n);
        CheckReduced(where + " sum", KlDivergence.Sum(x, t, options), sum, scale, Reference.Float32Epsilon);
        CheckReduced(where + " mean", KlDivergence.Mean(x, t, options), sum / n, scale / n, Reference.Float32Epsilon);
        CheckReduced(where + " batchmean", KlDivergence.BatchMean(x, t, batch, options), sum / batch, scale / batch, Reference.Float32Epsilon);
        Assert.Equal(KlDivergence.Sum(x, t, options), KlDivergence.Reduce(x, t, KlReduction.Sum, options));
    }

    private static void CheckDouble(int n, string backend, bool logTarget, bool masked)
    {
        var (x, t) = TestData.Make(n, logTarget, masked, seed: 2);
        var options = Registry.With(backend, logTarget, masked);
        string where = $"{backend} double n={n} logTarget={logTarget} masked={masked}";

        var pointwise = new double[n];
        KlDivergence.Pointwise(x, t, pointwise, options);
        for (int i = 0; i < n; i++)
        {
            double expected = Reference.Term(x[i], t[i], logTarget, masked);
            Assert.True(Reference.Close(pointwise[i], expected, Reference.Scale(x[i], t[i], logTarget, masked), Reference.Float64Epsilon),
                $"{where}: pointwise[{i}] = {pointwise[i]:R}, reference {expected:R} (x={x[i]:R}, t={t[i]:R})");
        }

        var (sum, scale) = Reference.Sum(x, t, logTarget, masked);
        int batch = BatchOf(n);
        // The reference adds plainly in double: its own error is up to n·eps·scale; the library's is compensated.
        double k = 8 + n;
        CheckReduced(where + " sum", KlDivergence.Sum(x, t, options), sum, scale, Reference.Float64Epsilon, k);
        CheckReduced(where + " mean", KlDivergence.Mean(x, t, options), sum / n, scale / n, Reference.Float64Epsilon, k);
        CheckReduced(where + " batchmean", KlDivergence.BatchMean(x, t, batch, options), sum / batch, scale / batch, Reference.Float64Epsilon, k);
    }

    private static void CheckReduced(string where, double actual, double expected, double scale, double eps, double k = 8) =>
        Assert.True(Reference.Close(actual, expected, scale, eps, k), $"{where}: {actual:R}, reference {expected:R} (scale {scale:R})");
}
