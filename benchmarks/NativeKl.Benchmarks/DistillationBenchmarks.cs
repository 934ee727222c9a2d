using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace NativeKl.Benchmarks;

/// <summary>
/// The distillation loss kl_div(log_softmax(s / T), softmax(u / T), 'batchmean') from float32
/// teacher and student logits (issue 17's case: T = 1, one thread): forward, and forward + both
/// gradients, for the native and managed NativeKl backends and for the same composite of PyTorch ops
/// through TorchSharp (the baseline of each category, so BenchmarkDotNet's Ratio column is NativeKl's
/// time over PyTorch's). The ns/element column is the median over rows × columns. In process, with a
/// short job: the PyTorch rows need the process's LD_PRELOAD and the -p:WithTorchSharp build, which a
/// generated child project would lose. (T only scales the logits once per element, so T = 2 costs what
/// T = 1 does; the Hinton T² factor is one multiply per call.)
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[Config(typeof(ShortInProcessConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[NsPerElementColumn]
public class DistillationBenchmarks
{
    public const double Temperature = 1.0;

    internal static readonly DistillationOptions NativeOptions = new(Temperature)
    {
        MultiplyLossByTemperatureSquared = false,
        Backend = KlBackendKind.Native,
    };

    private static readonly DistillationOptions ManagedOptions = NativeOptions with { Backend = KlBackendKind.Managed };

    private float[] _student = Array.Empty<float>();
    private float[] _teacher = Array.Empty<float>();
    private float[] _gradStudent = Array.Empty<float>();
    private float[] _gradTeacher = Array.Empty<float>();

    /// <summary>[rows, columns] of the logits; ordered by size, so the table goes from small to large.</summary>
    public readonly record struct Shape(int Rows, int Columns) : IComparable<Shape>, IComparable, IElementCount
    {
        public long Elements => (long)Rows * Columns;

        public int CompareTo(Shape other) => ((long)Rows * Columns).CompareTo((long)other.Rows * other.Columns);

        public int CompareTo(object? obj) => obj is Shape other ? CompareTo(other) : 1;

        public override string ToString() => $"[{Rows},{Columns}]";
    }

    public static IEnumerable<Shape> Shapes => new[] { new Shape(1, 1000), new Shape(64, 1000), new Shape(32, 32000) };

    [ParamsSource(nameof(Shapes))]
    public Shape Logits { get; set; }

    [GlobalSetup]
    public void Setup() => (_student, _teacher, _gradStudent, _gradTeacher) = Data(Logits);

    [BenchmarkCategory("Forward"), Benchmark(Description = "NativeKl native")]
    public float NativeForward() =>
        Distillation.Loss(_student, _teacher, Logits.Rows, Logits.Columns, KlReductionKind.BatchMean, NativeOptions);

    [BenchmarkCategory("Forward"), Benchmark(Description = "NativeKl managed")]
    public float ManagedForward() =>
        Distillation.Loss(_student, _teacher, Logits.Rows, Logits.Columns, KlReductionKind.BatchMean, ManagedOptions);

    [BenchmarkCategory("Forward"), Benchmark(Description = "PyTorch composite", Baseline = true)]
    public float PyTorchForward() =>
        PyTorchComposite.Forward(_student, _teacher, Logits.Rows, Logits.Columns, Temperature);

    [BenchmarkCategory("Forward+backward"), Benchmark(Description = "NativeKl native")]
    public float NativeForwardBackward() =>
        Distillation.Backward(_student, _teacher, Logits.Rows, Logits.Columns, _gradStudent, _gradTeacher,
                              KlReductionKind.BatchMean, 1f, NativeOptions);

    [BenchmarkCategory("Forward+backward"), Benchmark(Description = "NativeKl managed")]
    public float ManagedForwardBackward() =>
        Distillation.Backward(_student, _teacher, Logits.Rows, Logits.Columns, _gradStudent, _gradTeacher,
                              KlReductionKind.BatchMean, 1f, ManagedOptions);

    [BenchmarkCategory("Forward+backward"), Benchmark(Description = "PyTorch composite", Baseline = true)]
    public float PyTorchForwardBackward() =>
        PyTorchComposite.ForwardBackward(_student, _teacher, Logits.Rows, Logits.Columns, Temperature);

    /// <summary>Whether a benchmark case is one of the PyTorch rows (dropped where libtorch is unavailable).</summary>
    public static bool IsPyTorchRow(BenchmarkDotNet.Running.BenchmarkCase benchmark) =>
        benchmark.Descriptor.Type == typeof(DistillationBenchmarks)
        && benchmark.Descriptor.WorkloadMethod.Name.StartsWith("PyTorch", StringComparison.Ordinal);

    /// <summary>
    /// Before the run, not a test: for each shape, the NativeKl loss and gradients against the
    /// TorchSharp composite's, so the table is known to compare the same computation.
    /// </summary>
    public static void PrintSanityCheck()
    {
        Console.WriteLine($"Sanity check (T = {Temperature}, batchmean): NativeKl native vs the PyTorch composite, float32");
        foreach (Shape shape in Shapes)
        {
            var (s, u, gs, gu) = Data(shape);
            float[] torchGs = new float[gs.Length], torchGu = new float[gu.Length];
            float native = Distillation.Backward(s, u, shape.Rows, shape.Columns, gs, gu, KlReductionKind.BatchMean, 1f, NativeOptions);
            float managed = Distillation.Loss(s, u, shape.Rows, shape.Columns, KlReductionKind.BatchMean, ManagedOptions);
            float torch = PyTorchComposite.ForwardBackward(s, u, shape.Rows, shape.Columns, Temperature, torchGs, torchGu);
            Console.WriteLine(
                $"  {shape,-10} loss native {native:R}, PyTorch {torch:R}, relative difference {RelativeDifference(native, torch):E2}; " +
                $"gradients, max |Δ| / max |PyTorch|: student {GradientDifference(gs, torchGs):E2}, teacher {GradientDifference(gu, torchGu):E2}; " +
                $"managed loss {(BitConverter.SingleToInt32Bits(managed) == BitConverter.SingleToInt32Bits(native) ? "bit-identical" : $"differs: {managed:R}")}");
        }
    }

    private static double RelativeDifference(float a, float b) => Math.Abs((double)a - b) / Math.Abs((double)b);

    private static double GradientDifference(float[] a, float[] b)
    {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < a.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
        }
        return maxDiff / maxRef;
    }

    /// <summary>Student and teacher logits 3·N(0, 1), seeded per shape, and gradient buffers.</summary>
    internal static (float[] Student, float[] Teacher, float[] GradStudent, float[] GradTeacher) Data(Shape shape)
    {
        int n = shape.Rows * shape.Columns;
        var rng = new Random(shape.Rows * 100_003 + shape.Columns);
        return (Logits3Randn(rng, n), Logits3Randn(rng, n), new float[n], new float[n]);
    }

    private static float[] Logits3Randn(Random rng, int n)
    {
        var logits = new float[n];
        for (int i = 0; i < n; i++)
        {
            // Box–Muller; 1 - NextDouble() is in (0, 1], so the log is finite.
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble()));
            logits[i] = (float)(3.0 * radius * Math.Cos(2.0 * Math.PI * rng.NextDouble()));
        }
        return logits;
    }

    /// <summary>
    /// One launch, 3 warmup and 30 measured iterations of 100 ms in this process (about 2 minutes in
    /// all): short enough for a shared 2-core machine, and many short iterations rather than a few
    /// long ones, so that the Min and Median columns see through other processes' bursts.
    /// </summary>
    private sealed class ShortInProcessConfig : ManualConfig
    {
        public ShortInProcessConfig() =>
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
                              .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(30)
                              .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
                              .WithId("ShortInProcess"));
    }
}
