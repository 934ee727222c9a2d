namespace NativeKl.Tests;

/// <summary>
/// Pointwise, PointwiseBackward, Backward and Rows with a degree of parallelism give the bits of the
/// single-threaded call for 2, 3 and 8 threads: every backend, both element types, every semantics,
/// with and without ValidateInputs (the same exception when it refuses), lengths around chunk
/// boundaries and 1,000,003; and the chunk API (Partials, BackwardPartials, Finish) in any split
/// gives the one call's bits, with partials that are the same bits on every backend.
/// </summary>
public class ParallelElementwiseTests
{
    public static TheoryData<string, bool, bool> Cases() => Registry.BackendSemantics();

    private const int Chunk = KlDivergence.ChunkLength;
    private static readonly int[] Lengths = { Chunk - 1, Chunk + 1, 2 * Chunk - 1, 2 * Chunk, 3 * Chunk + 1, TestData.LargeLength };
    private static readonly int[] Degrees = { 2, 3, 8 };

    private static ulong Fold(ulong h, ulong bits) => (h ^ bits) * 0x100000001b3ul;
    private static ulong Hash(ReadOnlySpan<float> a, ulong h = 0xcbf29ce484222325ul) { foreach (float v in a) h = Fold(h, BitConverter.SingleToUInt32Bits(v)); return h; }
    private static ulong Hash(ReadOnlySpan<double> a, ulong h = 0xcbf29ce484222325ul) { foreach (double v in a) h = Fold(h, BitConverter.DoubleToUInt64Bits(v)); return h; }

    /// <summary>The bits a call produced (hashed), or the exception it threw (type and message).</summary>
    private static string Outcome(Func<ulong> call)
    {
        try { return call().ToString("x16"); }
        catch (Exception e) { return $"{e.GetType().Name}: {e.Message}"; }
    }

    /// <summary>Every operation of one element type at one degree, as (name, outcome) pairs.</summary>
    private static IEnumerable<(string, string)> FloatOps(float[] x, float[] t, KlOptions o, int dop)
    {
        int n = x.Length;
        float[] a = new float[n], b = new float[n], c = new float[n];
        int batch = n % 3 == 0 ? 3 : 1;
        yield return ("Pointwise", Outcome(() => { KlDivergence.Pointwise(x, t, a, o, dop); return Hash(a); }));
        yield return ("Pointwise in place", Outcome(() => { x.CopyTo(b, 0); KlDivergence.Pointwise(b, t, b, o, dop); return Hash(b); }));
        yield return ("PointwiseBackward", Outcome(() => { KlDivergence.PointwiseBackward(x, t, a, b, c, 0.75f, o, dop); return Hash(c, Hash(b, Hash(a))); }));
        yield return ("PointwiseBackward gradInput only", Outcome(() => { KlDivergence.PointwiseBackward(x, t, a, default, default, 3f, o, dop); return Hash(a); }));
        foreach (var kind in new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean })
        {
            var r = TestData.Reduction(kind, batch);
            yield return ($"Backward {kind}", Outcome(() =>
            {
                float v = KlDivergence.Backward(x, t, a, b, r, 0.5f, o, dop);
                return Hash(b, Hash(a, BitConverter.SingleToUInt32Bits(v)));
            }));
            yield return ($"Backward {kind} no gradTarget", Outcome(() =>
            {
                float v = KlDivergence.Backward(x, t, a, default, r, 3f, o, dop);
                return Hash(a, BitConverter.SingleToUInt32Bits(v));
            }));
        }
        foreach (int columns in new[] { 1000, Chunk + 1, 37 })
        {
            int rows = n / columns;
            yield return ($"Rows {rows}x{columns}", Outcome(() =>
            {
                KlDivergence.Rows(x.AsSpan(0, rows * columns), t.AsSpan(0, rows * columns), rows, columns, a, o, dop);
                return Hash(a.AsSpan(0, rows));
            }));
            int stride = columns + 3, srows = (n - columns) / stride + 1;
            yield return ($"Rows strided {srows}x{columns}", Outcome(() =>
            {
                KlDivergence.Rows(x, stride, t, stride, srows, columns, a, o, dop);
                return Hash(a.AsSpan(0, srows));
            }));
        }
    }

    private static IEnumerable<(string, string)> DoubleOps(double[] x, double[] t, KlOptions o, int dop)
    {
        int n = x.Length;
        double[] a = new double[n], b = new double[n], c = new double[n];
        int batch = n % 3 == 0 ? 3 : 1;
        yield return ("Pointwise", Outcome(() => { KlDivergence.Pointwise(x, t, a, o, dop); return Hash(a); }));
        yield return ("PointwiseBackward", Outcome(() => { KlDivergence.PointwiseBackward(x, t, a, b, c, 0.75, o, dop); return Hash(c, Hash(b, Hash(a))); }));
        foreach (var kind in new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean })
        {
            var r = TestData.Reduction(kind, batch);
            yield return ($"Backward {kind}", Outcome(() =>
            {
                double v = KlDivergence.Backward(x, t, a, b, r, 0.5, o, dop);
                return Hash(b, Hash(a, BitConverter.DoubleToUInt64Bits(v)));
            }));
        }
        int columns = 1000, rows = n / columns;
        yield return ("Rows", Outcome(() =>
        {
            KlDivergence.Rows(x.AsSpan(0, rows * columns), t.AsSpan(0, rows * columns), rows, columns, a, o, dop);
            return Hash(a.AsSpan(0, rows));
        }));
        yield return ("Rows strided", Outcome(() =>
        {
            KlDivergence.Rows(x, 1001, t, 1001, rows - 1, columns, a, o, dop);
            return Hash(a.AsSpan(0, rows - 1));
        }));
    }

    [Theory, MemberData(nameof(Cases))]
    public void Every_degree_gives_the_single_threaded_bits(string backend, bool logTarget, bool masked)
    {
        var problems = new List<string>();
        foreach (bool validate in new[] { false, true })
        {
            var o = Registry.With(backend, logTarget, masked) with { ValidateInputs = validate };
            foreach (int n in Lengths)
            {
                var (xd, td) = TestData.Make(n, logTarget, masked, seed: 17);
                float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
                var single = FloatOps(x, t, o, 1).ToList();
                var singleD = DoubleOps(xd, td, o, 1).ToList();
                foreach (int dop in Degrees)
                {
                    var par = FloatOps(x, t, o, dop).ToList();
                    var parD = DoubleOps(xd, td, o, dop).ToList();
                    for (int i = 0; i < single.Count; i++)
                        if (single[i].Item2 != par[i].Item2)
                            problems.Add($"f32 {single[i].Item1} n={n} dop={dop} validate={validate}: {par[i].Item2} vs {single[i].Item2}");
                    for (int i = 0; i < singleD.Count; i++)
                        if (singleD[i].Item2 != parD[i].Item2)
                            problems.Add($"f64 {singleD[i].Item1} n={n} dop={dop} validate={validate}: {parD[i].Item2} vs {singleD[i].Item2}");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
    }

    /// <summary>A split of [0, count) into consecutive ranges of the given sizes (cycled), done in reverse order.</summary>
    private static List<(int First, int Count)> Split(int count, int[] sizes)
    {
        var ranges = new List<(int, int)>();
        for (int at = 0, k = 0; at < count; k++)
        {
            int s = Math.Min(sizes[k % sizes.Length], count - at);
            ranges.Add((at, s));
            at += s;
        }
        ranges.Reverse();
        return ranges;
    }

    [Theory, MemberData(nameof(Cases))]
    public void The_chunk_API_in_any_split_gives_the_one_call_bits(string backend, bool logTarget, bool masked)
    {
        var o = Registry.With(backend, logTarget, masked);
        var reference = o with { Backend = KlBackendKind.Native, Isa = KlIsa.Auto };
        bool compareToNative = KlBackend.IsNativeAvailable && !(Registry.IsManaged(backend) && !ManagedFma);
        int[][] splits = { new[] { 1 }, new[] { 2, 1 }, new[] { 3, 1, 5 }, new[] { int.MaxValue } };
        foreach (int n in new[] { 0, 1, Chunk, Chunk + 1, 5 * Chunk + 3, TestData.LargeLength })
        {
            var (xd, td) = TestData.Make(n, logTarget, masked, seed: 23);
            float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
            int chunks = KlDivergence.ChunkCount(n);
            Assert.Equal((n + Chunk - 1) / Chunk, chunks);
            int batch = n % 3 == 0 && n > 0 ? 3 : 1;
            foreach (var kind in new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean })
            {
                var r = TestData.Reduction(kind, batch);
                float[] gx1 = new float[n], gt1 = new float[n], gx2 = new float[n], gt2 = new float[n];
                double[] gxd1 = new double[n], gxd2 = new double[n];
                float value = KlDivergence.Backward(x, t, gx1, gt1, r, 0.75f, o);
                double valueD = KlDivergence.Backward(xd, td, gxd1, default, r, 0.75, o);
                float forward = KlDivergence.Reduce(x, t, r, o);
                var partials = new KlPartial[chunks];
                var partialsD = new KlPartial[chunks];
                var forwardPartials = new KlPartial[chunks];
                foreach (int[] sizes in splits)
                {
                    Array.Clear(gx2); Array.Clear(gt2); Array.Clear(gxd2);
                    foreach (var (first, count) in Split(chunks, sizes))
                    {
                        KlDivergence.BackwardPartials(x, t, first, gx2, gt2, partials.AsSpan(first, count), r, 0.75f, o);
                        KlDivergence.BackwardPartials(xd, td, first, gxd2, default, partialsD.AsSpan(first, count), r, 0.75, o);
                        KlDivergence.Partials(x, t, first, forwardPartials.AsSpan(first, count), o);
                    }
                    string what = $"n={n} {kind} split={string.Join(",", sizes)}";
                    Assert.True(Bits((float)KlDivergence.Finish(partials, n, r)) == Bits(value), $"f32 value {what}");
                    Assert.True(BitConverter.DoubleToUInt64Bits(KlDivergence.Finish(partialsD, n, r)) == BitConverter.DoubleToUInt64Bits(valueD), $"f64 value {what}");
                    Assert.True(Bits((float)KlDivergence.Finish(forwardPartials, n, r)) == Bits(forward), $"forward {what}");
                    Assert.True(Hash(gx1) == Hash(gx2) && Hash(gt1) == Hash(gt2), $"f32 gradients {what}");
                    Assert.True(Hash(gxd1) == Hash(gxd2), $"f64 gradInput {what}");
                }
                if (compareToNative)
                {
                    // the partials themselves are the native library's bits
                    var native = new KlPartial[chunks];
                    KlDivergence.BackwardPartials(x, t, 0, new float[n], default, native, r, 0.75f, reference);
                    for (int c = 0; c < chunks; c++)
                        Assert.True(BitConverter.DoubleToUInt64Bits(native[c].Sum) == BitConverter.DoubleToUInt64Bits(partials[c].Sum)
                            && BitConverter.DoubleToUInt64Bits(native[c].Compensation) == BitConverter.DoubleToUInt64Bits(partials[c].Compensation),
                            $"partial {c} of n={n} {kind}: managed vs native");
                }
            }
        }
    }

    /// <summary>On netstandard2.0 the managed backend has no fused multiply-add (ManagedMath.Fma): its bits may differ from native's.</summary>
    private static bool ManagedFma =>
#if NKL_NETSTANDARD_BUILD
        false;
#else
        true;
#endif

    private static uint Bits(float v) => BitConverter.SingleToUInt32Bits(v);

    [Fact]
    public void Finish_in_double_cast_to_float_is_the_float_call()
    {
        // the float calls round Finish's very double once: check on values where rounding matters
        var (xd, td) = TestData.Make(3 * Chunk + 5, false, false, seed: 29);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        var p = new KlPartial[KlDivergence.ChunkCount(x.Length)];
        KlDivergence.Partials(x, t, 0, p);
        foreach (var r in new[] { KlReduction.Sum, KlReduction.Mean, KlReduction.BatchMean(x.Length) })
            Assert.Equal(Bits(KlDivergence.Reduce(x, t, r)), Bits((float)KlDivergence.Finish(p, x.Length, r)));
        // NaN: the library's NaN in double, and its float cast the library's float NaN
        x[5] = float.NaN;
        KlDivergence.Partials(x, t, 0, p.AsSpan(0, 1));
        Assert.True(Reference.IsLibraryNaN(KlDivergence.Finish(p, x.Length, KlReduction.Sum)));
        Assert.True(Reference.IsLibraryNaN((float)KlDivergence.Finish(p, x.Length, KlReduction.Sum)));
        Assert.True(Reference.IsLibraryNaN(KlDivergence.Reduce(x, t, KlReduction.Sum, default, 2)));
    }

    [Fact]
    public void A_worker_exception_surfaces_as_itself()
    {
        // an ISA the machine lacks fails in every piece: the call throws what the single-threaded one throws
        Assert.SkipUnless(KlBackend.IsNativeAvailable, "no native library");
        var o = new KlOptions { Backend = KlBackendKind.Native, Isa = KlBackend.NativeIsa == "neon" ? KlIsa.Avx2 : KlIsa.Neon };
        var x = new float[4 * Chunk];
        var t = new float[4 * Chunk];
        var g = new float[4 * Chunk];
        Exception single = Assert.ThrowsAny<Exception>(() => KlDivergence.Backward(x, t, g, default, KlReduction.Sum, 1f, o));
        Exception par = Assert.ThrowsAny<Exception>(() => KlDivergence.Backward(x, t, g, default, KlReduction.Sum, 1f, o, 4));
        // the same exception (not an AggregateException), naming the piece's entry point
        Assert.Equal(single.GetType(), par.GetType());
        Assert.Contains("NKL_ERROR_ISA_UNAVAILABLE", par.Message);
        par = Assert.ThrowsAny<Exception>(() => KlDivergence.Pointwise(x, t, g, o, 3));
        Assert.Equal(single.GetType(), par.GetType());
    }
}
