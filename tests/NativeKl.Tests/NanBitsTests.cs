
namespace NativeKl.Tests;

/// <summary>
/// Every NaN the library returns or writes is the positive quiet NaN, 0x7FC00000 / 0x7FF8000000000000
/// (nativekl.h NKL_NAN_BITS_F32 / _F64; not float.NaN / double.NaN, whose sign bit is set), on every
/// backend of the Registry and the managed scalar path, from every public method, float and double:
/// whatever NaN the inputs held (either sign, a payload, signalling) and however the NaN arose
/// (0·∞, ∞ − ∞, 0/0, log of t &lt; 0). Besides, every result of the same data has the same bits on every
/// backend (the netstandard2.0 build's managed backend, without fused multiply-add, excepted).
/// </summary>
public class NanBitsTests(ITestOutputHelper output)
{
    /// <summary>Results of one backend, in call order: a label and the bits (float results as uint).</summary>
    internal sealed class Results
    {
        public readonly List<(string What, ulong Bits, bool Single)> Items = new();
        public int NaNs;

        public void Add(string what, float v) => Items.Add((what, BitConverter.SingleToUInt32Bits(v), true));
        public void Add(string what, double v) => Items.Add((what, BitConverter.DoubleToUInt64Bits(v), false));
        public void Add(string what, ReadOnlySpan<float> v) { for (int i = 0; i < v.Length; i++) Add($"{what}[{i}]", v[i]); }
        public void Add(string what, ReadOnlySpan<double> v) { for (int i = 0; i < v.Length; i++) Add($"{what}[{i}]", v[i]); }

        /// <summary>Every NaN among the results is the library's, bit for bit.</summary>
        public void AssertNaNsAreTheLibrarys(string where)
        {
            foreach (var (what, bits, single) in Items)
            {
                bool nan = single ? float.IsNaN(BitConverter.UInt32BitsToSingle((uint)bits)) : double.IsNaN(BitConverter.UInt64BitsToDouble(bits));
                if (!nan) continue;
                NaNs++;
                Assert.True(single ? bits == Reference.NaNBitsF32 : bits == Reference.NaNBitsF64,
                    $"{where}: {what} is a NaN with bits {(single ? bits.ToString("x8") : bits.ToString("x16"))}, not the library's " +
                    $"{(single ? Reference.NaNBitsF32.ToString("x8") : Reference.NaNBitsF64.ToString("x16"))}");
            }
        }
    }

    /// <summary>NaNs an input may hold: float.NaN (negative), the positive quiet NaN, payloads of either sign, a signalling NaN.</summary>
    private static readonly uint[] NaNsF32 = { 0xffc00000u, 0x7fc00000u, 0x7fc001a5u, 0xffc001a5u, 0x7f800001u };
    private static readonly ulong[] NaNsF64 = { 0xfff8000000000000ul, 0x7ff8000000000000ul, 0x7ff80034a00007a5ul, 0xfff80034a00007a5ul, 0x7ff0000000000001ul };

    private const double In = 12345.0; // "a NaN input": replaced by each kind
    private const double Inf = double.PositiveInfinity;

    /// <summary>(x, t, logTarget, masked, whether the pointwise term is NaN)</summary>
    private static readonly (double X, double T, bool LogTarget, bool Masked, bool TermNaN, string What)[] Pairs =
    {
        (-0.5, In, false, false, true, "t NaN"),
        (In, 0.3, false, false, true, "x NaN"),
        (In, In, false, false, true, "x and t NaN"),
        (-0.5, -0.25, false, false, true, "t < 0"),
        (-Inf, 0.0, false, false, true, "t = 0, x = -inf"),
        (Inf, 0.0, false, false, true, "t = 0, x = +inf"),
        (In, 0.0, false, false, true, "t = 0, x NaN"),
        (-0.5, 0.0, false, false, false, "t = 0 (d/dt NaN)"),
        (-0.5, Inf, false, false, false, "t = +inf (d/dt NaN)"),
        (-0.5, In, false, true, true, "masked, t NaN"),
        (-0.5, -Inf, true, false, true, "log_target, t = -inf"),
        (-Inf, -Inf, true, false, true, "log_target, t = x = -inf"),
        (-0.5, In, true, false, true, "log_target, t NaN"),
        (In, -0.5, true, false, true, "log_target, x NaN"),
        (Inf, Inf, true, false, true, "log_target, t = x = +inf"),
        // no NaN term, but NaN gradients with gradOutput 0 or infinite (0 inf): RunSpecialGradOutputs
        (Inf, 0.3, false, false, false, "x = +inf, t normal"),
        (-Inf, 0.3, false, false, false, "x = -inf, t normal"),
        (Inf, -0.5, true, false, false, "log_target, x = +inf"),
        (-Inf, -0.5, true, false, false, "log_target, x = -inf"),
        (-0.5, 0.3, false, false, false, "ordinary"),
        (-0.5, -0.5, true, false, false, "log_target, ordinary"),
    };

    private const int N = 37; // both vector widths' body and tail

    /// <summary>Every public KlDivergence method on one (x, t) case, the odd pair at `at` of row 1 of two.</summary>
    internal static Results RunKl(KlOptions backend, int pair, int kind, int at)
    {
        var (px, pt, logTarget, masked, termNaN, what) = Pairs[pair];
        var o = backend with { LogTarget = logTarget, Masked = masked };
        var r = new Results();
        var xd = new double[2 * N];
        var td = new double[2 * N];
        var xf = new float[2 * N];
        var tf = new float[2 * N];
        for (int i = 0; i < 2 * N; i++)
        {
            xd[i] = -1.0 - 0.01 * (i % 7);
            td[i] = logTarget ? -1.5 - 0.01 * (i % 5) : 0.2 + 0.01 * (i % 5);
            xf[i] = (float)xd[i];
            tf[i] = (float)td[i];
        }
        int k = N + at;
        xd[k] = px == In ? BitConverter.UInt64BitsToDouble(NaNsF64[kind]) : px;
        td[k] = pt == In ? BitConverter.UInt64BitsToDouble(NaNsF64[(kind + 1) % NaNsF64.Length]) : pt;
        xf[k] = px == In ? BitConverter.UInt32BitsToSingle(NaNsF32[kind]) : (float)px;
        tf[k] = pt == In ? BitConverter.UInt32BitsToSingle(NaNsF32[(kind + 1) % NaNsF32.Length]) : (float)pt;
        ReadOnlySpan<float> x1 = xf.AsSpan(N), t1 = tf.AsSpan(N);
        ReadOnlySpan<double> x1d = xd.AsSpan(N), t1d = td.AsSpan(N);

        var pf = new float[N];
        var pd = new double[N];
        KlDivergence.Pointwise(x1, t1, pf, o);
        KlDivergence.Pointwise(x1d, t1d, pd, o);
        r.Add("float pointwise", pf);
        r.Add("double pointwise", pd);
        if (termNaN) Assert.True(float.IsNaN(pf[at]) && double.IsNaN(pd[at]), $"{what}: pointwise term not NaN");
        foreach (var red in new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean })
        {
            float vf = KlDivergence.Reduce(x1, t1, TestData.Reduction(red, N), o);
            double vd = KlDivergence.Reduce(x1d, t1d, TestData.Reduction(red, N), o);
            r.Add($"float {red}", vf);
            r.Add($"double {red}", vd);
            if (termNaN) Assert.True(float.IsNaN(vf) && double.IsNaN(vd), $"{what}: {red} not NaN");
        }
        var rf = new float[2];
        var rd = new double[2];
        KlDivergence.Rows(xf, tf, 2, N, rf, o);
        KlDivergence.Rows(xd, td, 2, N, rd, o);
        r.Add("float rows", rf);
        r.Add("double rows", rd);
        if (termNaN) Assert.True(float.IsNaN(rf[1]) && double.IsNaN(rd[1]) && !float.IsNaN(rf[0]), $"{what}: rows");

        var (gif, gtf, vf2) = (new float[N], new float[N], new float[N]);
        var (gid, gtd, vd2) = (new double[N], new double[N], new double[N]);
        KlDivergence.PointwiseBackward(x1, t1, gif, gtf, vf2, -0.75f, o);
        KlDivergence.PointwiseBackward(x1d, t1d, gid, gtd, vd2, -0.75, o);
        r.Add("float PointwiseBackward values", vf2); r.Add("float PointwiseBackward gradInput", gif); r.Add("float PointwiseBackward gradTarget", gtf);
        r.Add("double PointwiseBackward values", vd2); r.Add("double PointwiseBackward gradInput", gid); r.Add("double PointwiseBackward gradTarget", gtd);
        if (!masked && !logTarget && (pt == 0.0 || pt == Inf || pt == In))
            Assert.True(float.IsNaN(gtf[at]) && double.IsNaN(gtd[at]), $"{what}: d/dt not NaN");
        foreach (var red in new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean })
        {
            float bf = KlDivergence.Backward(x1, t1, gif, gtf, TestData.Reduction(red, N), 1f, o);
            double bd = KlDivergence.Backward(x1d, t1d, gid, gtd, TestData.Reduction(red, N), 1.0, o);
            r.Add($"float Backward {red} value", bf); r.Add($"float Backward {red} gradInput", gif); r.Add($"float Backward {red} gradTarget", gtf);
            r.Add($"double Backward {red} value", bd); r.Add($"double Backward {red} gradInput", gid); r.Add($"double Backward {red} gradTarget", gtd);
            if (termNaN) Assert.True(float.IsNaN(bf) && double.IsNaN(bd), $"{what}: Backward {red} value not NaN");
        }
        return r;
    }

    /// <summary>
    /// The backward of every case with gradOutput 0, ±∞ and NaN, which make NaN gradients of their own
    /// (0·∞ where a term or a factor is infinite; NaN everywhere): where the kernels skip the NaN
    /// fix-up for an ordinary gradOutput, these must not.
    /// </summary>
    internal static Results RunSpecialGradOutputs(KlOptions backend)
    {
        var r = new Results();
        foreach (double g in new[] { 0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN })
            for (int p = 0; p < Pairs.Length; p++)
            {
                var (px, pt, logTarget, masked, _, what) = Pairs[p];
                var o = backend with { LogTarget = logTarget, Masked = masked };
                var xd = new double[N];
                var td = new double[N];
                for (int i = 0; i < N; i++)
                {
                    xd[i] = -1.0 - 0.01 * (i % 7);
                    td[i] = logTarget ? -1.5 - 0.01 * (i % 5) : 0.2 + 0.01 * (i % 5);
                }
                xd[5] = xd[N - 2] = px == In ? double.NaN : px;
                td[5] = td[N - 2] = pt == In ? double.NaN : pt;
                float[] xf = TestData.ToFloat(xd), tf = TestData.ToFloat(td);
                var (gif, gtf, vf) = (new float[N], new float[N], new float[N]);
                var (gid, gtd, vdd) = (new double[N], new double[N], new double[N]);
                KlDivergence.PointwiseBackward(xf, tf, gif, gtf, vf, (float)g, o);
                KlDivergence.PointwiseBackward(xd, td, gid, gtd, vdd, g, o);
                r.Add($"{what} g={g} float values", vf); r.Add($"{what} g={g} float gradInput", gif); r.Add($"{what} g={g} float gradTarget", gtf);
                r.Add($"{what} g={g} double values", vdd); r.Add($"{what} g={g} double gradInput", gid); r.Add($"{what} g={g} double gradTarget", gtd);
                if (double.IsNaN(g)) Assert.True(float.IsNaN(gif[0]) && double.IsNaN(gtd[N - 1]), $"{what}: NaN gradOutput, gradients not NaN");
                r.Add($"{what} g={g} float Backward", KlDivergence.Backward(xf, tf, gif, gtf, KlReduction.Mean, (float)g, o));
                r.Add($"{what} g={g} double Backward", KlDivergence.Backward(xd, td, gid, gtd, KlReduction.Sum, g, o));
                r.Add($"{what} g={g} float Backward gradInput", gif); r.Add($"{what} g={g} float Backward gradTarget", gtf);
                r.Add($"{what} g={g} double Backward gradInput", gid); r.Add($"{what} g={g} double Backward gradTarget", gtd);
            }
        // distillation: ordinary logits, an infinite gradOutput times a zero factor, or a NaN one
        var d = new DistillationOptions(1.5) { Backend = backend.Backend, Isa = backend.Isa };
        var sdd = new double[3 * N];
        var udd = new double[3 * N];
        for (int i = 0; i < sdd.Length; i++) { sdd[i] = 0.5 * (i * 7 % 5) - 1.0; udd[i] = 0.25 * (i * 3 % 7); }
        float[] sff = TestData.ToFloat(sdd), uff = TestData.ToFloat(udd);
        foreach (double g in new[] { 0.0, double.PositiveInfinity, double.NaN })
        {
            var (gsf, guf) = (new float[3 * N], new float[3 * N]);
            var (gsd, gud) = (new double[3 * N], new double[3 * N]);
            r.Add($"distill g={g} float", Distillation.Backward(sff, uff, 3, N, gsf, guf, KlReductionKind.Sum, (float)g, d));
            r.Add($"distill g={g} double", Distillation.Backward(sdd, udd, 3, N, gsd, gud, KlReductionKind.Sum, g, d));
            r.Add($"distill g={g} float gradStudent", gsf); r.Add($"distill g={g} float gradTeacher", guf);
            r.Add($"distill g={g} double gradStudent", gsd); r.Add($"distill g={g} double gradTeacher", gud);
            if (double.IsNaN(g)) Assert.True(float.IsNaN(gsf[0]) && double.IsNaN(gud[3 * N - 1]), "distillation: NaN gradOutput, gradients not NaN");
        }
        return r;
    }

    /// <summary>The odd logits of distillation: (in the teacher, value, teacher log-probabilities).</summary>
    private static readonly (bool InTeacher, double Value, bool LogProbs, string What)[] OddLogits =
    {
        (false, In, false, "NaN student logit"),
        (true, In, false, "NaN teacher logit"),
        (false, Inf, false, "+inf student logit"),
        (true, Inf, false, "+inf teacher logit"),
        (false, In, true, "NaN student logit, teacher log-probs"),
        (true, In, true, "NaN teacher log-prob"),
        (true, Inf, true, "+inf teacher log-prob"),
    };

    /// <summary>Every public Distillation method, 3 rows of N, the odd logit at `at` of row 1.</summary>
    internal static Results RunDistill(KlOptions backend, int odd, int kind, int at)
    {
        var (inTeacher, value, logProbs, what) = OddLogits[odd];
        var o = new DistillationOptions(1.5)
        {
            Teacher = logProbs ? TeacherKind.LogProbabilitiesAsGiven : TeacherKind.Logits, MultiplyLossByTemperatureSquared = true,
            Backend = backend.Backend, Isa = backend.Isa,
        };
        const int rows = 3;
        var sd = new double[rows * N];
        var ud = new double[rows * N];
        for (int r0 = 0; r0 < rows; r0++)
            for (int c = 0; c < N; c++)
            {
                sd[r0 * N + c] = 0.5 * ((c * 7 + r0) % 5) - 1.0;
                ud[r0 * N + c] = logProbs ? -Math.Log(N) : 0.25 * ((c * 3 + r0) % 7);
            }
        float[] sf = TestData.ToFloat(sd), uf = TestData.ToFloat(ud);
        (inTeacher ? ud : sd)[N + at] = value == In ? BitConverter.UInt64BitsToDouble(NaNsF64[kind]) : value;
        (inTeacher ? uf : sf)[N + at] = value == In ? BitConverter.UInt32BitsToSingle(NaNsF32[kind]) : (float)value;
        var res = new Results();
        foreach (var red in new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean })
        {
            float lf = Distillation.Loss(sf, uf, rows, N, red, o);
            double ld = Distillation.Loss(sd, ud, rows, N, red, o);
            Assert.True(float.IsNaN(lf) && double.IsNaN(ld), $"{what}: {red} loss not NaN");
            res.Add($"float Loss {red}", lf);
            res.Add($"double Loss {red}", ld);
            var (gsf, guf) = (new float[rows * N], new float[rows * N]);
            var (gsd, gud) = (new double[rows * N], new double[rows * N]);
            res.Add($"float Backward {red}", Distillation.Backward(sf, uf, rows, N, gsf, guf, red, -0.75f, o));
            res.Add($"double Backward {red}", Distillation.Backward(sd, ud, rows, N, gsd, gud, red, -0.75, o));
            res.Add($"float Backward {red} gradStudent", gsf); res.Add($"float Backward {red} gradTeacher", guf);
            res.Add($"double Backward {red} gradStudent", gsd); res.Add($"double Backward {red} gradTeacher", gud);
        }
        var rlf = new float[rows];
        var rld = new double[rows];
        Distillation.RowLosses(sf, uf, rows, N, rlf, o);
        Distillation.RowLosses(sd, ud, rows, N, rld, o);
        Assert.True(float.IsNaN(rlf[1]) && double.IsNaN(rld[1]) && !float.IsNaN(rlf[0]) && !double.IsNaN(rld[2]), $"{what}: row losses");
        res.Add("float RowLosses", rlf);
        res.Add("double RowLosses", rld);
        var (gsf2, guf2) = (new float[rows * N], new float[rows * N]);
        var (gsd2, gud2) = (new double[rows * N], new double[rows * N]);
        Distillation.RowBackward(sf, uf, rows, N, gsf2, guf2, rlf, 2f, o);
        Distillation.RowBackward(sd, ud, rows, N, gsd2, gud2, rld, 2.0, o);
        res.Add("float RowBackward losses", rlf); res.Add("float RowBackward gradStudent", gsf2); res.Add("float RowBackward gradTeacher", guf2);
        res.Add("double RowBackward losses", rld); res.Add("double RowBackward gradStudent", gsd2); res.Add("double RowBackward gradTeacher", gud2);
        return res;
    }

    /// <summary>What is 0/0 or ∞ − ∞ without any NaN input: empty means, inf − inf sums, overflowing chunks in parallel.</summary>
    internal static Results RunComputedNaNs(KlOptions o)
    {
        var r = new Results();
        r.Add("float empty Mean", KlDivergence.Mean(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, o));
        r.Add("double empty BatchMean", KlDivergence.BatchMean(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, 0, o));
        r.Add("float empty Backward Mean", KlDivergence.Backward(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, Span<float>.Empty, reduction: KlReduction.Mean, options: o));
        r.Add("double empty Backward BatchMean", KlDivergence.Backward(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, Span<double>.Empty, reduction: KlReduction.BatchMean(0), options: o));
        var d = new DistillationOptions(1.0) { Backend = o.Backend, Isa = o.Isa };
        r.Add("float Distillation no kept row BatchMean", Distillation.Loss(new float[] { 1, 2, 3 }, new float[] { 3, 2, 1 }, 1, 3, KlReductionKind.BatchMean, d, new float[] { 0 }));
        r.Add("double Distillation columns 0 Mean", Distillation.Loss(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, 2, 0, KlReductionKind.Mean, d));
        // +inf and -inf terms in one sum: inf - inf (x = -inf gives +inf, x = +inf gives -inf);
        // across chunks in parallel, and within one chunk
        const int big = 3 * 16384 + 5;
        var xf = new float[big];
        var tf = new float[big];
        var xd = new double[big];
        var td = new double[big];
        Array.Fill(xf, -1f); Array.Fill(tf, 0.25f); Array.Fill(xd, -1.0); Array.Fill(td, 0.25);
        xf[3] = float.NegativeInfinity; xd[3] = double.NegativeInfinity;
        xf[big - 2] = float.PositiveInfinity; xd[big - 2] = double.PositiveInfinity;
        foreach (int dop in new[] { 1, 3 })
        {
            r.Add($"float inf - inf Sum dop {dop}", KlDivergence.Reduce(xf, tf, KlReduction.Sum, o, dop));
            r.Add($"double inf - inf Mean dop {dop}", KlDivergence.Reduce(xd, td, KlReduction.Mean, o, dop));
        }
        xf[20] = float.PositiveInfinity; xd[20] = double.PositiveInfinity;
        r.Add("float inf - inf in one chunk, Rows", RowsOf(xf.AsSpan(0, 40), tf.AsSpan(0, 40), o));
        double[] rd = new double[1];
        KlDivergence.Rows(xd.AsSpan(0, 40), td.AsSpan(0, 40), 1, 40, rd, o);
        r.Add("double inf - inf in one chunk, Rows", rd[0]);
        // a chunk whose terms overflow to +inf: its compensation is inf - inf, which must not leak
        var of = new double[big];
        var ot = new double[big];
        Array.Fill(of, -1e308); Array.Fill(ot, 1.0);
        double overflow = KlDivergence.Reduce(of, ot, KlReduction.Sum, o, 3);
        Assert.Equal(double.PositiveInfinity, overflow);
        r.Add("double overflowing chunks, dop 3", overflow);
        foreach (var (what, bits, single) in r.Items)
            if (!what.StartsWith("double overflowing"))
                Assert.True(single ? float.IsNaN(BitConverter.UInt32BitsToSingle((uint)bits)) : double.IsNaN(BitConverter.UInt64BitsToDouble(bits)),
                    $"{what} is not NaN");
        return r;
    }

    private static float RowsOf(ReadOnlySpan<float> x, ReadOnlySpan<float> t, KlOptions o)
    {
        var d = new float[1];
        KlDivergence.Rows(x, t, 1, x.Length, d, o);
        return d[0];
    }

    /// <summary>All scenarios on one backend; the NaNs checked, the results returned for comparison.</summary>
    internal static List<Results> RunAll(KlOptions o, string where)
    {
        var all = new List<Results>();
        for (int p = 0; p < Pairs.Length; p++)
        {
            bool hasNaN = Pairs[p].X == In || Pairs[p].T == In;
            for (int kind = 0; kind < (hasNaN ? NaNsF32.Length : 1); kind++)
                foreach (int at in new[] { 0, 18, N - 1 })
                {
                    var r = RunKl(o, p, kind, at);
                    r.AssertNaNsAreTheLibrarys($"{where} {Pairs[p].What} (NaN kind {kind}) at {at}");
                    all.Add(r);
                }
        }
        for (int d = 0; d < OddLogits.Length; d++)
            for (int kind = 0; kind < (OddLogits[d].Value == In ? NaNsF32.Length : 1); kind++)
                foreach (int at in new[] { 0, 18, N - 1 })
                {
                    var r = RunDistill(o, d, kind, at);
                    r.AssertNaNsAreTheLibrarys($"{where} {OddLogits[d].What} (NaN kind {kind}) at {at}");
                    all.Add(r);
                }
        var c = RunComputedNaNs(o);
        c.AssertNaNsAreTheLibrarys($"{where} computed NaNs");
        all.Add(c);
        var g = RunSpecialGradOutputs(o);
        g.AssertNaNsAreTheLibrarys($"{where} gradOutput 0, inf, NaN");
        all.Add(g);
        return all;
    }

    public static TheoryData<string> Backends() => Registry.BackendNames();

    [Theory, MemberData(nameof(Backends))]
    public void Every_NaN_is_the_librarys(string backend)
    {
        var all = RunAll(Registry.Backends[backend], backend);
        int nans = all.Sum(r => r.NaNs), results = all.Sum(r => r.Items.Count);
        output.WriteLine($"{backend}: {nans} NaNs among {results} results, every one 0x7fc00000 / 0x7ff8000000000000");
        Assert.True(nans > 1000, $"only {nans} NaNs checked");
    }

    /// <summary>The same data gives the same bits, NaNs included, on every backend.</summary>
    [Fact]
    public void Every_backend_gives_the_same_bits_NaNs_included()
    {
        var reference = RunAll(Registry.Backends["native"], "native");
        foreach (var backend in Registry.Backends.Keys.Where(b => b != "native"))
        {
#if NKL_NETSTANDARD_BUILD
            if (Registry.IsManaged(backend)) continue; // no fused multiply-add on netstandard2.0: last bits may differ
#endif
            var other = RunAll(Registry.Backends[backend], backend);
            CompareBits(reference, other, backend);
        }
    }

    internal static void CompareBits(List<Results> reference, List<Results> other, string backend)
    {
        Assert.Equal(reference.Count, other.Count);
        for (int s = 0; s < reference.Count; s++)
        {
            var a = reference[s].Items;
            var b = other[s].Items;
            Assert.Equal(a.Count, b.Count);
            for (int i = 0; i < a.Count; i++)
                Assert.True(a[i].Bits == b[i].Bits, $"{backend}: scenario {s} {a[i].What}: bits {b[i].Bits:x}, native {a[i].Bits:x}");
        }
    }
}

