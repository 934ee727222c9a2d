using System.Text.Json;
using NativeKl.Managed;

namespace NativeKl.Tests;

/// <summary>One backward call's results: the reduced value (0 for None), the pointwise values (None), both gradients.</summary>
internal readonly record struct BackwardResult<T>(T Value, T[] Values, T[] GradInput, T[] GradTarget);

/// <summary>Runs <see cref="KlDivergence.Backward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, KlReduction, float, KlOptions, int)"/>
/// or <c>PointwiseBackward</c> (reduction None) into fresh arrays.</summary>
internal static class Backward
{
    /// <summary>A batch size that divides n (0 for empty input, as PyTorch's shape [0]).</summary>
    public static int BatchOf(int n) => n == 0 ? 0 : n % 3 == 0 ? 3 : n % 2 == 0 ? 2 : 1;

    public static readonly KlReductionKind[] Reductions = { KlReductionKind.None, KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean };

    public static double Divisor(KlReductionKind r, int n, int batch) =>
        r == KlReductionKind.Mean ? n : r == KlReductionKind.BatchMean ? batch : 1.0;

    public static BackwardResult<float> Run(float[] x, float[] t, KlReductionKind r, int batch, float gradOutput, KlOptions o)
    {
        int n = x.Length;
        var v = new float[n]; var gx = new float[n]; var gt = new float[n];
        float value = 0;
        if (r == KlReductionKind.None) KlDivergence.PointwiseBackward(x, t, gx, gt, v, gradOutput, o);
        else value = KlDivergence.Backward(x, t, gx, gt, TestData.Reduction(r, batch), gradOutput, o);
        return new(value, v, gx, gt);
    }

    public static BackwardResult<double> Run(double[] x, double[] t, KlReductionKind r, int batch, double gradOutput, KlOptions o)
    {
        int n = x.Length;
        var v = new double[n]; var gx = new double[n]; var gt = new double[n];
        double value = 0;
        if (r == KlReductionKind.None) KlDivergence.PointwiseBackward(x, t, gx, gt, v, gradOutput, o);
        else value = KlDivergence.Backward(x, t, gx, gt, TestData.Reduction(r, batch), gradOutput, o);
        return new(value, v, gx, gt);
    }

    public static long Bits(float v) => BitConverter.SingleToInt32Bits(v);
    public static long Bits(double v) => BitConverter.DoubleToInt64Bits(v);

    /// <summary>k for the reference tolerance: netstandard2.0's managed exp/log (no fused multiply-add) lose a few ulps.</summary>
    public static double K(string backend)
    {
#if NKL_NETSTANDARD_BUILD
        if (Registry.IsManaged(backend)) return 16;
#endif
        return 8;
    }
}

/// <summary>
/// The fused forward+backward on every backend against the double-precision reference gradients
/// (Reference.GradInput/GradTarget) over the sweep lengths, the four reductions, log_target and
/// both semantics; the value (and the pointwise values) must be the forward call's bits.
/// </summary>
public class BackwardReferenceTests
{
    public static TheoryData<string, bool, bool> Cases => Registry.BackendSemantics();

    // not a power of two: s = gradOutput / divisor is rounded for most divisors
    private const double GradOutput = -1.3;

    [Theory, MemberData(nameof(Cases))]
    public void Float_all_lengths_0_to_257(string backend, bool logTarget, bool masked)
    {
        foreach (int n in TestData.SweepLengths)
            foreach (var r in Backward.Reductions) CheckFloat(n, r, backend, logTarget, masked);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Double_all_lengths_0_to_257(string backend, bool logTarget, bool masked)
    {
        foreach (int n in TestData.SweepLengths)
            foreach (var r in Backward.Reductions) CheckDouble(n, r, backend, logTarget, masked);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Length_1000003(string backend, bool logTarget, bool masked)
    {
        CheckFloat(TestData.LargeLength, KlReductionKind.Mean, backend, logTarget, masked);
        CheckDouble(TestData.LargeLength, KlReductionKind.None, backend, logTarget, masked);
    }

    private static void CheckFloat(int n, KlReductionKind r, string backend, bool logTarget, bool masked)
    {
        var (xd, td) = TestData.Make(n, logTarget, masked, seed: 11);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        var o = Registry.With(backend, logTarget, masked);
        int batch = Backward.BatchOf(n);
        float g = (float)GradOutput;
        var res = Backward.Run(x, t, r, batch, g, o);
        double s = g / Backward.Divisor(r, n, batch);
        string where = $"{backend} float n={n} {r} logTarget={logTarget} masked={masked}";
        CheckGradients(TestData.Widen(x), TestData.Widen(t), TestData.Widen(res.GradInput), TestData.Widen(res.GradTarget),
                       logTarget, masked, s, Reference.Float32Epsilon, Backward.K(backend), where);

        // the value is the forward call's, bit for bit
        if (r == KlReductionKind.None)
        {
            var expected = new float[n];
            KlDivergence.Pointwise(x, t, expected, o);
            for (int i = 0; i < n; i++)
                Assert.True(Backward.Bits(res.Values[i]) == Backward.Bits(expected[i]), $"{where}: values[{i}] {res.Values[i]:R}, Pointwise {expected[i]:R}");
        }
        else
        {
            float expected = KlDivergence.Reduce(x, t, TestData.Reduction(r, batch), o);
            Assert.True(Backward.Bits(res.Value) == Backward.Bits(expected), $"{where}: value {res.Value:R}, Reduce {expected:R}");
        }

        // without gradTarget (and values): the same gradInput bits
        var gx = new float[n];
        if (r == KlReductionKind.None) KlDivergence.PointwiseBackward(x, t, gx, gradOutput: g, options: o);
        else KlDivergence.Backward(x, t, gx, reduction: TestData.Reduction(r, batch), gradOutput: g, options: o);
        for (int i = 0; i < n; i++)
            Assert.True(Backward.Bits(gx[i]) == Backward.Bits(res.GradInput[i]), $"{where}: gradInput[{i}] without gradTarget differs");
    }

    private static void CheckDouble(int n, KlReductionKind r, string backend, bool logTarget, bool masked)
    {
        var (x, t) = TestData.Make(n, logTarget, masked, seed: 12);
        var o = Registry.With(backend, logTarget, masked);
        int batch = Backward.BatchOf(n);
        var res = Backward.Run(x, t, r, batch, GradOutput, o);
        double s = GradOutput / Backward.Divisor(r, n, batch);
        string where = $"{backend} double n={n} {r} logTarget={logTarget} masked={masked}";
        CheckGradients(x, t, res.GradInput, res.GradTarget, logTarget, masked, s, Reference.Float64Epsilon, Backward.K(backend), where);

        if (r == KlReductionKind.None)
        {
            var expected = new double[n];
            KlDivergence.Pointwise(x, t, expected, o);
            for (int i = 0; i < n; i++)
                Assert.True(Backward.Bits(res.Values[i]) == Backward.Bits(expected[i]), $"{where}: values[{i}] {res.Values[i]:R}, Pointwise {expected[i]:R}");
        }
        else
        {
            double expected = KlDivergence.Reduce(x, t, TestData.Reduction(r, batch), o);
            Assert.True(Backward.Bits(res.Value) == Backward.Bits(expected), $"{where}: value {res.Value:R}, Reduce {expected:R}");
        }

        var gx = new double[n];
        if (r == KlReductionKind.None) KlDivergence.PointwiseBackward(x, t, gx, gradOutput: GradOutput, options: o);
        else KlDivergence.Backward(x, t, gx, reduction: TestData.Reduction(r, batch), gradOutput: GradOutput, options: o);
        for (int i = 0; i < n; i++)
            Assert.True(Backward.Bits(gx[i]) == Backward.Bits(res.GradInput[i]), $"{where}: gradInput[{i}] without gradTarget differs");
    }

    internal static void CheckGradients(double[] x, double[] t, double[] gx, double[] gt, bool logTarget, bool masked, double s,
                                        double eps, double k, string where)
    {
        // float results overflow where the double reference still holds a finite value (exp(100) in float is +inf)
        bool f32 = eps == Reference.Float32Epsilon;
        double ToType(double v) => f32 && Math.Abs(v) > float.MaxValue ? (float)v : v;
        for (int i = 0; i < x.Length; i++)
        {
            double ex = ToType(Reference.GradInput(x[i], t[i], logTarget, masked, s));
            Assert.True(Reference.Close(gx[i], ex, Reference.GradInputScale(x[i], t[i], logTarget, masked, s), eps, k),
                $"{where}: gradInput[{i}] = {gx[i]:R}, reference {ex:R} (x={x[i]:R}, t={t[i]:R})");
            double et = ToType(Reference.GradTarget(x[i], t[i], logTarget, masked, s));
            Assert.True(Reference.Close(gt[i], et, Reference.GradTargetScale(x[i], t[i], logTarget, masked, s), eps, k),
                $"{where}: gradTarget[{i}] = {gt[i]:R}, reference {et:R} (x={x[i]:R}, t={t[i]:R})");
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void Special_values(string backend, bool logTarget, bool masked)
    {
        // zeros, negative, subnormal, infinite and NaN targets; infinite and NaN inputs
        double[] ts = logTarget
            ? new[] { double.NegativeInfinity, double.PositiveInfinity, double.NaN, 0.0, -0.0, -1.5, 100.0, 1000.0, -1e30 }
            : new[] { 0.0, -0.0, 0.3, 1.0, -0.25, 1.75, double.PositiveInfinity, double.NaN, 1e-40, 1e-310 };
        double[] xs = { 0.0, -1.0, double.NegativeInfinity, double.PositiveInfinity, double.NaN, 1e30, -1e30 };
        var xl = new List<double>(); var tl = new List<double>();
        foreach (double tv in ts) foreach (double xv in xs) { xl.Add(xv); tl.Add(tv); }
        double[] x = xl.ToArray(), t = tl.ToArray();
        var o = Registry.With(backend, logTarget, masked);
        foreach (var r in new[] { KlReductionKind.None, KlReductionKind.Sum })
        {
            var d = Backward.Run(x, t, r, 1, 1.0, o);
            CheckGradients(x, t, d.GradInput, d.GradTarget, logTarget, masked, 1.0, Reference.Float64Epsilon, Backward.K(backend),
                $"{backend} double specials {r} logTarget={logTarget} masked={masked}");
            float[] xf = TestData.ToFloat(x), tf = TestData.ToFloat(t);
            var f = Backward.Run(xf, tf, r, 1, 1.0f, o);
            CheckGradients(TestData.Widen(xf), TestData.Widen(tf), TestData.Widen(f.GradInput), TestData.Widen(f.GradTarget),
                logTarget, masked, 1.0, Reference.Float32Epsilon, Backward.K(backend),
                $"{backend} float specials {r} logTarget={logTarget} masked={masked}");
        }
    }
}

/// <summary>
/// Bit identity of value, values, gradInput and gradTarget between implementations (the pairs of
/// <see cref="BitIdentityTests"/>) over every sweep length and 1,000,003, the four reductions,
/// log_target, both semantics, float and double. On the netstandard2.0 build (no fused
/// multiply-add) native vs managed is measured and reported, not asserted.
/// </summary>
public class BackwardBitIdentityTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Pairs() => BitIdentityTests.Pairs();

    [Theory, MemberData(nameof(Pairs))]
    public void Backends_agree_bit_for_bit(string a, string b)
    {
        var (compared, differing, examples) = Compare(a, b);
        string build =
#if NKL_NETSTANDARD_BUILD
            "netstandard2.0";
#else
            "net8.0";
#endif
        output.WriteLine($"backward bit identity {a} vs {b} ({build} build, managed ISA {KlBackend.ManagedIsa}): " +
                         $"{compared - differing} of {compared} results identical, {differing} differ" +
                         (examples.Count > 0 ? "; e.g. " + string.Join("; ", examples) : ""));
#if NKL_NETSTANDARD_BUILD
        if (Registry.IsManaged(b)) return; // measured and reported above; no fused multiply-add on netstandard2.0
#endif
        Assert.True(differing == 0, $"{differing} of {compared} results differ between {a} and {b}, e.g. {string.Join("; ", examples)}");
    }

    internal static (long Compared, long Differing, List<string> Examples) Compare(string a, string b, bool large = true)
    {
        long compared = 0, differing = 0;
        var examples = new List<string>();
        foreach (bool logTarget in new[] { false, true })
        foreach (bool masked in new[] { false, true })
        foreach (int n in large ? TestData.SweepLengths.Append(TestData.LargeLength) : TestData.SweepLengths)
        {
            var oa = Registry.With(a, logTarget, masked);
            var ob = Registry.With(b, logTarget, masked);
            var (xd, td) = TestData.Make(n, logTarget, masked, seed: 13);
            float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
            int batch = Backward.BatchOf(n);

            void Count(string what, long bitsA, long bitsB)
            {
                compared++;
                if (bitsA == bitsB) return;
                differing++;
                if (examples.Count < 5) examples.Add($"{what} n={n} logTarget={logTarget} masked={masked}");
            }

            foreach (var r in Backward.Reductions)
            {
                var fa = Backward.Run(x, t, r, batch, 0.3f, oa);
                var fb = Backward.Run(x, t, r, batch, 0.3f, ob);
                Count($"float {r} value", Backward.Bits(fa.Value), Backward.Bits(fb.Value));
                for (int i = 0; i < n; i++)
                {
                    if (r == KlReductionKind.None) Count($"float {r} values[{i}]", Backward.Bits(fa.Values[i]), Backward.Bits(fb.Values[i]));
                    Count($"float {r} gradInput[{i}]", Backward.Bits(fa.GradInput[i]), Backward.Bits(fb.GradInput[i]));
                    Count($"float {r} gradTarget[{i}]", Backward.Bits(fa.GradTarget[i]), Backward.Bits(fb.GradTarget[i]));
                }
                var da = Backward.Run(xd, td, r, batch, 0.3, oa);
                var db = Backward.Run(xd, td, r, batch, 0.3, ob);
                Count($"double {r} value", Backward.Bits(da.Value), Backward.Bits(db.Value));
                for (int i = 0; i < n; i++)
                {
                    if (r == KlReductionKind.None) Count($"double {r} values[{i}]", Backward.Bits(da.Values[i]), Backward.Bits(db.Values[i]));
                    Count($"double {r} gradInput[{i}]", Backward.Bits(da.GradInput[i]), Backward.Bits(db.GradInput[i]));
                    Count($"double {r} gradTarget[{i}]", Backward.Bits(da.GradTarget[i]), Backward.Bits(db.GradTarget[i]));
                }
            }
        }
        return (compared, differing, examples);
    }
}


/// <summary>PyTorch 2.10's autograd gradients (tests/golden: grad_input, grad_target with grad_output 1).</summary>
public class BackwardGoldenTests
{
    public static TheoryData<string, string> AllCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in GoldenTests.Cases.Value)
            if (c.GetProperty("arrays").TryGetProperty("grad_input", out _))
                foreach (var backend in Registry.Backends.Keys)
                    data.Add(c.GetProperty("name").GetString()!, backend);
        return data;
    }

    [Fact]
    public void The_set_holds_gradients()
    {
        int withGradients = GoldenTests.Cases.Value.Count(c => c.GetProperty("arrays").TryGetProperty("grad_input", out _)
                                                               && c.GetProperty("arrays").TryGetProperty("grad_target", out _));
        Assert.True(withGradients >= 100, $"only {withGradients} kl_div cases with stored gradients");
    }

    [Theory, MemberData(nameof(AllCases))]
    public void Matches_PyTorch_autograd(string name, string backend)
    {
        var c = GoldenTests.Cases.Value.Single(k => k.GetProperty("name").GetString() == name);
        bool f32 = c.GetProperty("dtype").GetString() == "float32";
        bool logTarget = c.GetProperty("log_target").GetBoolean();
        var reduction = c.GetProperty("reduction").GetString() switch
        {
            "none" => KlReductionKind.None,
            "sum" => KlReductionKind.Sum,
            "mean" => KlReductionKind.Mean,
            _ => KlReductionKind.BatchMean,
        };
        var shape = c.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var arrays = c.GetProperty("arrays");
        double[] x = GoldenTests.Load(arrays.GetProperty("input")), t = GoldenTests.Load(arrays.GetProperty("target"));
        double[] ex = GoldenTests.Load(arrays.GetProperty("grad_input"));
        double[] et = GoldenTests.Load(arrays.GetProperty("grad_target"));
        int n = x.Length;
        int batch = shape.Length == 0 ? 1 : shape[0]; // functional.py: a 0-d input is not divided
        var o = Registry.With(backend, logTarget, masked: false);

        double[] gx, gt;
        if (f32)
        {
            var r = Backward.Run(TestData.ToFloat(x), TestData.ToFloat(t), reduction, batch, 1.0f, o);
            gx = TestData.Widen(r.GradInput);
            gt = TestData.Widen(r.GradTarget);
        }
        else
        {
            var r = Backward.Run(x, t, reduction, batch, 1.0, o);
            gx = r.GradInput;
            gt = r.GradTarget;
        }
        Assert.Equal(n, ex.Length);
        Assert.Equal(n, et.Length);
        double s = 1.0 / Backward.Divisor(reduction, n, batch);
        double eps = f32 ? Reference.Float32Epsilon : Reference.Float64Epsilon;
        double k = Backward.K(backend);
        for (int i = 0; i < n; i++)
        {
            Assert.True(Reference.Close(gx[i], ex[i], Reference.GradInputScale(x[i], t[i], logTarget, false, s), eps, k),
                $"{name} [{backend}] grad_input[{i}]: {gx[i]:R}, PyTorch {ex[i]:R} (x={x[i]:R}, t={t[i]:R})");
            Assert.True(Reference.Close(gt[i], et[i], Reference.GradTargetScale(x[i], t[i], logTarget, false, s), eps, k),
                $"{name} [{backend}] grad_target[{i}]: {gt[i]:R}, PyTorch {et[i]:R} (x={x[i]:R}, t={t[i]:R})");
        }
    }
}

/// <summary>Every argument error of the backward calls: type, parameter name, values in the message.</summary>
public class BackwardValidationTests
{
    private static readonly float[] Six = { -1, -2, -3, -1, -2, -3 };
    private static readonly float[] Five = { 0.1f, 0.2f, 0.3f, 0.2f, 0.2f };
    private static readonly float[] SixT = { 0.1f, 0.2f, 0.3f, 0.2f, 0.1f, 0.1f };

    private static void Throws<T>(string param, string messagePart, Action action) where T : ArgumentException
    {
        var e = Assert.Throws<T>(action);
        Assert.Equal(param, e.ParamName);
        Assert.Contains(messagePart, e.Message);
    }

    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Theory, MemberData(nameof(BackendNames))]
    public void Lengths(string backend)
    {
        var o = Registry.Backends[backend];
        Throws<ArgumentException>("target", "`target` length 5 does not match `input` length 6",
            () => KlDivergence.Backward(Six, Five, new float[6], reduction: KlReduction.Sum, options: o));
        Throws<ArgumentException>("target", "`target` length 5 does not match `input` length 6",
            () => KlDivergence.PointwiseBackward(TestData.Widen(Six), TestData.Widen(Five), new double[6], options: o));
        Throws<ArgumentException>("gradInput", "`gradInput` length 5 is shorter than `input` length 6",
            () => KlDivergence.Backward(Six, SixT, new float[5], reduction: KlReduction.Sum, options: o));
        Throws<ArgumentException>("gradInput", "`gradInput` length 0 is shorter than `input` length 6",
            () => KlDivergence.PointwiseBackward(Six, SixT, Span<float>.Empty, options: o));
        Throws<ArgumentException>("gradTarget", "`gradTarget` length 3 is shorter than `input` length 6",
            () => KlDivergence.Backward(TestData.Widen(Six), TestData.Widen(SixT), new double[6], new double[3], KlReduction.Mean, options: o));
        Throws<ArgumentException>("values", "`values` length 5 is shorter than `input` length 6",
            () => KlDivergence.PointwiseBackward(Six, SixT, new float[6], new float[6], new float[5], options: o));
    }

    [Fact]
    public void Reductions_and_batches()
    {
        Throws<ArgumentOutOfRangeException>("batchSize", "`batchSize` 0 must be > 0 for BatchMean (`input` length 6)",
            () => KlDivergence.Backward(Six, SixT, new float[6], reduction: KlReduction.BatchMean(0)));
        Throws<ArgumentOutOfRangeException>("batchSize", "`batchSize` -2 must be > 0",
            () => KlDivergence.Backward(TestData.Widen(Six), TestData.Widen(SixT), new double[6], reduction: KlReduction.BatchMean(-2)));
        Throws<ArgumentException>("batchSize", "`batchSize` 4 does not divide `input` length 6",
            () => KlDivergence.Backward(Six, SixT, new float[6], reduction: KlReduction.BatchMean(4)));
        Throws<ArgumentOutOfRangeException>("options", "undefined Backend",
            () => KlDivergence.Backward(Six, SixT, new float[6], reduction: KlReduction.Sum, options: new KlOptions { Backend = (KlBackendKind)9 }));
        // empty input with batch 0: PyTorch's shape [0], NaN
        Assert.True(Reference.IsLibraryNaN(KlDivergence.Backward(Array.Empty<float>(), Array.Empty<float>(), Span<float>.Empty, reduction: KlReduction.BatchMean(0))));
        Assert.Equal(0.0, KlDivergence.Backward(Array.Empty<double>(), Array.Empty<double>(), Span<double>.Empty, reduction: KlReduction.Sum));
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Overlaps(string backend)
    {
        var o = Registry.Backends[backend];
        var buffer = new float[24];
        Six.CopyTo(buffer, 0);
        SixT.CopyTo(buffer, 6);
        // in place is not allowed either
        Throws<ArgumentException>("gradInput", "`gradInput` overlaps `input`; every output needs its own memory, apart from the inputs and the other outputs (no in-place)",
            () => KlDivergence.Backward(buffer.AsSpan(0, 6), buffer.AsSpan(6, 6), buffer.AsSpan(0, 6), reduction: KlReduction.Sum, options: o));
        Throws<ArgumentException>("gradInput", "`gradInput` overlaps `target`",
            () => KlDivergence.Backward(buffer.AsSpan(0, 6), buffer.AsSpan(6, 6), buffer.AsSpan(8, 6), reduction: KlReduction.Sum, options: o));
        Throws<ArgumentException>("gradTarget", "`gradTarget` overlaps `input`",
            () => KlDivergence.Backward(buffer.AsSpan(0, 6), buffer.AsSpan(6, 6), buffer.AsSpan(12, 6), buffer.AsSpan(5, 6), KlReduction.Sum, options: o));
        Throws<ArgumentException>("gradTarget", "`gradTarget` overlaps `target`",
            () => KlDivergence.PointwiseBackward(buffer.AsSpan(0, 6), buffer.AsSpan(6, 6), buffer.AsSpan(12, 6), buffer.AsSpan(6, 6), options: o));
        Throws<ArgumentException>("gradTarget", "`gradTarget` overlaps `gradInput`",
            () => KlDivergence.PointwiseBackward(buffer.AsSpan(0, 6), buffer.AsSpan(6, 6), buffer.AsSpan(12, 6), buffer.AsSpan(17, 6), options: o));
        Throws<ArgumentException>("values", "`values` overlaps `input`",
            () => KlDivergence.PointwiseBackward(buffer.AsSpan(0, 6), buffer.AsSpan(6, 6), buffer.AsSpan(12, 6), default, buffer.AsSpan(0, 6), options: o));
        Throws<ArgumentException>("values", "`values` overlaps `gradInput`",
            () => KlDivergence.PointwiseBackward(buffer.AsSpan(0, 6), buffer.AsSpan(6, 6), buffer.AsSpan(12, 6), default, buffer.AsSpan(14, 6), options: o));
        var gt = new float[6];
        Throws<ArgumentException>("values", "`values` overlaps `gradTarget`",
            () => KlDivergence.PointwiseBackward(Six, SixT, new float[6], gt, gt, options: o));
        var d = new double[12];
        Throws<ArgumentException>("gradInput", "`gradInput` overlaps `input`",
            () => KlDivergence.PointwiseBackward(d.AsSpan(0, 6), TestData.Widen(SixT), d.AsSpan(3, 6), options: o));
        // only the first input.Length elements are outputs: longer spans may hold anything beyond
        var gx = new float[10];
        KlDivergence.Backward(Six, SixT, gx.AsSpan(), reduction: KlReduction.Sum, options: o);
        Assert.Equal(0f, gx[9]);
    }
}

/// <summary>The backward calls allocate nothing on the managed heap.</summary>
public class BackwardAllocationTests
{
    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Theory, MemberData(nameof(BackendNames))]
    public void Backward_allocates_nothing(string backend)
    {
        var options = Registry.With(backend, logTarget: false, masked: false);
        var logOptions = Registry.With(backend, logTarget: true, masked: true);
        var (xd, td) = TestData.Make(40_000, false, false, seed: 4);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        var gx = new float[x.Length]; var gt = new float[x.Length]; var v = new float[x.Length];
        var gxd = new double[x.Length]; var gtd = new double[x.Length]; var vd = new double[x.Length];

        void Calls()
        {
            KlDivergence.Backward(x, t, gx, gt, KlReduction.Sum, 1f, options);
            KlDivergence.Backward(x, t, gx, default, KlReduction.BatchMean(8), 0.5f, logOptions);
            KlDivergence.PointwiseBackward(x, t, gx, gt, v, 1f, options);
            KlDivergence.Backward(x.AsSpan(0, 13), t.AsSpan(0, 13), gx, gt, KlReduction.Mean, 1f, options);
            KlDivergence.Backward(xd, td, gxd, gtd, KlReduction.Mean, 1.0, options);
            KlDivergence.PointwiseBackward(xd, td, gxd, gtd, vd, 2.0, logOptions);
            KlDivergence.PointwiseBackward(xd.AsSpan(0, 7), td.AsSpan(0, 7), gxd, default, default, 1.0, options);
        }

        for (int i = 0; i < 50; i++) Calls();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Calls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
