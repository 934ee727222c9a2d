using BenchmarkDotNet.Attributes;
using NativeKl;

namespace NativeKl.Benchmarks;

/// <summary>
/// Per-call cost of a float32 kl_div reduction and of the pointwise form, every backend side by
/// side, at a tiny size (the seed example's 6 elements: call overhead dominates) and at 1,000.
/// </summary>
[MemoryDiagnoser]
public class KlDivergenceBenchmarks
{
    private float[] _input = Array.Empty<float>();
    private float[] _target = Array.Empty<float>();
    private float[] _destination = Array.Empty<float>();
    private KlOptions _options;

    [Params(6, 1000)]
    public int N { get; set; }

    [Params(KlBackendKind.Native, KlBackendKind.Managed)]
    public KlBackendKind Backend { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _input = new float[N];
        _target = new float[N];
        _destination = new float[N];
        for (int i = 0; i < N; i++)
        {
            _input[i] = MathF.Log(0.01f + (float)rng.NextDouble());
            _target[i] = (float)rng.NextDouble();
        }
        _options = new KlOptions { Backend = Backend };
    }

    [Benchmark]
    public float Sum() => KlDivergence.Sum(_input, _target, _options);

    [Benchmark]
    public float BatchMean() => KlDivergence.BatchMean(_input, _target, 2, _options);

    [Benchmark]
    public void Pointwise() => KlDivergence.Pointwise(_input, _target, _destination, _options);
}
