using System.Diagnostics;

namespace NativeKl.Tests;

/// <summary>
/// 10,000,000 calls of a small input per backend (NKL_SOAK_CALLS overrides the count), with the
/// managed heap and the process RSS sampled every tenth of the run: the calls allocate 0 bytes
/// (GC.GetAllocatedBytesForCurrentThread over the whole run), and RSS after the run is within 16 MiB
/// of RSS after the warm-up (each after a full collection), where a leak of two bytes a call would
/// show 20 MB. (The noise measured in this test host: up to ~4 MB, from the runner's own threads.)
/// </summary>
[Collection(LongRuns.Name)]
public class SoakTests(ITestOutputHelper output)
{
    private const long RssNoise = 16L << 20;

    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Theory, MemberData(nameof(BackendNames))]
    public void Ten_million_small_calls_allocate_nothing_and_grow_nothing(string backend)
    {
        var options = Registry.With(backend, logTarget: false, masked: false);
        var (xd, td) = TestData.Make(16, false, false, seed: 5);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        var pointwise = new float[16];
        float expected = KlDivergence.Sum(x, t, options);
        KlDivergence.Pointwise(x, t, pointwise, options);
        int expectedLast = BitConverter.SingleToInt32Bits(pointwise[15]);
        long calls = LongRuns.SoakCalls, step = Math.Max(1, calls / 10);

        for (int i = 0; i < 100_000; i++) Call(i); // warm-up: JIT tiers, the backend's first-call state
        using var process = Process.GetCurrentProcess();
        long Rss() { process.Refresh(); return process.WorkingSet64; }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long rss0 = Rss(), heap0 = GC.GetTotalMemory(false), rssMax = rss0, heapMax = heap0;
        long mismatches = 0, allocated = 0;
        var samples = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        for (long done = 0; done < calls;)
        {
            long segment = Math.Min(step, calls - done);
            // Only the calls are measured; sampling (Process, strings) allocates on its own.
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (long i = 0; i < segment; i++)
                if (!Call(done + i)) mismatches++;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            done += segment;
            long rss = Rss(), heap = GC.GetTotalMemory(false);
            rssMax = Math.Max(rssMax, rss);
            heapMax = Math.Max(heapMax, heap);
            samples.Add($"{rss >> 10}");
        }
        stopwatch.Stop();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long rssEnd = Rss(), heapEnd = GC.GetTotalMemory(false);

        output.WriteLine($"{backend}: {calls:N0} calls in {stopwatch.Elapsed.TotalSeconds:F2} s " +
                         $"({stopwatch.Elapsed.TotalMilliseconds * 1e6 / calls:F0} ns a call, sampling included); " +
                         $"allocated {allocated} bytes ({(double)allocated / calls:G3} a call); " +
                         $"RSS {rss0 >> 10} KiB -> {rssEnd >> 10} KiB (max {rssMax >> 10}, growth {(rssEnd - rss0) >> 10} KiB); " +
                         $"managed heap {heap0 >> 10} KiB -> {heapEnd >> 10} KiB (max {heapMax >> 10}); RSS samples (KiB): {string.Join(" ", samples)}");
        Assert.Equal(0, mismatches);
        Assert.Equal(0, allocated);
        Assert.True(rssEnd - rss0 < RssNoise, $"RSS grew by {(rssEnd - rss0) >> 10} KiB over {calls:N0} calls");

        // Sum for three calls in four, Pointwise for the fourth: both results are checked.
        bool Call(long i)
        {
            if ((i & 3) != 3) return BitConverter.SingleToInt32Bits(KlDivergence.Sum(x, t, options)) == BitConverter.SingleToInt32Bits(expected);
            pointwise[15] = float.NaN;
            KlDivergence.Pointwise(x, t, pointwise, options);
            return BitConverter.SingleToInt32Bits(pointwise[15]) == expectedLast;
        }
    }
}
