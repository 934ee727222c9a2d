using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace NativeKl.Benchmarks;

/// <summary>
/// Distillation on more than one core: float32 logits, T = 1, batchmean, native backend, forward and
/// forward + both gradients at degreeOfParallelism 1 (the baseline of each category) and 2. The
/// ratio is the speed-up's reciprocal (the report tool reads the degree from "x1"/"x2"); the rows are whole-row blocks, and every degree gives the same bits.
/// In process, short job (the same settings as DistillationBenchmarks).
/// Run: --filter "*ParallelDistillation*".
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[Config(typeof(Config))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ParallelDistillationBenchmarks
{
    private static readonly DistillationOptions Options = new(1.0) { Backend = KlBackendKind.Native };

    private float[] _student = Array.Empty<float>();
    private float[] _teacher = Array.Empty<float>();
    private float[] _gradStudent = Array.Empty<float>();
    private float[] _gradTeacher = Array.Empty<float>();

    public static IEnumerable<DistillationBenchmarks.Shape> Shapes =>
        new[] { new DistillationBenchmarks.Shape(64, 1000), new DistillationBenchmarks.Shape(32, 32000) };

    [ParamsSource(nameof(Shapes))]
    public DistillationBenchmarks.Shape Logits { get; set; }

    [GlobalSetup]
    public void Setup() => (_student, _teacher, _gradStudent, _gradTeacher) = DistillationBenchmarks.Data(Logits);

    [BenchmarkCategory("Forward"), Benchmark(Description = "Forward x1", Baseline = true)]
    public float Forward1() => Forward(1);

    [BenchmarkCategory("Forward"), Benchmark(Description = "Forward x2")]
    public float Forward2() => Forward(2);

    [BenchmarkCategory("Forward+backward"), Benchmark(Description = "Forward+backward x1", Baseline = true)]
    public float ForwardBackward1() => ForwardBackward(1);

    [BenchmarkCategory("Forward+backward"), Benchmark(Description = "Forward+backward x2")]
    public float ForwardBackward2() => ForwardBackward(2);

    private float Forward(int degree) =>
        Distillation.Loss(_student, _teacher, Logits.Rows, Logits.Columns, KlReductionKind.BatchMean, Options, default, degree);

    private float ForwardBackward(int degree) =>
        Distillation.Backward(_student, _teacher, Logits.Rows, Logits.Columns, _gradStudent, _gradTeacher,
                              KlReductionKind.BatchMean, 1f, Options, default, degree);

    private sealed class Config : ManualConfig
    {
        public Config() =>
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
                              .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(30)
                              .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
                              .WithId("ShortInProcess"));
    }
}
