using System.Diagnostics;
using Xunit.Abstractions;

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
/// 32 threads share one set of inputs and call every public KlDivergence method (float and double,
/// every backend of the Registry) for 10 s, comparing each result bit for bit with the
/// single-threaded one, while 4 more threads create NativeBuffers, fill them, publish them to the
/// callers and dispose them under their feet. A caller reaches a buffer only through
/// <see cref="NativeBuffer{T}.Acquire"/>: it gets ObjectDisposedException, or a lease whose memory
/// stays valid (and whose result is still exact) however the disposal races with it.
/// </summary>
[Collection(LongRuns.Name)]
public class StressTests(ITestOutputHelper output)
{
    private const int Callers = 32, Churners = 4, N = 300, Rows = 10, Columns = 30, Big = 40_000, Slots = 8;

    /// <summary>One operation: runs a public method and folds every bit it produced into a hash.</summary>
    private delegate ulong Operation(KlOptions options, Scratch scratch);

    /// <summary>A caller's own outputs.</summary>
    private sealed class Scratch
    {
        public readonly float[] F = new float[N], G = new float[N], H = new float[N];
        public readonly double[] D = new double[N], E = new double[N], K = new double[N];
    }

    private static ulong Fold(ulong h, ulong bits) => (h ^ bits) * 0x100000001b3ul;
    private static ulong Bits(float v) => (ulong)(uint)BitConverter.SingleToInt32Bits(float.IsNaN(v) ? float.NaN : v);
    private static ulong Bits(double v) => (ulong)BitConverter.DoubleToInt64Bits(double.IsNaN(v) ? double.NaN : v);
    private static ulong Hash(ReadOnlySpan<float> a, ulong h = 0xcbf29ce484222325ul) { foreach (float v in a) h = Fold(h, Bits(v)); return h; }
    private static ulong Hash(ReadOnlySpan<double> a, ulong h = 0xcbf29ce484222325ul) { foreach (double v in a) h = Fold(h, Bits(v)); return h; }

    [Fact]
    public void Thirty_two_threads_every_method_while_buffers_are_disposed_under_them()
    {
        var (xd, td) = TestData.Make(N, logTarget: false, masked: false, seed: 71);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        var (bigXd, bigTd) = TestData.Make(Big, logTarget: false, masked: false, seed: 72);
        float[] bigX = TestData.ToFloat(bigXd), bigT = TestData.ToFloat(bigTd);
        const int stride = Columns + 3; // strided rows with padding
        var xs = new float[Rows * stride];
        var ts = new float[Rows * stride];
        for (int r = 0; r < Rows; r++)
        {
            Array.Copy(x, r * Columns, xs, r * stride, Columns);
            Array.Copy(t, r * Columns, ts, r * stride, Columns);
        }

        var operations = new (string Name, Operation Run)[]
        {
            ("Sum f32", (o, s) => Bits(KlDivergence.Sum(x, t, o))),
            ("Mean f32", (o, s) => Bits(KlDivergence.Mean(x, t, o))),
            ("BatchMean f32", (o, s) => Bits(KlDivergence.BatchMean(x, t, Rows, o))),
            ("Reduce f32 4 threads", (o, s) => Bits(KlDivergence.Reduce(bigX, bigT, KlReduction.Sum, 0, o, degreeOfParallelism: 4))),
            ("Pointwise f32", (o, s) => { KlDivergence.Pointwise(x, t, s.F, o); return Hash(s.F); }),
            ("Rows f32", (o, s) => { KlDivergence.Rows(x, t, Rows, Columns, s.F, o); return Hash(s.F.AsSpan(0, Rows)); }),
            ("Rows strided f32", (o, s) => { KlDivergence.Rows(xs, stride, ts, stride, Rows, Columns, s.F, o); return Hash(s.F.AsSpan(0, Rows)); }),
            ("Backward f32", (o, s) =>
            {
                float v = KlDivergence.Backward(x, t, KlReduction.BatchMean, s.G, s.H, Rows, 0.5f, o);
                return Hash(s.H, Hash(s.G, Bits(v)));
            }),
            ("PointwiseBackward f32", (o, s) => { KlDivergence.PointwiseBackward(x, t, s.G, s.H, s.F, 2f, o); return Hash(s.F, Hash(s.H, Hash(s.G))); }),
            ("Sum f64", (o, s) => Bits(KlDivergence.Sum(xd, td, o))),
            ("Mean f64", (o, s) => Bits(KlDivergence.Mean(xd, td, o))),
            ("BatchMean f64", (o, s) => Bits(KlDivergence.BatchMean(xd, td, Rows, o))),
            ("Reduce f64 4 threads", (o, s) => Bits(KlDivergence.Reduce(bigXd, bigTd, KlReduction.Mean, 0, o, degreeOfParallelism: 4))),
            ("Pointwise f64", (o, s) => { KlDivergence.Pointwise(xd, td, s.D, o); return Hash(s.D); }),
            ("Rows f64", (o, s) => { KlDivergence.Rows(xd, td, Rows, Columns, s.D, o); return Hash(s.D.AsSpan(0, Rows)); }),
            ("Backward f64", (o, s) =>
            {
                double v = KlDivergence.Backward(xd, td, KlReduction.Sum, s.E, s.K, 0, 1.5, o);
                return Hash(s.K, Hash(s.E, Bits(v)));
            }),
            ("PointwiseBackward f64", (o, s) => { KlDivergence.PointwiseBackward(xd, td, s.E, s.K, s.D, 1.0, o); return Hash(s.D, Hash(s.K, Hash(s.E))); }),
        };
        var backends = Registry.Backends.Values.ToArray();

        // The single-threaded results.
        var expected = new ulong[operations.Length, backends.Length];
        var single = new Scratch();
        for (int i = 0; i < operations.Length; i++)
            for (int b = 0; b < backends.Length; b++)
                expected[i, b] = operations[i].Run(backends[b], single);
        float bufferSum = KlDivergence.Sum(x, t);

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
                                float v = KlDivergence.Sum(lease.Span, t);
                                if (buffer.IsDisposed) Interlocked.Increment(ref disposedUnder);
                                if (BitConverter.SingleToInt32Bits(v) != BitConverter.SingleToInt32Bits(bufferSum))
                                {
                                    Interlocked.Increment(ref mismatches);
                                    Problem($"leased buffer: {v:R}, want {bufferSum:R}");
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
