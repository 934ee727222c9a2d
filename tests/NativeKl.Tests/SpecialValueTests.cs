namespace NativeKl.Tests;

/// <summary>The special values of nativekl.h, exactly (a NaN as the library's NaN, bit for bit), on every
/// backend, in the vector body and the tail.</summary>
public class SpecialValueTests
{
    private const double Inf = double.PositiveInfinity, NaN = double.NaN;

    // (x, t, logTarget, masked, expected)
    public static readonly (double X, double T, bool LogTarget, bool Masked, double Expected)[] Table =
    {
        (-1.5, 0.0, false, false, 0.0),          // t = 0, x finite -> 0
        (-Inf, 0.0, false, false, NaN),          // t = 0, x = -inf -> NaN (0 * -inf)
        (NaN, 0.0, false, false, NaN),           // t = 0, x NaN -> NaN
        (-1.0, -0.25, false, false, NaN),        // t < 0 -> NaN
        (-1.0, NaN, false, false, NaN),          // t NaN -> NaN
        (NaN, 0.3, false, false, NaN),           // x NaN -> NaN
        (-Inf, 0.3, false, false, Inf),          // t > 0, x = -inf -> +inf
        (-1.0, Inf, false, false, Inf),          // t = +inf, x < 0 -> +inf
        (Inf, 0.3, false, false, -Inf),          // x = +inf -> -inf
        (0.0, 1.0, false, false, 0.0),           // t = 1, x = 0 -> 0
        (-Inf, 0.0, false, true, 0.0),           // masked: t = 0 -> +0 whatever x
        (NaN, 0.0, false, true, 0.0),
        (-Inf, -Inf, true, false, NaN),          // log target: t = -inf -> NaN, even with x = -inf
        (-1.0, -Inf, true, false, NaN),
        (-Inf, -0.5, true, false, Inf),          // x = -inf, t finite -> +inf
        (0.0, 0.0, true, false, 0.0),            // t = 0 (probability 1), x = 0 -> 0
        (-Inf, -Inf, true, true, 0.0),           // masked log target: t = -inf -> +0
        (-1.0, NaN, true, false, NaN),
        (NaN, -1.0, true, false, NaN),
    };

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var backend in Registry.Backends.Keys)
            for (int i = 0; i < Table.Length; i++) data.Add(backend, i);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Pointwise_special_value(string backend, int row)
    {
        var (x, t, logTarget, masked, expected) = Table[row];
        var options = Registry.With(backend, logTarget, masked);
        // The pair at index 2 (inside the first vector) and 19 (in the tail), ordinary values around it.
        const int n = 21;
        var xs = Enumerable.Repeat(-1.0, n).ToArray();
        var ts = Enumerable.Repeat(logTarget ? -2.0 : 0.125, n).ToArray();
        foreach (int at in new[] { 2, 19 })
        {
            xs[at] = x; ts[at] = t;
            var d = new double[n];
            KlDivergence.Pointwise(xs, ts, d, options);
            AssertSame(expected, d[at], $"{backend} double x={x} t={t} at {at}");
            var f = new float[n];
            KlDivergence.Pointwise(TestData.ToFloat(xs), TestData.ToFloat(ts), f, options);
            AssertSame(expected, f[at], $"{backend} float x={x} t={t} at {at}");
            double sum = KlDivergence.Sum(xs, ts, options);
            if (double.IsNaN(expected) || double.IsInfinity(expected)) AssertSame(expected, sum, $"{backend} sum");
            xs[at] = -1.0; ts[at] = logTarget ? -2.0 : 0.125;
        }
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Subnormal_targets_are_not_flushed(string backend)
    {
        var options = Registry.With(backend, false, false);
        var f = new float[1];
        KlDivergence.Pointwise(new[] { -1.0f }, new[] { 1e-40f }, f, options);
        Assert.True(f[0] < 0 && f[0] > -1e-37f, $"float: {f[0]:R}");
        var d = new double[1];
        KlDivergence.Pointwise(new[] { -1.0 }, new[] { 1e-310 }, d, options);
        Assert.True(d[0] < 0 && d[0] > -1e-306, $"double: {d[0]:R}");
    }

    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Fact]
    public void Empty_input_reductions()
    {
        foreach (var options in Registry.Backends.Values)
        {
            Assert.Equal(0.0f, KlDivergence.Sum(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, options));
            Assert.True(Reference.IsLibraryNaN(KlDivergence.Mean(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, options)));
            Assert.True(Reference.IsLibraryNaN(KlDivergence.BatchMean(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, 0, options)));
            Assert.Equal(0.0, KlDivergence.BatchMean(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, 4, options));
        }
    }

    private static void AssertSame(double expected, double actual, string where)
    {
        // a float result arrives widened, which keeps a NaN's bits
        if (double.IsNaN(expected)) Assert.True(Reference.IsLibraryNaN(actual),
            $"{where}: {actual:R} (bits {BitConverter.DoubleToUInt64Bits(actual):x16}), expected the library's NaN");
        else Assert.True(expected == actual && (expected != 0 || !double.IsNegative(actual) || double.IsNegative(expected)),
            $"{where}: {actual:R}, expected {expected:R}");
    }
}
