using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using NativeKl;

namespace NativeKl.Benchmarks;

/// <summary>
/// The elementwise KL operations at degreeOfParallelism 1 (the baseline of each group) and 2, float32,
/// native backend: Pointwise, PointwiseBackward, Backward(Sum), Reduce(Sum) and Rows (rows of 1024), at 2^20 and
/// 2^24 elements. The Ratio column is the speedup's reciprocal (0.5 = twice as fast); the report tool
/// reads the degree from the "x1"/"x2" of each row's description.
/// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -- --filter "*Parallel*"
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
[MedianColumn]
[Config(typeof(ShortJob))]
public class ParallelBenchmarks
{
    private float[] _input = Array.Empty<float>(), _target = Array.Empty<float>();
    private float[] _a = Array.Empty<float>(), _b = Array.Empty<float>(), _rows = Array.Empty<float>();
    private readonly KlOptions _options = new KlOptions { Backend = KlBackendKind.Native };

    [Params(1 << 20, 1 << 24)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _input = new float[N];
        _target = new float[N];
        _a = new float[N];
        _b = new float[N];
        _rows = new float[N / 1024];
        for (int i = 0; i < N; i++)
        {
            _input[i] = MathF.Log(0.01f + (float)rng.NextDouble());
            _target[i] = (float)rng.NextDouble();
        }
    }

    [Benchmark(Baseline = true, Description = "Pointwise x1"), BenchmarkCategory("Pointwise")]
    public void Pointwise1() => KlDivergence.Pointwise(_input, _target, _a, _options, 1);

    [Benchmark(Description = "Pointwise x2"), BenchmarkCategory("Pointwise")]
    public void Pointwise2() => KlDivergence.Pointwise(_input, _target, _a, _options, 2);

    [Benchmark(Baseline = true, Description = "PointwiseBackward x1"), BenchmarkCategory("PointwiseBackward")]
    public void PointwiseBackward1() => KlDivergence.PointwiseBackward(_input, _target, _a, _b, default, 1f, _options, 1);

    [Benchmark(Description = "PointwiseBackward x2"), BenchmarkCategory("PointwiseBackward")]
    public void PointwiseBackward2() => KlDivergence.PointwiseBackward(_input, _target, _a, _b, default, 1f, _options, 2);

    [Benchmark(Baseline = true, Description = "BackwardSum x1"), BenchmarkCategory("BackwardSum")]
    public float BackwardSum1() => KlDivergence.Backward(_input, _target, _a, _b, KlReduction.Sum, 1f, _options, 1);

    [Benchmark(Description = "BackwardSum x2"), BenchmarkCategory("BackwardSum")]
    public float BackwardSum2() => KlDivergence.Backward(_input, _target, _a, _b, KlReduction.Sum, 1f, _options, 2);

    [Benchmark(Baseline = true, Description = "Reduce x1"), BenchmarkCategory("Reduce")]
    public float Reduce1() => KlDivergence.Reduce(_input, _target, KlReduction.Sum, _options, 1);

    [Benchmark(Description = "Reduce x2"), BenchmarkCategory("Reduce")]
    public float Reduce2() => KlDivergence.Reduce(_input, _target, KlReduction.Sum, _options, 2);

    [Benchmark(Baseline = true, Description = "Rows x1"), BenchmarkCategory("Rows")]
    public void Rows1() => KlDivergence.Rows(_input, _target, N / 1024, 1024, _rows, _options, 1);

    [Benchmark(Description = "Rows x2"), BenchmarkCategory("Rows")]
    public void Rows2() => KlDivergence.Rows(_input, _target, N / 1024, 1024, _rows, _options, 2);

    /// <summary>In process, 3 warmup and 20 measured iterations of 200 ms (a 2^24-element call takes
    /// ~10 ms): about 2 minutes for the class, ratios from one run.</summary>
    private sealed class ShortJob : ManualConfig
    {
        public ShortJob() =>
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3)
                              .WithIterationCount(20).WithIterationTime(TimeInterval.FromMilliseconds(200))
                              .WithId("Parallel"));
    }
}
