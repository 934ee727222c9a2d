using NativeKl.Backends;

namespace NativeKl.Tests;

/// <summary>
/// Distillation's degreeOfParallelism and its pieces (Partials, BackwardPartials, Finish): every
/// degree and every split of the rows gives the one-thread bits (value, row losses, gradients,
/// padding untouched), on every backend and ISA, float and double, with every option; worker
/// exceptions surface as themselves; the pieces allocate nothing.
/// </summary>
public class ParallelDistillationTests(ITestOutputHelper output)
{
    /// <summary>The float and double overloads behind one generic face.</summary>
    private interface IApi<T> where T : unmanaged
    {
        T Loss(T[] s, T[] u, int r, int c, KlReductionKind red, DistillationOptions o, T[]? w, int dop);
        void RowLosses(T[] s, T[] u, int r, int c, T[] dst, DistillationOptions o, T[]? w, int dop);
        T Backward(T[] s, T[] u, int r, int c, T[] gs, T[]? gu, KlReductionKind red, double go, DistillationOptions o, T[]? w, int dop);
        void RowBackward(T[] s, T[] u, int r, int c, T[] gs, T[]? gu, T[]? rl, double go, DistillationOptions o, T[]? w, int dop);
        void Partials(T[] s, T[] u, int r, int c, int first, Span<double> p, DistillationOptions o, T[]? w);
        void BackwardPartials(T[] s, T[] u, int r, int c, int first, T[] gs, T[]? gu, Span<double> p, KlReductionKind red, double go,
                              DistillationOptions o, T[]? w);
        T Finish(double[] p, int r, int c, KlReductionKind red, DistillationOptions o, T[]? w);
        T[] From(double[] v);
        ulong Bits(T v);
    }

    private sealed class F32 : IApi<float>
    {
        public float Loss(float[] s, float[] u, int r, int c, KlReductionKind red, DistillationOptions o, float[]? w, int dop) =>
            Distillation.Loss(s, u, r, c, red, o, w, dop);
        public void RowLosses(float[] s, float[] u, int r, int c, float[] dst, DistillationOptions o, float[]? w, int dop) =>
            Distillation.RowLosses(s, u, r, c, dst, o, w, dop);
        public float Backward(float[] s, float[] u, int r, int c, float[] gs, float[]? gu, KlReductionKind red, double go, DistillationOptions o, float[]? w, int dop) =>
            Distillation.Backward(s, u, r, c, gs, gu, red, (float)go, o, w, dop);
        public void RowBackward(float[] s, float[] u, int r, int c, float[] gs, float[]? gu, float[]? rl, double go, DistillationOptions o, float[]? w, int dop) =>
            Distillation.RowBackward(s, u, r, c, gs, gu, rl, (float)go, o, w, dop);
        public void Partials(float[] s, float[] u, int r, int c, int first, Span<double> p, DistillationOptions o, float[]? w) =>
            Distillation.Partials(s, u, r, c, first, p, o, w);
        public void BackwardPartials(float[] s, float[] u, int r, int c, int first, float[] gs, float[]? gu, Span<double> p, KlReductionKind red,
                                     double go, DistillationOptions o, float[]? w) =>
            Distillation.BackwardPartials(s, u, r, c, first, gs, gu, p, red, (float)go, o, w);
        public float Finish(double[] p, int r, int c, KlReductionKind red, DistillationOptions o, float[]? w) =>
            Distillation.Finish(p, r, c, red, o, (ReadOnlySpan<float>)w);
        public float[] From(double[] v) => Array.ConvertAll(v, x => (float)x);
        public ulong Bits(float v) => BitConverter.SingleToUInt32Bits(v);
    }

    private sealed class F64 : IApi<double>
    {
        public double Loss(double[] s, double[] u, int r, int c, KlReductionKind red, DistillationOptions o, double[]? w, int dop) =>
            Distillation.Loss(s, u, r, c, red, o, w, dop);
        public void RowLosses(double[] s, double[] u, int r, int c, double[] dst, DistillationOptions o, double[]? w, int dop) =>
            Distillation.RowLosses(s, u, r, c, dst, o, w, dop);
        public double Backward(double[] s, double[] u, int r, int c, double[] gs, double[]? gu, KlReductionKind red, double go, DistillationOptions o, double[]? w, int dop) =>
            Distillation.Backward(s, u, r, c, gs, gu, red, go, o, w, dop);
        public void RowBackward(double[] s, double[] u, int r, int c, double[] gs, double[]? gu, double[]? rl, double go, DistillationOptions o, double[]? w, int dop) =>
            Distillation.RowBackward(s, u, r, c, gs, gu, rl, go, o, w, dop);
        public void Partials(double[] s, double[] u, int r, int c, int first, Span<double> p, DistillationOptions o, double[]? w) =>
            Distillation.Partials(s, u, r, c, first, p, o, w);
        public void BackwardPartials(double[] s, double[] u, int r, int c, int first, double[] gs, double[]? gu, Span<double> p, KlReductionKind red,
                                     double go, DistillationOptions o, double[]? w) =>
            Distillation.BackwardPartials(s, u, r, c, first, gs, gu, p, red, go, o, w);
        public double Finish(double[] p, int r, int c, KlReductionKind red, DistillationOptions o, double[]? w) =>
            Distillation.Finish(p, r, c, red, o, (ReadOnlySpan<double>)w);
        public double[] From(double[] v) => v;
        public ulong Bits(double v) => BitConverter.DoubleToUInt64Bits(v);
    }

    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    private static readonly (int Rows, int Columns)[] Shapes = { (1, 1000), (64, 1000), (7, 33), (5, 0), (0, 10), (13, 17), (70, 9) };
    private static readonly int[] Degrees = { 2, 3, 8 };

    /// <summary>The option sets: plain; T and T² with padded strides; teacher log-probabilities; validating.</summary>
    private static IEnumerable<(string Name, DistillationOptions Options, bool Weighted)> Variants(string backend, int columns)
    {
        KlOptions b = Registry.Backends[backend];
        var plain = new DistillationOptions(1.0) { Backend = b.Backend, Isa = b.Isa };
        yield return ("plain", plain, false);
        yield return ("T 0.7, T², strides, weights", plain with { Temperature = 0.7, MultiplyLossByTemperatureSquared = true,
                                                                   StudentStride = columns + 3, TeacherStride = columns + 1 }, true);
        yield return ("log-probs, weights", plain with { Teacher = TeacherKind.LogProbabilitiesAsGiven, Temperature = 2 }, true);
        yield return ("validating", plain with { ValidateInputs = true, Temperature = 1.5 }, false);
    }

    private static double[] Logits(int rows, int columns, int stride, bool logProbs, bool nanRow, Random rng)
    {
        var a = new double[rows == 0 ? 0 : (rows - 1) * stride + columns + 2];
        for (int i = 0; i < a.Length; i++) a[i] = double.NaN; // padding: never read
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, z = 0;
            for (int c = 0; c < columns; c++) max = Math.Max(max, a[r * stride + c] = 3 * (rng.NextDouble() * 2 - 1));
            if (!logProbs) continue;
            for (int c = 0; c < columns; c++) z += Math.Exp(a[r * stride + c] - max);
            for (int c = 0; c < columns; c++) a[r * stride + c] -= max + Math.Log(z);
        }
        if (nanRow && rows > 3 && columns > 0) a[2 * stride] = double.NaN; // a NaN row: NaN must sum in order too
        return a;
    }

    /// <summary>Splits of [0, rows): ranges of 1, 3 and 64 rows, and an uneven one with empty ranges.</summary>
    private static IEnumerable<(int First, int Count)[]> Splits(int rows)
    {
        foreach (int size in new[] { 1, 3, 64 })
        {
            var list = new List<(int, int)>();
            for (int r = 0; r < rows; r += size) list.Add((r, Math.Min(size, rows - r)));
            yield return list.ToArray();
        }
        int a = rows / 3, b = Math.Min(rows, a + 1);
        yield return new[] { (0, 0), (0, a), (a, b - a), (b, rows - b), (rows, 0) };
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Every_degree_and_every_split_gives_the_one_thread_bits_f32(string backend) => Check(new F32(), backend);

    [Theory, MemberData(nameof(BackendNames))]
    public void Every_degree_and_every_split_gives_the_one_thread_bits_f64(string backend) => Check(new F64(), backend);

    private void Check<T>(IApi<T> api, string backend) where T : unmanaged
    {
        var rng = new Random(5);
        long compared = 0;
        // small pieces on this thread, so that every shape takes the parallel path
        ParallelDistillation.MinElementsOverride = 1;
        try
        {
            foreach (var (rows, columns) in Shapes)
            foreach (var (name, o, weighted) in Variants(backend, columns))
            {
                int ss = o.StudentStride == 0 ? columns : o.StudentStride, us = o.TeacherStride == 0 ? columns : o.TeacherStride;
                bool logProbs = o.Teacher == TeacherKind.LogProbabilitiesAsGiven;
                T[] s = api.From(Logits(rows, columns, ss, false, !o.ValidateInputs, rng));
                T[] u = api.From(Logits(rows, columns, us, logProbs, false, rng));
                T[]? w = weighted ? api.From(Enumerable.Range(0, rows).Select(r => r % 4 == 1 ? 0.0 : 0.25 + rng.NextDouble()).ToArray()) : null;
                string what = $"{backend} {typeof(T).Name} [{rows},{columns}] {name}";
                // the large shape with one reduction: the suite's time (the divisor's part is the small shapes')
                KlReductionKind[] reductions = rows * columns > 20_000 ? new[] { KlReductionKind.BatchMean }
                    : new[] { KlReductionKind.Sum, KlReductionKind.Mean, KlReductionKind.BatchMean };
                foreach (KlReductionKind red in reductions)
                {
                    if (o.ValidateInputs && red != KlReductionKind.Sum && rows * columns == 0) continue; // 0/0 refused there
                    // one thread
                    T loss1 = api.Loss(s, u, rows, columns, red, o, w, 1);
                    T[] gs1 = api.From(Fill(s.Length)), gu1 = api.From(Fill(u.Length));
                    T back1 = api.Backward(s, u, rows, columns, gs1, gu1, red, 0.75, o, w, 1);
                    T[] rl1 = api.From(Fill(rows)), rgs1 = api.From(Fill(s.Length)), rgu1 = api.From(Fill(u.Length)), rb1 = api.From(Fill(rows));
                    api.RowLosses(s, u, rows, columns, rl1, o, w, 1);
                    api.RowBackward(s, u, rows, columns, rgs1, rgu1, rb1, 1.25, o, w, 1);
                    foreach (int dop in Degrees)
                    {
                        string at = $"{what} {red} degree {dop}";
                        Assert.True(api.Bits(loss1) == api.Bits(api.Loss(s, u, rows, columns, red, o, w, dop)), $"{at}: Loss");
                        T[] gs = api.From(Fill(s.Length)), gu = api.From(Fill(u.Length));
                        Assert.True(api.Bits(back1) == api.Bits(api.Backward(s, u, rows, columns, gs, gu, red, 0.75, o, w, dop)), $"{at}: Backward");
                        Same(api, gs1, gs, at + ": Backward gradStudent");
                        Same(api, gu1, gu, at + ": Backward gradTeacher");
                        T[] rl = api.From(Fill(rows)), rgs = api.From(Fill(s.Length)), rgu = api.From(Fill(u.Length)), rb = api.From(Fill(rows));
                        api.RowLosses(s, u, rows, columns, rl, o, w, dop);
                        Same(api, rl1, rl, at + ": RowLosses");
                        api.RowBackward(s, u, rows, columns, rgs, rgu, rb, 1.25, o, w, dop);
                        Same(api, rgs1, rgs, at + ": RowBackward gradStudent");
                        Same(api, rgu1, rgu, at + ": RowBackward gradTeacher");
                        Same(api, rb1, rb, at + ": RowBackward rowLosses");
                        compared++;
                    }
                    // the pieces, in any order (backward ones in reverse)
                    foreach (var split in Splits(rows))
                    {
                        if (o.ValidateInputs && split.Length > 8) continue; // each validating piece reads every row
                        string at = $"{what} {red} split of {split.Length}";
                        var p = new double[rows];
                        foreach (var (first, count) in split) api.Partials(s, u, rows, columns, first, p.AsSpan(first, count), o, w);
                        Assert.True(api.Bits(loss1) == api.Bits(api.Finish(p, rows, columns, red, o, w)), $"{at}: Partials + Finish");
                        for (int r = 0; r < rows; r++) // a row's partial rounds to its row loss
                            Assert.True(api.Bits(rl1[r]) == api.Bits(api.From(new[] { p[r] })[0]), $"{at}: partial {r} {p[r]}");
                        var bp = new double[rows];
                        T[] gs = api.From(Fill(s.Length)), gu = api.From(Fill(u.Length));
                        foreach (var (first, count) in split.Reverse())
                            api.BackwardPartials(s, u, rows, columns, first, gs, gu, bp.AsSpan(first, count), red, 0.75, o, w);
                        Assert.True(api.Bits(back1) == api.Bits(api.Finish(bp, rows, columns, red, o, w)), $"{at}: BackwardPartials + Finish");
                        Same(api, gs1, gs, at + ": BackwardPartials gradStudent");
                        Same(api, gu1, gu, at + ": BackwardPartials gradTeacher");
                        compared++;
                    }
                }
            }
        }
        finally
        {
            ParallelDistillation.MinElementsOverride = 0;
        }
        output.WriteLine($"{backend} {typeof(T).Name}: {compared} comparisons");
    }

    /// <summary>A gradient or row-loss buffer filled with 7 (what no call writes), so padding must stay 7.</summary>
    private static double[] Fill(int n) => Enumerable.Repeat(7.0, n).ToArray();

    private static void Same<T>(IApi<T> api, T[] expected, T[] actual, string what) where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(api.Bits(expected[i]) == api.Bits(actual[i]), $"{what} [{i}]: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void Without_the_override_small_calls_stay_on_one_thread_and_large_ones_split()
    {
        Assert.Equal(1, Workers(64, 100, 8));       // 6,400 elements: less than one worker's minimum
        Assert.Equal(1, Workers(1, 1_000_000, 8));  // one row cannot be split
        Assert.Equal(2, Workers(64, 1000, 2));      // 64,000 elements: 3 workers' worth, capped at 2
        Assert.Equal(3, Workers(64, 1000, 8));
        Assert.Equal(8, Workers(32, 32000, 8));
        Assert.Equal(1, Workers(32, 32000, 1));

        static int Workers(int rows, int columns, int dop) =>
            ParallelDistillation.Workers(new Core.DistillPlan(rows, columns, columns, columns, rows * columns, rows * columns,
                KlReductionKind.BatchMean, 1.0, rows, new DistillationOptions(1.0)), dop);
    }

    /// <summary>A worker's exception is the call's, as itself: not an AggregateException.</summary>
    [Theory]
    [InlineData(KlBackendKind.Native)]
    [InlineData(KlBackendKind.Managed)]
    public void A_worker_exception_surfaces_as_itself(KlBackendKind backend)
    {
        if (backend == KlBackendKind.Native && !KlBackend.IsNativeAvailable) return;
        // an ISA this CPU lacks passes validation and fails in the backend, inside the workers
        KlIsa missing = KlBackend.NativeIsa == "neon" ? KlIsa.Avx2 : KlIsa.Neon;
        if (backend == KlBackendKind.Managed && Managed.ManagedPaths.Vector128Supported && missing == KlIsa.Neon) missing = KlIsa.Avx2;
        var o = new DistillationOptions(1.0) { Backend = backend, Isa = missing };
        var s = new float[64 * 1000];
        var u = new float[64 * 1000];
        Exception? one = Record.Exception(() => Distillation.Loss(s, u, 64, 1000, options: o));
        if (one == null) return; // this CPU has every ISA the backend knows
        foreach (int dop in new[] { 2, 8 })
        {
            Exception? many = Record.Exception(() => Distillation.Loss(s, u, 64, 1000, options: o, degreeOfParallelism: dop));
            Assert.NotNull(many);
            Assert.Equal(one.GetType(), many.GetType()); // not an AggregateException
            // the native message names the entry point (the pieces' in the workers); the status is the same
            int at = one.Message.IndexOf("NKL_ERROR_", StringComparison.Ordinal);
            Assert.Contains(at >= 0 ? one.Message.Substring(at).Split(' ', ',', '.', ':')[0] : one.Message, many.Message);
            many = Record.Exception(() => Distillation.RowBackward(s, u, 64, 1000, new float[s.Length], options: o, degreeOfParallelism: dop));
            Assert.Equal(one.GetType(), many!.GetType());
        }
    }

    [Theory, MemberData(nameof(BackendNames))]
    public void Pieces_allocate_nothing_and_a_parallel_call_allocates_little(string backend)
    {
        KlOptions b = Registry.Backends[backend];
        var o = new DistillationOptions(1.0) { Backend = b.Backend, Isa = b.Isa };
        const int rows = 64, columns = 1000;
        var rng = new Random(3);
        float[] s = Array.ConvertAll(Logits(rows, columns, columns, false, false, rng), x => (float)x);
        float[] u = Array.ConvertAll(Logits(rows, columns, columns, false, false, rng), x => (float)x);
        var gs = new float[s.Length];
        var gu = new float[u.Length];
        var p = new double[rows];
        double[] sd = Logits(rows, columns, columns, false, false, rng), ud = Logits(rows, columns, columns, false, false, rng);
        var gsd = new double[sd.Length];
        var pd = new double[rows];

        void Pieces()
        {
            for (int first = 0; first < rows; first += 16)
            {
                Distillation.Partials(s, u, rows, columns, first, p.AsSpan(first, 16), o);
                Distillation.BackwardPartials(s, u, rows, columns, first, gs, gu, p.AsSpan(first, 16), KlReductionKind.BatchMean, 1f, o);
                Distillation.BackwardPartials(sd, ud, rows, columns, first, gsd, default, pd.AsSpan(first, 16), KlReductionKind.Mean, 1.0, o);
            }
            Distillation.Finish(p, rows, columns, KlReductionKind.BatchMean, o, ReadOnlySpan<float>.Empty);
            Distillation.Finish(pd, rows, columns, KlReductionKind.Mean, o, ReadOnlySpan<double>.Empty);
        }

        for (int i = 0; i < 50; i++) Pieces(); // warm up: JIT, tiering, static constructors, backend choice
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Pieces();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        // a parallel call: measured, reported, and bounded by the row partials plus Parallel.For's own
        for (int i = 0; i < 10; i++) // warm up each measured call
        {
            Distillation.Loss(s, u, rows, columns, options: o, degreeOfParallelism: 2);
            Distillation.Backward(s, u, rows, columns, gs, gu, options: o, degreeOfParallelism: 2);
            Distillation.RowBackward(s, u, rows, columns, gs, gu, options: o, degreeOfParallelism: 2);
            Distillation.Loss(s, u, rows, columns, options: o, degreeOfParallelism: 1);
        }
        long[] bytes = new long[4];
        before = GC.GetAllocatedBytesForCurrentThread();
        Distillation.Loss(s, u, rows, columns, options: o, degreeOfParallelism: 2);
        bytes[0] = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        Distillation.Backward(s, u, rows, columns, gs, gu, options: o, degreeOfParallelism: 2);
        bytes[1] = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        Distillation.RowBackward(s, u, rows, columns, gs, gu, options: o, degreeOfParallelism: 2);
        bytes[2] = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        Distillation.Loss(s, u, rows, columns, options: o, degreeOfParallelism: 1);
        bytes[3] = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{backend}: [64,1000] float degree 2 allocates Loss {bytes[0]} B, Backward {bytes[1]} B, RowBackward {bytes[2]} B; degree 1 {bytes[3]} B");
        Assert.Equal(0, bytes[3]);
        // degree 2 did split (the row partials alone are rows doubles), and allocates little else
        Assert.InRange(bytes[0], rows * sizeof(double), rows * sizeof(double) + 4096);
        Assert.InRange(bytes[1], rows * sizeof(double), rows * sizeof(double) + 4096);
        Assert.InRange(bytes[2], 1, 4096);
    }
}
