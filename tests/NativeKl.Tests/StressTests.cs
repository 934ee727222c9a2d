using System.Diagnostics;

namespace NativeKl.Tests;

/// <summary>The long runs (concurrency, soak) run alone, so that no other test's memory or threads blur their figures.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class LongRuns
{
    public const string Name = "long runs";

    /// <summary>NKL_STRESS_SECONDS overrides the 10 s of the concurrency run.</summary>
    public static double StressSeconds =>
        double.TryParse(Environment.GetEnvironmentVariable("NKL_STRESS_SECONDS"), out double s) && s > 0 ? s : 10.0;

    /// <summary>NKL_SOAK_CALLS overrides the 10,000,000 calls of each soak run.</summary>
    public static long SoakCalls =>
        long.TryParse(Environment.GetEnvironmentVariable("NKL_SOAK_CALLS"), out long n) && n > 0 ? n : 10_000_000;
}

/// <summary>
/// 32 threads share one set of inputs and call every public KlDivergence and Distillation method
/// (float and double, every backend of the Registry) for 10 s, comparing each result bit for bit
/// with the single-threaded one, while 4 more threads create NativeBuffers, fill them, publish them
/// to the callers and dispose them under their feet. A caller reaches a buffer only through
/// <see cref="NativeBuffer{T}.Acquire"/>: it gets ObjectDisposedException, or a lease whose memory
/// stays valid (and whose result is still exact) however the disposal races with it.
/// </summary>
[Collection(LongRuns.Name)]
public class StressTests(ITestOutputHelper output)
{
    private const int Callers = 32, Churners = 4, N = 300, Rows = 10, Columns = 30, Big = 40_000, Slots = 8;
    private const int Stride = Columns + 3, StridedExtent = (Rows - 1) * Stride + Columns; // strided rows with padding

    /// <summary>One operation: runs a public method and folds every bit it produced into a hash.</summary>
    private delegate ulong Operation(KlOptions options, Scratch scratch);

    /// <summary>A caller's own outputs.</summary>
    private sealed class Scratch
    {
        public readonly float[] F = new float[N], G = new float[N], H = new float[N];
        public readonly double[] D = new double[N], E = new double[N], K = new double[N];
        public readonly float[] SG = new float[Rows * Stride], SH = new float[Rows * Stride];
        public readonly double[] SGd = new double[Rows * Stride], SHd = new double[Rows * Stride];
        public readonly float[] BF = new float[Big], BG = new float[Big], BH = new float[Big];
        public readonly double[] BD = new double[Big], BE = new double[Big];
        public readonly KlPartial[] P = new KlPartial[3];
    }

    private static ulong SmallPieces(Func<ulong> call)
    {
        NativeKl.Backends.ParallelDistillation.MinElementsOverride = 1;
        try { return call(); }
        finally { NativeKl.Backends.ParallelDistillation.MinElementsOverride = 0; }
    }

    private static ulong Fold(ulong h, ulong bits) => (h ^ bits) * 0x100000001b3ul;
    private static ulong Bits(float v) => BitConverter.SingleToUInt32Bits(v);
    private static ulong Bits(double v) => BitConverter.DoubleToUInt64Bits(v);
    private static ulong Hash(ReadOnlySpan<float> a, ulong h = 0xcbf29ce484222325ul) { foreach (float v in a) h = Fold(h, Bits(v)); return h; }
    private static ulong Hash(ReadOnlySpan<double> a, ulong h = 0xcbf29ce484222325ul) { foreach (double v in a) h = Fold(h, Bits(v)); return h; }

    [Fact]
    public void Thirty_two_threads_every_method_while_buffers_are_disposed_under_them()
    {
        var (xd, td) = TestData.Make(N, logTarget: false, masked: false, seed: 71);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        var (bigXd, bigTd) = TestData.Make(Big, logTarget: false, masked: false, seed: 72);
        float[] bigX = TestData.ToFloat(bigXd), bigT = TestData.ToFloat(bigTd);
        const int stride = Stride;
        var xs = new float[Rows * stride];
        var ts = new float[Rows * stride];
        var xds = new double[Rows * stride];
        var tds = new double[Rows * stride];
        for (int r = 0; r < Rows; r++)
        {
            Array.Copy(x, r * Columns, xs, r * stride, Columns);
            Array.Copy(t, r * Columns, ts, r * stride, Columns);
            Array.Copy(xd, r * Columns, xds, r * stride, Columns);
            Array.Copy(td, r * Columns, tds, r * stride, Columns);
        }
        // Distillation: x and t as student and teacher logits (T = 2, T² scale), or strided with x as
        // the teacher's log-probabilities (T = 0.7); row weights with an ignored row.
        var dense = new DistillationOptions(2.0) { MultiplyLossByTemperatureSquared = true };
        var strided = new DistillationOptions(0.7) { Teacher = TeacherKind.LogProbabilitiesAsGiven, StudentStride = stride, TeacherStride = stride };
        static DistillationOptions On(KlOptions backend, DistillationOptions d) => d with { Backend = backend.Backend, Isa = backend.Isa };
        float[] weights = { 1f, 0f, 0.5f, 2f, 1f, 1f, 3f, 0.25f, 1f, 1f };
        double[] weightsD = TestData.Widen(weights);

        var operations = new (string Name, Operation Run)[]
        {
            ("Sum f32", (o, s) => Bits(KlDivergence.Sum(x, t, o))),
            ("Mean f32", (o, s) => Bits(KlDivergence.Mean(x, t, o))),
            ("BatchMean f32", (o, s) => Bits(KlDivergence.BatchMean(x, t, Rows, o))),
            ("Reduce f32 4 threads", (o, s) => Bits(KlDivergence.Reduce(bigX, bigT, KlReduction.Sum, o, degreeOfParallelism: 4))),
            ("Pointwise f32", (o, s) => { KlDivergence.Pointwise(x, t, s.F, o); return Hash(s.F); }),
            ("Pointwise f32 3 threads", (o, s) => { KlDivergence.Pointwise(bigX, bigT, s.BF, o, 3); return Hash(s.BF); }),
            ("PointwiseBackward f32 2 threads", (o, s) => { KlDivergence.PointwiseBackward(bigX, bigT, s.BF, s.BG, s.BH, 0.5f, o, 2); return Hash(s.BH, Hash(s.BG, Hash(s.BF))); }),
            ("Backward f32 3 threads", (o, s) =>
            {
                float v = KlDivergence.Backward(bigX, bigT, s.BF, s.BG, KlReduction.Mean, 2f, o, 3);
                return Hash(s.BG, Hash(s.BF, Bits(v)));
            }),
            ("Rows f32 2 threads", (o, s) => { KlDivergence.Rows(bigX, bigT, 40, 1000, s.F, o, 2); return Hash(s.F.AsSpan(0, 40)); }),
            ("BackwardPartials f32 in 3 pieces", (o, s) =>
            {
                for (int c = 2; c >= 0; c--) KlDivergence.BackwardPartials(bigX, bigT, c, s.BF, default, s.P.AsSpan(c, 1), KlReduction.Sum, 1f, o);
                return Hash(s.BF, Bits((float)KlDivergence.Finish(s.P, Big, KlReduction.Sum)));
            }),
            ("Pointwise f64 8 threads", (o, s) => { KlDivergence.Pointwise(bigXd, bigTd, s.BD, o, 8); return Hash(s.BD); }),
            ("Backward f64 2 threads", (o, s) =>
            {
                double v = KlDivergence.Backward(bigXd, bigTd, s.BD, s.BE, KlReduction.BatchMean(8), 1f, o, 2);
                return Hash(s.BE, Hash(s.BD, Bits(v)));
            }),
            ("Rows strided f64 3 threads", (o, s) => { KlDivergence.Rows(bigXd, 1001, bigTd, 1001, 39, 1000, s.D, o, 3); return Hash(s.D.AsSpan(0, 39)); }),
            ("Rows f32", (o, s) => { KlDivergence.Rows(x, t, Rows, Columns, s.F, o); return Hash(s.F.AsSpan(0, Rows)); }),
            ("Rows strided f32", (o, s) => { KlDivergence.Rows(xs, stride, ts, stride, Rows, Columns, s.F, o); return Hash(s.F.AsSpan(0, Rows)); }),
            ("Backward f32", (o, s) =>
            {
                float v = KlDivergence.Backward(x, t, s.G, s.H, KlReduction.BatchMean(Rows), 0.5f, o);
                return Hash(s.H, Hash(s.G, Bits(v)));
            }),
            ("PointwiseBackward f32", (o, s) => { KlDivergence.PointwiseBackward(x, t, s.G, s.H, s.F, 2f, o); return Hash(s.F, Hash(s.H, Hash(s.G))); }),
            ("Sum f64", (o, s) => Bits(KlDivergence.Sum(xd, td, o))),
            ("Mean f64", (o, s) => Bits(KlDivergence.Mean(xd, td, o))),
            ("BatchMean f64", (o, s) => Bits(KlDivergence.BatchMean(xd, td, Rows, o))),
            ("Reduce f64 4 threads", (o, s) => Bits(KlDivergence.Reduce(bigXd, bigTd, KlReduction.Mean, o, degreeOfParallelism: 4))),
            ("Pointwise f64", (o, s) => { KlDivergence.Pointwise(xd, td, s.D, o); return Hash(s.D); }),
            ("Rows f64", (o, s) => { KlDivergence.Rows(xd, td, Rows, Columns, s.D, o); return Hash(s.D.AsSpan(0, Rows)); }),
            ("Backward f64", (o, s) =>
            {
                double v = KlDivergence.Backward(xd, td, s.E, s.K, KlReduction.Sum, 1.5, o);
                return Hash(s.K, Hash(s.E, Bits(v)));
            }),
            ("PointwiseBackward f64", (o, s) => { KlDivergence.PointwiseBackward(xd, td, s.E, s.K, s.D, 1.0, o); return Hash(s.D, Hash(s.K, Hash(s.E))); }),
            ("Distillation.Loss f32", (o, s) => Bits(Distillation.Loss(x, t, Rows, Columns, KlReductionKind.BatchMean, On(o, dense)))),
            ("Distillation.RowLosses f32 strided", (o, s) =>
            {
                Distillation.RowLosses(ts, xs, Rows, Columns, s.F, On(o, strided), weights);
                return Hash(s.F.AsSpan(0, Rows));
            }),
            ("Distillation.Backward f32", (o, s) =>
            {
                float v = Distillation.Backward(x, t, Rows, Columns, s.G, s.H, KlReductionKind.Mean, 0.5f, On(o, dense), weights);
                return Hash(s.H, Hash(s.G, Bits(v)));
            }),
            ("Distillation.RowBackward f32 strided", (o, s) =>
            {
                Distillation.RowBackward(ts, xs, Rows, Columns, s.SG, s.SH, s.F, 1.5f, On(o, strided));
                return Hash(s.SH.AsSpan(0, StridedExtent), Hash(s.SG.AsSpan(0, StridedExtent), Hash(s.F.AsSpan(0, Rows))));
            }),
            ("Distillation.Loss f64", (o, s) => Bits(Distillation.Loss(xd, td, Rows, Columns, KlReductionKind.Sum, On(o, dense), weightsD))),
            ("Distillation.RowLosses f64 strided", (o, s) =>
            {
                Distillation.RowLosses(tds, xds, Rows, Columns, s.D, On(o, strided));
                return Hash(s.D.AsSpan(0, Rows));
            }),
            ("Distillation.Backward f64", (o, s) =>
            {
                double v = Distillation.Backward(xd, td, Rows, Columns, s.E, default, KlReductionKind.BatchMean, 2.0, On(o, dense));
                return Hash(s.E, Bits(v));
            }),
            ("Distillation.RowBackward f64 strided", (o, s) =>
            {
                Distillation.RowBackward(tds, xds, Rows, Columns, s.SGd, s.SHd, s.D, 0.75, On(o, strided), weightsD);
                return Hash(s.SHd.AsSpan(0, StridedExtent), Hash(s.SGd.AsSpan(0, StridedExtent), Hash(s.D.AsSpan(0, Rows))));
            }),
            // parallel distillation inside the 32 callers (pieces of one row each: ParallelDistillation's
            // per-thread minimum lowered so that these small calls split)
            ("Distillation.Loss f32 3 threads", (o, s) => SmallPieces(() =>
                Bits(Distillation.Loss(x, t, Rows, Columns, KlReductionKind.BatchMean, On(o, dense), degreeOfParallelism: 3)))),
            ("Distillation.Backward f32 4 threads", (o, s) => SmallPieces(() =>
            {
                float v = Distillation.Backward(x, t, Rows, Columns, s.G, s.H, KlReductionKind.Mean, 0.5f, On(o, dense), weights, 4);
                return Hash(s.H, Hash(s.G, Bits(v)));
            })),
            ("Distillation.RowBackward f64 strided 2 threads", (o, s) => SmallPieces(() =>
            {
                Distillation.RowBackward(tds, xds, Rows, Columns, s.SGd, s.SHd, s.D, 0.75, On(o, strided), weightsD, 2);
                return Hash(s.SHd.AsSpan(0, StridedExtent), Hash(s.SGd.AsSpan(0, StridedExtent), Hash(s.D.AsSpan(0, Rows))));
            })),
        };
        var backends = Registry.Backends.Values.ToArray();

        // The single-threaded results.
        var expected = new ulong[operations.Length, backends.Length];
        var single = new Scratch();
        for (int i = 0; i < operations.Length; i++)
            for (int b = 0; b < backends.Length; b++)
                expected[i, b] = operations[i].Run(backends[b], single);
        float bufferSum = KlDivergence.Sum(x, t), bufferLoss = Distillation.Loss(x, t, Rows, Columns, KlReductionKind.BatchMean, dense);

        bool native = KlBackend.IsNativeAvailable;
        var slots = new NativeBuffer<float>?[Slots];
        long calls = 0, mismatches = 0, unexpected = 0, leased = 0, disposedUnder = 0, refused = 0, created = 0;
        string? firstProblem = null;
        void Problem(string what)
        {
            Interlocked.CompareExchange(ref firstProblem, what, null);
        }

        var stopwatch = Stopwatch.StartNew();
        double seconds = LongRuns.StressSeconds;
        bool Running() => stopwatch.Elapsed.TotalSeconds < seconds;
        using var start = new Barrier(Callers + Churners);

        var threads = new List<Thread>();
        for (int c = 0; c < Callers; c++)
        {
            int me = c;
            threads.Add(new Thread(() =>
            {
                var scratch = new Scratch();
                var rng = new Random(me);
                start.SignalAndWait();
                long mine = 0;
                for (int k = me; Running(); k++)
                {
                    try
                    {
                        if (native && k % 8 == 0)
                        {
                            // A buffer another thread may dispose at any moment.
                            var buffer = Volatile.Read(ref slots[rng.Next(Slots)]);
                            if (buffer == null) continue;
                            try
                            {
                                using var lease = buffer.Acquire();
                                bool distill = k % 16 == 8;
                                float v = distill
                                    ? Distillation.Loss(lease.Span, t, Rows, Columns, KlReductionKind.BatchMean, dense)
                                    : KlDivergence.Sum(lease.Span, t);
                                float want = distill ? bufferLoss : bufferSum;
                                if (buffer.IsDisposed) Interlocked.Increment(ref disposedUnder);
                                if (BitConverter.SingleToInt32Bits(v) != BitConverter.SingleToInt32Bits(want))
                                {
                                    Interlocked.Increment(ref mismatches);
                                    Problem($"leased buffer, {(distill ? "Distillation.Loss" : "KlDivergence.Sum")}: {v:R}, want {want:R}");
                                }
                                Interlocked.Increment(ref leased);
                            }
                            catch (ObjectDisposedException)
                            {
                                Interlocked.Increment(ref refused);
                            }
                        }
                        else
                        {
                            int i = k % operations.Length, b = (k / operations.Length) % backends.Length;
                            if (operations[i].Run(backends[b], scratch) != expected[i, b])
                            {
                                Interlocked.Increment(ref mismatches);
                                Problem($"{operations[i].Name} on {backends[b]} differs from the single-threaded result");
                            }
                        }
                        mine++;
                    }
                    catch (Exception e)
                    {
                        Interlocked.Increment(ref unexpected);
                        Problem(e.ToString());
                    }
                }
                Interlocked.Add(ref calls, mine);
            }));
        }
        for (int c = 0; c < Churners; c++)
        {
            int me = c;
            threads.Add(new Thread(() =>
            {
                var rng = new Random(1000 + me);
                start.SignalAndWait();
                while (Running())
                {
                    if (!native) break;
                    try
                    {
                        var fresh = new NativeBuffer<float>(N);
                        x.CopyTo(fresh.Span);
                        Interlocked.Increment(ref created);
                        Interlocked.Exchange(ref slots[rng.Next(Slots)], fresh)?.Dispose();
                        // ... and sometimes dispose one that callers may be using right now.
                        if (rng.Next(2) == 0) Volatile.Read(ref slots[rng.Next(Slots)])?.Dispose();
                    }
                    catch (Exception e)
                    {
                        Interlocked.Increment(ref unexpected);
                        Problem(e.ToString());
                    }
                }
            }));
        }
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());
        foreach (var buffer in slots) buffer?.Dispose();

        output.WriteLine($"{Callers} callers + {Churners} buffer threads for {stopwatch.Elapsed.TotalSeconds:F1} s: {calls:N0} calls " +
                         $"({operations.Length} operations × {backends.Length} backends), {mismatches} differing from single-threaded; " +
                         $"{created:N0} buffers created and disposed; {leased:N0} leased calls, {disposedUnder:N0} of them finished on a " +
                         $"buffer disposed under the lease, {refused:N0} refused with ObjectDisposedException; {unexpected} other exceptions");
        Assert.True(firstProblem == null, firstProblem);
        Assert.Equal(0, mismatches + unexpected);
        Assert.True(calls > Callers, "the callers did not run");
        if (native) Assert.True(refused + disposedUnder > 0, "no disposal ever raced a caller: the test did not test it");
    }

    [Fact]
    public void A_lease_keeps_the_memory_until_it_ends_and_a_disposed_buffer_refuses_new_ones()
    {
        if (!KlBackend.IsNativeAvailable) return;
        var buffer = new NativeBuffer<double>(1000);
        buffer.Span.Fill(-1.0);
        var lease = buffer.Acquire();
        buffer.Dispose(); // under the lease
        Assert.True(buffer.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => buffer.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => { using var again = buffer.Acquire(); });
        // The memory is still there: 1000 × (-1) read back through the lease.
        double sum = 0;
        foreach (double v in lease.Span) sum += v;
        Assert.Equal(-1000.0, sum);
        lease.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { using var again = buffer.Acquire(); });
    }
}
