using System.Text.Json;

namespace NativeKl.Tests;

/// <summary>
/// Distillation from logits on every backend: against a double-precision reference (shapes,
/// strides, temperatures, teacher kinds, T², weights, the four reductions), PyTorch's golden
/// distillation cases, extreme and masked logits, finite differences, bit identity across
/// backends, argument checks that name the argument and write nothing, and zero allocation.
/// </summary>
public class DistillationTests
{
    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    private static DistillationOptions For(string backend, DistillationOptions o) =>
        o with { Backend = Registry.Backends[backend].Backend, Isa = Registry.Backends[backend].Isa };

    // ------------------------------------------------------------ reference

    /// <summary>One row in double from the scaled logits: KL, an error scale, log q and log p.</summary>
    private static (double Kl, double Tol) RefRow(double[] a, double[] b, bool logProbs, double[] lq, double[] lp)
    {
        double ma = double.NegativeInfinity, mb = double.NegativeInfinity, za = 0, zb = 0;
        int n = a.Length;
        for (int c = 0; c < n; c++) { ma = Math.Max(ma, a[c]); mb = Math.Max(mb, b[c]); }
        for (int c = 0; c < n; c++) { za += Math.Exp(a[c] - ma); zb += Math.Exp(b[c] - mb); }
        double la = Math.Log(za), lb = Math.Log(zb), kl = 0, tol = 1 + Math.Abs(la) + (logProbs ? 0 : Math.Abs(lb));
        for (int c = 0; c < n; c++)
        {
            lq[c] = double.IsNegativeInfinity(a[c]) ? double.NegativeInfinity : (a[c] - ma) - la;
            lp[c] = logProbs ? b[c] : double.IsNegativeInfinity(b[c]) ? double.NegativeInfinity : (b[c] - mb) - lb;
            double p = Math.Exp(lp[c]);
            if (p == 0) continue;
            kl += p * (lp[c] - lq[c]);
            tol += p * (Math.Abs(lp[c]) + Math.Abs(lq[c]) + 1);
        }
        return (kl, tol);
    }

    private sealed record Case(int Rows, int Cols, int Ss, int Ts, double T, TeacherKind Teacher, bool T2, bool Weighted, int Seed, double Scale = 3);

    private static (double[] S, double[] U, double[] W) Data(Case k)
    {
        var rng = new Random(k.Seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var s = new double[Math.Max(1, (k.Rows - 1) * k.Ss + k.Cols)];
        var u = new double[Math.Max(1, (k.Rows - 1) * k.Ts + k.Cols)];
        Array.Fill(s, double.NaN); // padding between rows must never be read
        Array.Fill(u, double.NaN);
        for (int r = 0; r < k.Rows; r++)
        {
            for (int c = 0; c < k.Cols; c++) { s[r * k.Ss + c] = k.Scale * Normal(); u[r * k.Ts + c] = k.Scale * Normal(); }
            if (k.Teacher == TeacherKind.LogProbabilitiesAsGiven && k.Cols > 0)
            {
                double m = double.NegativeInfinity, z = 0;
                for (int c = 0; c < k.Cols; c++) m = Math.Max(m, u[r * k.Ts + c]);
                for (int c = 0; c < k.Cols; c++) z += Math.Exp(u[r * k.Ts + c] - m);
                for (int c = 0; c < k.Cols; c++) u[r * k.Ts + c] -= m + Math.Log(z);
            }
        }
        var w = k.Weighted ? Enumerable.Range(0, k.Rows).Select(r => r % 3 == 1 ? 0.0 : 0.5 + rng.NextDouble()).ToArray() : Array.Empty<double>();
        return (s, u, w);
    }

    public static TheoryData<string, int> ReferenceCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var b in Registry.Backends.Keys)
            for (int i = 0; i < Cases.Length; i++) data.Add(b, i);
        return data;
    }

    private static readonly Case[] Cases =
    {
        new(1, 1, 1, 1, 1, TeacherKind.Logits, false, false, 1),
        new(2, 3, 3, 3, 2, TeacherKind.Logits, true, false, 2),
        new(5, 17, 19, 17, 0.5, TeacherKind.Logits, false, true, 3),
        new(3, 33, 33, 40, 3.7, TeacherKind.LogProbabilitiesAsGiven, true, true, 4),
        new(64, 100, 100, 100, 2, TeacherKind.Logits, true, true, 5),
        new(7, 257, 260, 257, 1, TeacherKind.LogProbabilitiesAsGiven, false, false, 6),
        new(4, 1000, 1000, 1003, 4, TeacherKind.Logits, true, false, 7, Scale: 30),
        new(2, 32000, 32000, 32000, 2, TeacherKind.Logits, false, true, 8),
        new(3, 40, 40, 40, 2, TeacherKind.Logits, false, false, 9, Scale: 1000),
    };

    [Theory, MemberData(nameof(ReferenceCases))]
    public void Matches_a_double_reference_float32(string backend, int index) => CheckReference(backend, Cases[index], single: true);

    [Theory, MemberData(nameof(ReferenceCases))]
    public void Matches_a_double_reference_float64(string backend, int index) => CheckReference(backend, Cases[index], single: false);

    private static void CheckReference(string backend, Case k, bool single)
    {
        var (s, u, w) = Data(k);
        var o = For(backend, new DistillationOptions(k.T)
        { Teacher = k.Teacher, MultiplyLossByTemperatureSquared = k.T2, StudentStride = k.Ss, TeacherStride = k.Ts });
        bool lp = k.Teacher == TeacherKind.LogProbabilitiesAsGiven;
        double eps = single ? 1.1920928955078125e-07 : 2.220446049250313e-16, t2 = k.T2 ? k.T * k.T : 1;
        double invT = single ? (float)(1.0 / k.T) : 1.0 / k.T;
        double Scaled(double v) => single ? (float)((float)v * (float)invT) : v * invT;
        var stats = new (double Kl, double Tol)[k.Rows];
        var lqs = new double[k.Rows][];
        var lps = new double[k.Rows][];
        int kept = 0;
        double total = 0, totalTol = 0;
        for (int r = 0; r < k.Rows; r++)
        {
            double wr = w.Length > 0 ? w[r] : 1;
            var a = new double[k.Cols];
            var b = new double[k.Cols];
            for (int c = 0; c < k.Cols; c++)
            {
                double sv = single ? (float)s[r * k.Ss + c] : s[r * k.Ss + c];
                double uv = single ? (float)u[r * k.Ts + c] : u[r * k.Ts + c];
                a[c] = Scaled(sv);
                b[c] = lp ? uv : Scaled(uv);
            }
            lqs[r] = new double[k.Cols];
            lps[r] = new double[k.Cols];
            stats[r] = RefRow(a, b, lp, lqs[r], lps[r]);
            if (wr == 0) continue;
            kept++;
            total += wr * t2 * stats[r].Kl;
            totalTol += wr * t2 * stats[r].Tol;
        }
        var reductions = new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean };
        foreach (var red in reductions)
        {
            double divisor = red == KlReductionKind.Mean ? (double)kept * k.Cols : red == KlReductionKind.BatchMean ? kept : 1;
            double want = total / divisor, tol = 64 * eps * totalTol / divisor + (single ? Math.Abs(want) * eps : 0);
            double got = single
                ? Distillation.Loss(ToF(s), ToF(u), k.Rows, k.Cols, red, o, ToF(w))
                : Distillation.Loss(s, u, k.Rows, k.Cols, red, o, w);
            Assert.True(Math.Abs(got - want) <= tol, $"{red}: {got:R}, reference {want:R} (tol {tol:G3})");

            // with gradients: the same value, and the gradients element by element
            double g = 0.75 * t2 / divisor;
            double[] gs, gu;
            double got2;
            if (single)
            {
                var gsf = new float[s.Length];
                var guf = new float[u.Length];
                got2 = Distillation.Backward(ToF(s), ToF(u), k.Rows, k.Cols, gsf, guf, red, 0.75f, o, ToF(w));
                gs = gsf.Select(x => (double)x).ToArray();
                gu = guf.Select(x => (double)x).ToArray();
            }
            else
            {
                gs = new double[s.Length];
                gu = new double[u.Length];
                got2 = Distillation.Backward(s, u, k.Rows, k.Cols, gs, gu, red, 0.75, o, w);
            }
            Assert.Equal(BitConverter.DoubleToInt64Bits(got), BitConverter.DoubleToInt64Bits(got2));
            for (int r = 0; r < k.Rows; r++)
            {
                double wr = w.Length > 0 ? w[r] : 1, gr = g * wr;
                double mass = lps[r].Sum(x => Math.Exp(x));
                for (int c = 0; c < k.Cols; c++)
                {
                    double q = Math.Exp(lqs[r][c]), p = Math.Exp(lps[r][c]);
                    double ws = gr / k.T * (q * mass - p);
                    double wu = p == 0 ? 0 : lp ? gr * p * ((lps[r][c] - lqs[r][c]) + 1) : gr / k.T * p * ((lps[r][c] - lqs[r][c]) - stats[r].Kl);
                    double ts = 64 * eps * Math.Abs(gr / k.T) * (Mag(q, lqs[r][c]) + Mag(p, lps[r][c]) + q * mass * (single ? 1 : 1 + k.Cols / 4.0)) + 1e-300;
                    double tu = p == 0 ? 0 : 64 * eps * Math.Abs(lp ? gr : gr / k.T) * p * (1 + Math.Abs(lps[r][c]) + Math.Abs(lqs[r][c]) + Math.Abs(stats[r].Kl) + stats[r].Tol)
                                          * (1 + Math.Abs(lps[r][c] - lqs[r][c]) + Math.Abs(stats[r].Kl));
                    tu += (single ? 1e-43 : 1e-300) * (1 + Math.Abs(gr) * 1000);
                    ts += single ? 1e-43 : 0;
                    if (wr == 0) { ws = 0; wu = 0; }
                    Assert.True(Math.Abs(gs[r * k.Ss + c] - ws) <= ts, $"{red} grad_student[{r},{c}] {gs[r * k.Ss + c]:R}, reference {ws:R}");
                    Assert.True(Math.Abs(gu[r * k.Ts + c] - wu) <= tu, $"{red} grad_teacher[{r},{c}] {gu[r * k.Ts + c]:R}, reference {wu:R}");
                }
            }
        }

        // one value per row
        if (single)
        {
            var rows = new float[k.Rows];
            Distillation.RowLosses(ToF(s), ToF(u), k.Rows, k.Cols, rows, o, ToF(w));
            for (int r = 0; r < k.Rows; r++)
            {
                double wr = w.Length > 0 ? w[r] : 1, want = wr * t2 * stats[r].Kl;
                Assert.True(Math.Abs(rows[r] - want) <= 64 * eps * wr * t2 * stats[r].Tol + Math.Abs(want) * eps, $"row {r}: {rows[r]:R}, reference {want:R}");
            }
        }
        else
        {
            var rows = new double[k.Rows];
            Distillation.RowLosses(s, u, k.Rows, k.Cols, rows, o, w);
            for (int r = 0; r < k.Rows; r++)
            {
                double wr = w.Length > 0 ? w[r] : 1, want = wr * t2 * stats[r].Kl;
                Assert.True(Math.Abs(rows[r] - want) <= 64 * eps * wr * t2 * stats[r].Tol, $"row {r}: {rows[r]:R}, reference {want:R}");
            }
        }
    }

    private static double Mag(double x, double logX) => x == 0 ? 0 : x * (1 + Math.Abs(logX));
    private static float[] ToF(double[] a) => a.Select(x => (float)x).ToArray();

    // ------------------------------------------------------------ bit identity

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_backend_gives_the_same_bits(bool logProbs)
    {
        // Every tail shape of the 32-element float32 blocks (and the 8-element float64 ones), and
        // enough rows that a last-bit change in a lane's float pre-add reaches some float32 output.
        foreach (int cols in new[] { 1, 5, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 1000 })
        {
            var k = new Case(cols >= 31 ? 24 : 3, cols, cols + 1, cols, 1.7, logProbs ? TeacherKind.LogProbabilitiesAsGiven : TeacherKind.Logits, true, true, cols);
            var (s, u, w) = Data(k);
            s[0] = double.NegativeInfinity; // a masked class and a far-off logit
            u[k.Ts + cols - 1] = double.NegativeInfinity;
            if (cols > 2) s[2 * k.Ss + 1] = 90;
            var results = new Dictionary<string, (uint[] F, ulong[] D)>();
            foreach (var backend in Registry.Backends.Keys)
            {
                var o = For(backend, new DistillationOptions(k.T) { Teacher = k.Teacher, MultiplyLossByTemperatureSquared = true, StudentStride = k.Ss, TeacherStride = k.Ts });
                var gsf = new float[s.Length];
                var guf = new float[u.Length];
                var rowsF = new float[k.Rows];
                float vf = Distillation.Backward(ToF(s), ToF(u), k.Rows, cols, gsf, guf, KlReductionKind.BatchMean, 0.5f, o, ToF(w));
                Distillation.RowLosses(ToF(s), ToF(u), k.Rows, cols, rowsF, o, ToF(w));
                var gsd = new double[s.Length];
                var gud = new double[u.Length];
                var rowsD = new double[k.Rows];
                double vd = Distillation.Backward(s, u, k.Rows, cols, gsd, gud, KlReductionKind.Mean, 0.5, o, w);
                Distillation.RowLosses(s, u, k.Rows, cols, rowsD, o, w);
                var f = new[] { vf }.Concat(rowsF).Concat(gsf).Concat(guf).Select(BitConverter.SingleToUInt32Bits).ToArray();
                var d = new[] { vd }.Concat(rowsD).Concat(gsd).Concat(gud).Select(BitConverter.DoubleToUInt64Bits).ToArray();
                AssertNaNsAreTheLibrarys(f, d, $"cols {cols}: {backend}");
                results[backend] = (f, d);
            }
            var native = results["native"];
            foreach (var (backend, r) in results)
            {
#if NKL_NETSTANDARD_BUILD
                if (Registry.IsManaged(backend)) continue; // no fused multiply-add on netstandard2.0: last bits may differ
#endif
                Assert.True(native.F.SequenceEqual(r.F), $"cols {cols}: float32 bits of {backend} differ from native");
                Assert.True(native.D.SequenceEqual(r.D), $"cols {cols}: float64 bits of {backend} differ from native");
            }
        }
    }

    /// <summary>
    /// One NaN logit with payload bits among clean ones, at every position of a 32-element block,
    /// in either stream: the AVX2 fast paths (whose range checks can hide a NaN from the
    /// integer-scaled exp) must still give native's bits, NaN where native has NaN.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_payload_nan_anywhere_gives_the_same_bits(bool logProbs)
    {
        const int rows = 2, cols = 96;
        float nan = BitConverter.Int32BitsToSingle(0x7fc001a5);
        double nanD = BitConverter.Int64BitsToDouble(0x7ff80034a00007a5);
        var (sd, ud, _) = Data(new Case(rows, cols, cols, cols, 1.3, logProbs ? TeacherKind.LogProbabilitiesAsGiven : TeacherKind.Logits, false, false, 77));
        for (int pos = 0; pos < 64; pos += 3)
        {
            foreach (bool inTeacher in new[] { false, true })
            {
                float[] s = ToF(sd), u = ToF(ud);
                double[] s2 = (double[])sd.Clone(), u2 = (double[])ud.Clone();
                (inTeacher ? u : s)[cols + pos] = nan;
                (inTeacher ? u2 : s2)[cols + pos] = nanD;
                var results = new Dictionary<string, (uint[] F, ulong[] D)>();
                foreach (var backend in Registry.Backends.Keys)
                {
                    var o = For(backend, new DistillationOptions(1.3) { Teacher = logProbs ? TeacherKind.LogProbabilitiesAsGiven : TeacherKind.Logits });
                    float[] gs = new float[s.Length], gu = new float[u.Length], rl = new float[rows];
                    double[] gsd = new double[s.Length], gud = new double[u.Length], rld = new double[rows];
                    Distillation.RowLosses(s, u, rows, cols, rl, o);
                    Distillation.Backward(s, u, rows, cols, gs, gu, KlReductionKind.Sum, 1f, o);
                    Distillation.RowLosses(s2, u2, rows, cols, rld, o);
                    Distillation.Backward(s2, u2, rows, cols, gsd, gud, KlReductionKind.Sum, 1.0, o);
                    Assert.True(Reference.IsLibraryNaN(rl[1]), $"{backend}: row 1 with a NaN logit at {pos} gave {rl[1]}");
                    Assert.True(Reference.IsLibraryNaN(rld[1]), $"{backend}: double row 1 with a NaN logit at {pos} gave {rld[1]}");
                    results[backend] = (rl.Concat(gs).Concat(gu).Select(BitConverter.SingleToUInt32Bits).ToArray(),
                                        rld.Concat(gsd).Concat(gud).Select(BitConverter.DoubleToUInt64Bits).ToArray());
                    AssertNaNsAreTheLibrarys(results[backend].F, results[backend].D, $"NaN at {pos}: {backend}");
                }
                foreach (var (backend, r) in results)
                {
#if NKL_NETSTANDARD_BUILD
                    if (Registry.IsManaged(backend)) continue; // no fused multiply-add on netstandard2.0: last bits may differ
#endif
                    Assert.True(results["native"].F.SequenceEqual(r.F), $"NaN at {pos} ({(inTeacher ? "teacher" : "student")}): float32 bits of {backend} differ from native");
                    Assert.True(results["native"].D.SequenceEqual(r.D), $"NaN at {pos} ({(inTeacher ? "teacher" : "student")}): float64 bits of {backend} differ from native");
                }
            }
        }
    }

    /// <summary>Every NaN among the bits is the library's (also where the bits of two backends are not compared).</summary>
    private static void AssertNaNsAreTheLibrarys(uint[] f, ulong[] d, string where)
    {
        foreach (uint b in f)
            if (float.IsNaN(BitConverter.UInt32BitsToSingle(b))) Assert.True(b == Reference.NaNBitsF32, $"{where}: a float NaN with bits {b:x8}");
        foreach (ulong b in d)
            if (double.IsNaN(BitConverter.UInt64BitsToDouble(b))) Assert.True(b == Reference.NaNBitsF64, $"{where}: a double NaN with bits {b:x16}");
    }

    // ------------------------------------------------------------ golden

    private static readonly Lazy<JsonElement[]> Golden = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(GoldenTests.Root, "manifest.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Where(c => c.GetProperty("op").GetString() == "distill" && c.GetProperty("arrays").TryGetProperty("grad_teacher", out _))
            .Select(c => c.Clone()).ToArray();
    });

    public static TheoryData<string, string> GoldenCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in Golden.Value)
            foreach (var b in Registry.Backends.Keys)
                data.Add(c.GetProperty("name").GetString()!, b);
        return data;
    }

    [Fact]
    public void The_golden_set_holds_distillation_cases() => Assert.True(Golden.Value.Length >= 16, $"{Golden.Value.Length} distill cases");

    [Theory, MemberData(nameof(GoldenCases))]
    public void Matches_PyTorch(string name, string backend)
    {
        var c = Golden.Value.Single(x => x.GetProperty("name").GetString() == name);
        var arrays = c.GetProperty("arrays");
        double[] s = GoldenTests.Load(arrays.GetProperty("student_logits")), u = GoldenTests.Load(arrays.GetProperty("teacher_logits"));
        double[] wantGs = GoldenTests.Load(arrays.GetProperty("grad_student")), wantGu = GoldenTests.Load(arrays.GetProperty("grad_teacher"));
        double loss = GoldenTests.Load(arrays.GetProperty("loss"))[0];
        var shape = c.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        int rows = shape[0], cols = shape[1];
        double t = c.GetProperty("params").GetProperty("T").GetDouble();
        bool single = c.GetProperty("dtype").GetString() == "float32";
        var o = For(backend, new DistillationOptions(t) { MultiplyLossByTemperatureSquared = true });
        double eps = single ? 1.1920928955078125e-07 : 2.220446049250313e-16, got;
        double[] gs, gu;
        if (single)
        {
            var gsf = new float[s.Length];
            var guf = new float[u.Length];
            got = Distillation.Backward(ToF(s), ToF(u), rows, cols, gsf, guf, KlReductionKind.BatchMean, 1f, o);
            gs = gsf.Select(x => (double)x).ToArray();
            gu = guf.Select(x => (double)x).ToArray();
        }
        else
        {
            gs = new double[s.Length];
            gu = new double[u.Length];
            got = Distillation.Backward(s, u, rows, cols, gs, gu, KlReductionKind.BatchMean, 1.0, o);
        }
        Assert.True(Math.Abs(got - loss) <= 16 * eps * (1 + Math.Abs(loss)), $"loss {got:R}, PyTorch {loss:R}");
        for (int r = 0; r < rows; r++)
        {
            double bigS = 0, bigU = 0;
            for (int j = 0; j < cols; j++) { bigS = Math.Max(bigS, Math.Abs(wantGs[r * cols + j])); bigU = Math.Max(bigU, Math.Abs(wantGu[r * cols + j])); }
            for (int j = 0; j < cols; j++)
            {
                int e = r * cols + j;
                // the teacher's factor (log p - log q - KL) cancels: allow for its terms' size (logits ~ 3 randn / T)
                Assert.True(Math.Abs(gs[e] - wantGs[e]) <= 32 * eps * bigS, $"grad_student[{e}] {gs[e]:R}, PyTorch {wantGs[e]:R}");
                Assert.True(Math.Abs(gu[e] - wantGu[e]) <= 32 * eps * bigU * 64, $"grad_teacher[{e}] {gu[e]:R}, PyTorch {wantGu[e]:R}");
            }
        }
    }

    // ------------------------------------------------------------ special inputs

    [Theory, MemberData(nameof(BackendNames))]
    public void Extreme_and_masked_logits_give_finite_correct_values(string backend)
    {
        var o = For(backend, new DistillationOptions(2));
        foreach (double scale in new[] { 100.0, 1000.0 })
        {
            var k = new Case(4, 300, 300, 300, 2, TeacherKind.Logits, false, false, 21, scale);
            var (s, u, _) = Data(k);
            var rows = new float[4];
            Distillation.RowLosses(ToF(s), ToF(u), 4, 300, rows, o);
            Assert.All(rows, v => Assert.True(float.IsFinite(v) && v >= 0, $"x{scale}: {v}"));
            // the same distributions shifted by a large constant: KL = 0
            var shifted = u.Select((_, i) => s[i] + 1000).ToArray();
            Distillation.RowLosses(ToF(s), ToF(shifted), 4, 300, rows, o);
            Assert.All(rows, v => Assert.True(Math.Abs(v) < 1e-5, $"shifted copy x{scale}: {v}"));
        }
        // masked classes: -inf in both (or in the teacher only) is the same as leaving the class out
        var sm = new double[] { 1, double.NegativeInfinity, 0.5, -2, 3, 0.25 };
        var um = new double[] { 0.2, double.NegativeInfinity, 1.5, double.NegativeInfinity, 0.1, -1 };
        var s2 = new double[] { 1, 0.5, -2, 3, 0.25 };
        var u2 = new double[] { 0.2, 1.5, double.NegativeInfinity, 0.1, -1 };
        double a = Distillation.Loss(sm, um, 1, 6, KlReductionKind.Sum, o);
        double b = Distillation.Loss(s2, u2, 1, 5, KlReductionKind.Sum, o);
        Assert.True(double.IsFinite(a) && Math.Abs(a - b) < 1e-14, $"{a:R} vs {b:R}");
        var gs = new double[6];
        var gu = new double[6];
        Distillation.Backward(sm, um, 1, 6, gs, gu, KlReductionKind.Sum, 1.0, o);
        Assert.All(gs.Concat(gu), v => Assert.True(double.IsFinite(v), $"gradient {v}"));
        Assert.Equal(0.0, gs[1]);
        Assert.Equal(0.0, gu[1]);
        Assert.Equal(0.0, gu[3]);
    }

    /// <summary>
    /// A student logit of -∞ where the teacher's probability underflows to 0: PyTorch's composite gives
    /// NaN (its pointwise kl_div is xlogy(p, p) − p·log q = 0 − 0·(−∞); log_target: exp(l)(l − log q) =
    /// 0·∞), so every position of the class relative to the teacher's large logit gives NaN (the value
    /// pass once gave 0 where the large logit came first in the class's lane and block). A teacher logit
    /// of -∞ there masks the class in both: the KL of the others.
    /// </summary>
    [Theory, MemberData(nameof(BackendNames))]
    public void A_student_minus_infinity_where_the_teacher_probability_underflows_gives_NaN(string backend)
    {
        foreach (var teacher in new[] { TeacherKind.Logits, TeacherKind.LogProbabilitiesAsGiven })
        {
            var o = For(backend, new DistillationOptions(1) { Teacher = teacher });
            bool lp = teacher == TeacherKind.LogProbabilitiesAsGiven;
            foreach (int cols in new[] { 33, 70 })
            foreach (int big in new[] { 0, cols / 2, cols - 1 })
            {
                for (int c = 0; c < cols; c++)
                {
                    if (c == big) continue;
                    var s = new double[cols];
                    var u = new double[cols];
                    // logits: 1000 above the rest, whose p is e^-1000 = 0; log-probabilities: log 1 and -1000
                    for (int i = 0; i < cols; i++) u[i] = i == big ? (lp ? 0 : 1000) : (lp ? -1000 : 0);
                    s[c] = double.NegativeInfinity;
                    double v64 = Distillation.Loss(s, u, 1, cols, KlReductionKind.Sum, o);
                    float v32 = Distillation.Loss(ToF(s), ToF(u), 1, cols, KlReductionKind.Sum, o);
                    Assert.True(double.IsNaN(v64) && float.IsNaN(v32),
                        $"{teacher} cols {cols}: large teacher value at {big}, student -inf at {c}: {v32:R}, {v64:R}; PyTorch gives NaN");
                    u[c] = double.NegativeInfinity;
                    v64 = Distillation.Loss(s, u, 1, cols, KlReductionKind.Sum, o);
                    v32 = Distillation.Loss(ToF(s), ToF(u), 1, cols, KlReductionKind.Sum, o);
                    double want = Math.Log(cols - 1); // p = 1 at the large value, where q = 1 / (cols - 1)
                    Assert.True(Math.Abs(v64 - want) < 1e-12 && Math.Abs(v32 - want) < 1e-5,
                        $"{teacher} cols {cols}: masked in both at {c}: {v32:R}, {v64:R}, want {want:R}");
                }
            }
        }
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Ignored_rows_contribute_nothing_and_are_not_counted(string backend)
    {
        var o = For(backend, new DistillationOptions(1));
        double[] s = { 1, 2, 3, double.NaN, double.NaN, double.NaN, 0.5, 0.1, -1 };
        double[] u = { 3, 2, 1, double.NaN, double.NaN, double.NaN, -1, 0, 2 };
        double[] w = { 1, 0, 1 };
        double withMask = Distillation.Loss(s, u, 3, 3, KlReductionKind.BatchMean, o, w);
        double[] s2 = { 1, 2, 3, 0.5, 0.1, -1 }, u2 = { 3, 2, 1, -1, 0, 2 };
        double without = Distillation.Loss(s2, u2, 2, 3, KlReductionKind.BatchMean, o);
        Assert.Equal(without, withMask);
        var gs = new double[9];
        var gu = new double[9];
        gs.AsSpan().Fill(7);
        gu.AsSpan().Fill(7);
        Distillation.Backward(s, u, 3, 3, gs, gu, KlReductionKind.BatchMean, 1.0, o, w);
        for (int c = 3; c < 6; c++)
        {
            Assert.Equal(0x0ul, BitConverter.DoubleToUInt64Bits(gs[c]));
            Assert.Equal(0x0ul, BitConverter.DoubleToUInt64Bits(gu[c]));
        }
        Assert.True(Reference.IsLibraryNaN(Distillation.Loss(s, u, 3, 3, KlReductionKind.BatchMean, o, new double[] { 0, 0, 0 })));
    }

    [Fact]
    public void Central_finite_differences_match_the_gradients()
    {
        foreach (var teacher in new[] { TeacherKind.Logits, TeacherKind.LogProbabilitiesAsGiven })
        {
            var k = new Case(3, 11, 11, 11, 2.5, teacher, true, true, 31);
            var (s, u, w) = Data(k);
            w[1] = 0.5;
            var o = new DistillationOptions(k.T) { Teacher = teacher, MultiplyLossByTemperatureSquared = true };
            var gs = new double[s.Length];
            var gu = new double[u.Length];
            Distillation.Backward(s, u, 3, 11, gs, gu, KlReductionKind.BatchMean, 1.0, o, w);
            for (int i = 0; i < s.Length; i++)
            {
                foreach (var x in new[] { s, u })
                {
                    double keep = x[i], h = 1e-5 * Math.Max(1, Math.Abs(keep));
                    x[i] = keep + h;
                    double fp = Distillation.Loss(s, u, 3, 11, KlReductionKind.BatchMean, o, w);
                    x[i] = keep - h;
                    double fm = Distillation.Loss(s, u, 3, 11, KlReductionKind.BatchMean, o, w);
                    x[i] = keep;
                    double fd = (fp - fm) / (2 * h), an = ReferenceEquals(x, s) ? gs[i] : gu[i];
                    Assert.True(Math.Abs(fd - an) <= 1e-7 * (1 + Math.Abs(an)), $"{teacher} d/d{(ReferenceEquals(x, s) ? "student" : "teacher")}[{i}]: {fd:R} vs {an:R}");
                }
            }
        }
    }

    // ------------------------------------------------------------ arguments

    [Theory, MemberData(nameof(BackendNames))]
    public void Bad_arguments_throw_naming_the_argument_and_write_nothing(string backend)
    {
        var o = For(backend, new DistillationOptions(2));
        float[] s = new float[12], u = new float[12], gs = new float[12], gu = new float[12], rows = new float[3];
        void Untouched()
        {
            Assert.All(gs, v => Assert.Equal(7f, v));
            Assert.All(rows, v => Assert.Equal(7f, v));
        }
        void Expect<TEx>(string param, Action call) where TEx : ArgumentException
        {
            gs.AsSpan().Fill(7);
            rows.AsSpan().Fill(7);
            var ex = Assert.Throws<TEx>(call);
            Assert.Equal(param, ex.ParamName);
            Untouched();
        }
        Expect<ArgumentOutOfRangeException>("rows", () => Distillation.Loss(s, u, -1, 4, options: o));
        Expect<ArgumentOutOfRangeException>("columns", () => Distillation.Loss(s, u, 3, -4, options: o));
        Expect<ArgumentException>("student", () => Distillation.Loss(s.AsSpan(0, 11), u, 3, 4, options: o));
        Expect<ArgumentException>("teacher", () => Distillation.Loss(s, u.AsSpan(0, 5), 3, 4, options: o));
        Expect<ArgumentException>("reduction", () => Distillation.Loss(s, u, 3, 4, KlReductionKind.None, o));
        Expect<ArgumentOutOfRangeException>("reduction", () => Distillation.Loss(s, u, 3, 4, (KlReductionKind)9, o));
        foreach (double t in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity, 1e-300 })
            Expect<ArgumentOutOfRangeException>("options", () => Distillation.Backward(s, u, 3, 4, gs, gu, options: o with { Temperature = t }));
        Expect<ArgumentOutOfRangeException>("options.StudentStride", () => Distillation.Loss(s, u, 3, 4, options: o with { StudentStride = 3 }));
        Expect<ArgumentOutOfRangeException>("options.TeacherStride", () => Distillation.Loss(s, u, 3, 4, options: o with { TeacherStride = -1 }));
        Expect<ArgumentOutOfRangeException>("options", () => Distillation.Loss(s, u, 3, 4, options: o with { Teacher = (TeacherKind)5 }));
        Expect<ArgumentOutOfRangeException>("rowWeights", () => Distillation.Backward(s, u, 3, 4, gs, gu, options: o, rowWeights: new[] { 1f, -1f, 1f }));
        Expect<ArgumentOutOfRangeException>("rowWeights", () => Distillation.Backward(s, u, 3, 4, gs, gu, options: o, rowWeights: new[] { 1f, float.NaN, 1f }));
        Expect<ArgumentException>("rowWeights", () => Distillation.Loss(s, u, 3, 4, options: o, rowWeights: new[] { 1f }));
        Expect<ArgumentException>("gradStudent", () => Distillation.Backward(s, u, 3, 4, gs.AsSpan(0, 11), gu, options: o));
        Expect<ArgumentException>("gradTeacher", () => Distillation.Backward(s, u, 3, 4, gs, gu.AsSpan(0, 11), options: o));
        Expect<ArgumentException>("destination", () => Distillation.RowLosses(s, u, 3, 4, rows.AsSpan(0, 2), o));
        Expect<ArgumentException>("gradStudent", () => Distillation.Backward(s, u, 3, 4, s, gu, options: o));
        Expect<ArgumentException>("gradTeacher", () => Distillation.Backward(s, u, 3, 4, gs, gs, options: o));
        Expect<ArgumentException>("rowLosses", () => Distillation.RowBackward(s, u, 3, 4, gs, gu, u.AsSpan(0, 3), options: o));
        // the overlap message fits a forward call too (RowLosses is not a backward call)
        var e = Assert.Throws<ArgumentException>(() => Distillation.RowLosses(s, u, 3, 4, s.AsSpan(4, 3), o));
        Assert.StartsWith("`destination` overlaps `student`; every output needs its own memory, apart from the inputs and the other outputs (no in-place)", e.Message);
        Assert.DoesNotContain("backward", e.Message);
        e = Assert.Throws<ArgumentException>(() => Distillation.RowBackward(s, u, 3, 4, gs, gs, rows, options: o));
        Assert.StartsWith("`gradTeacher` overlaps `gradStudent`; every output needs its own memory", e.Message);
    }

    // ------------------------------------------------------------ allocation

    [Theory, MemberData(nameof(BackendNames))]
    public void Calls_allocate_nothing(string backend)
    {
        var o = For(backend, new DistillationOptions(2) { MultiplyLossByTemperatureSquared = true });
        var (sd, ud, _) = Data(new Case(8, 100, 100, 100, 2, TeacherKind.Logits, false, false, 41));
        float[] s = ToF(sd), u = ToF(ud), gs = new float[s.Length], gu = new float[u.Length], rows = new float[8], w = new float[8];
        w.AsSpan().Fill(1);
        void FloatCalls()
        {
            Distillation.Loss(s, u, 8, 100, KlReductionKind.BatchMean, o);
            Distillation.RowLosses(s, u, 8, 100, rows, o, w);
            Distillation.Backward(s, u, 8, 100, gs, gu, KlReductionKind.BatchMean, 1f, o, w);
            Distillation.RowBackward(s, u, 8, 100, gs, default, rows, 1f, o);
        }
        for (int i = 0; i < 20; i++) FloatCalls();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) FloatCalls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

