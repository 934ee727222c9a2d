using System.Diagnostics;

namespace NativeKl.Benchmarks;

/// <summary>
/// The DistillationBenchmarks cases, NativeKl native against the PyTorch composite, timed in
/// alternating short rounds (not BenchmarkDotNet): this machine's speed drifts by tens of percent
/// over minutes, and BenchmarkDotNet measures one row after the other, so its ratios mix phases.
/// Here each round times both within a few tens of milliseconds, in alternating order, and the
/// table gives the median of the per-round ratios beside the ratio of the medians.
/// Run with <c>--interleaved</c> (and -p:WithTorchSharp=true with the LD_PRELOAD, as for the PyTorch rows).
/// </summary>
internal static class DistillationInterleaved
{
    private const int Rounds = 21;
    private static readonly TimeSpan RoundTime = TimeSpan.FromMilliseconds(25);

    public static int Run()
    {
        if (PyTorchComposite.Unavailable is { } why)
        {
            Console.WriteLine($"Interleaved ratios need the PyTorch composite: {why}");
            return 1;
        }
        const double t = DistillationBenchmarks.Temperature;
        Console.WriteLine($"Interleaved: {Rounds} rounds per case, each timing NativeKl native then PyTorch (or the reverse, alternating) for ~{RoundTime.TotalMilliseconds:0} ms apiece; float32, T = {t}, batchmean, one thread.");
        Console.WriteLine();
        Console.WriteLine("| Pass | Logits | native µs (median) | PyTorch µs (median) | ratio of medians | median of per-round ratios | per-round ratios, min–max |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (bool backward in new[] { false, true })
        {
            foreach (DistillationBenchmarks.Shape shape in DistillationBenchmarks.Shapes)
            {
                var (s, u, gs, gu) = DistillationBenchmarks.Data(shape);
                int rows = shape.Rows, cols = shape.Columns;
                Func<float> native = backward
                    ? () => Distillation.Backward(s, u, rows, cols, gs, gu, KlReductionKind.BatchMean, 1f, DistillationBenchmarks.NativeOptions)
                    : () => Distillation.Loss(s, u, rows, cols, KlReductionKind.BatchMean, DistillationBenchmarks.NativeOptions);
                Func<float> torch = backward
                    ? () => PyTorchComposite.ForwardBackward(s, u, rows, cols, t)
                    : () => PyTorchComposite.Forward(s, u, rows, cols, t);
                int nNative = Calibrate(native), nTorch = Calibrate(torch);
                var nativeUs = new double[Rounds];
                var torchUs = new double[Rounds];
                var ratios = new double[Rounds];
                for (int r = 0; r < Rounds; r++)
                {
                    if (r % 2 == 0)
                    {
                        nativeUs[r] = PerCallMicroseconds(native, nNative);
                        torchUs[r] = PerCallMicroseconds(torch, nTorch);
                    }
                    else
                    {
                        torchUs[r] = PerCallMicroseconds(torch, nTorch);
                        nativeUs[r] = PerCallMicroseconds(native, nNative);
                    }
                    ratios[r] = torchUs[r] / nativeUs[r];
                }
                double nativeMedian = Median(nativeUs), torchMedian = Median(torchUs);
                Console.WriteLine($"| {(backward ? "Forward+backward" : "Forward")} | {shape} | {nativeMedian:0.00} | {torchMedian:0.00} | " +
                                  $"{torchMedian / nativeMedian:0.0}× | {Median(ratios):0.0}× | {ratios.Min():0.0}–{ratios.Max():0.0}× |");
            }
        }
        return 0;
    }

    /// <summary>Warms the call up, then returns how many calls last about one round.</summary>
    private static int Calibrate(Func<float> call)
    {
        var clock = Stopwatch.StartNew();
        int n = 0;
        while (clock.Elapsed < RoundTime * 4 || n < 3)
        {
            call();
            n++;
        }
        return Math.Max(1, (int)(n / 4.0));
    }

    private static double PerCallMicroseconds(Func<float> call, int n)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++) call();
        return (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency / n;
    }

    private static double Median(double[] values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        return sorted[sorted.Length / 2];
    }
}
