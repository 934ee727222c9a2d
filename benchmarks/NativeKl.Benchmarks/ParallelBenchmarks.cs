using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using NativeKl;

namespace NativeKl.Benchmarks;

/// <summary>
/// The elementwise KL operations at degreeOfParallelism 1 (the baseline of each group) and 2, float32,
/// native backend: Pointwise, PointwiseBackward, Backward(Sum) and Rows (rows of 1024), at 2^20 and
/// 2^24 elements. The Ratio column is the speedup's reciprocal (0.5 = twice as fast).
/// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -- --filter "*Parallel*"
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
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

    [Benchmark(Baseline = true), BenchmarkCategory("Pointwise")]
    public void Pointwise1() => KlDivergence.Pointwise(_input, _target, _a, _options, 1);

    [Benchmark, BenchmarkCategory("Pointwise")]
    public void Pointwise2() => KlDivergence.Pointwise(_input, _target, _a, _options, 2);

    [Benchmark(Baseline = true), BenchmarkCategory("PointwiseBackward")]
    public void PointwiseBackward1() => KlDivergence.PointwiseBackward(_input, _target, _a, _b, default, 1f, _options, 1);

    [Benchmark, BenchmarkCategory("PointwiseBackward")]
    public void PointwiseBackward2() => KlDivergence.PointwiseBackward(_input, _target, _a, _b, default, 1f, _options, 2);

    [Benchmark(Baseline = true), BenchmarkCategory("BackwardSum")]
    public float BackwardSum1() => KlDivergence.Backward(_input, _target, _a, _b, KlReduction.Sum, 1f, _options, 1);

    [Benchmark, BenchmarkCategory("BackwardSum")]
    public float BackwardSum2() => KlDivergence.Backward(_input, _target, _a, _b, KlReduction.Sum, 1f, _options, 2);

    [Benchmark(Baseline = true), BenchmarkCategory("Rows")]
    public void Rows1() => KlDivergence.Rows(_input, _target, N / 1024, 1024, _rows, _options, 1);

    [Benchmark, BenchmarkCategory("Rows")]
    public void Rows2() => KlDivergence.Rows(_input, _target, N / 1024, 1024, _rows, _options, 2);
}
