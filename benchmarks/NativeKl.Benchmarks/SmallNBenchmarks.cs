using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace NativeKl.Benchmarks;

/// <summary>
/// Small calls, float32 KlDivergence.Sum as a user makes it (an action distribution of 6 to 256
/// entries): the whole C# call on each backend and on the default one (Auto), against a
/// TensorPrimitives composition (ElementwiseRows' formulation) and a naive loop (the baseline:
/// the Ratio column is against it), on ElementwiseData's inputs. Not part of the --quick smoke
/// (that filters on ElementwiseBenchmarks); run it with --filter "*SmallN*".
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(SmallNJob))]
public class SmallNBenchmarks
{
    private static readonly KlOptions NativeOptions = new() { Backend = KlBackendKind.Native };
    private static readonly KlOptions ManagedOptions = new() { Backend = KlBackendKind.Managed };

    private float[] _x = Array.Empty<float>(), _t = Array.Empty<float>();
    private ElementwiseRows<float>? _rows;

    [Params(6, 16, 64, 256)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ElementwiseData<float> data = ElementwiseBenchmarks.CachedData<float>(N, logTarget: false);
        (_x, _t) = (data.Input, data.Target);
        _rows = new ElementwiseRows<float>(data, KlReductionKind.Sum, backward: false);
        // Every row warmed before any is measured, so the JIT's profile of the shared call path
        // (KlCore.Reduce) holds all backends whatever the order of rows, as in a program that uses several.
        for (int i = 0; i < 20_000; i++)
        {
            Native();
            Managed();
            Auto();
            TensorPrimitivesComposition();
            NaiveLoop();
        }
    }

    /// <summary>A plain loop: t·log t − t·x with MathF.Log, 0 where t = 0, summed in float.</summary>
    [Benchmark(Description = "Naive loop", Baseline = true)]
    public float NaiveLoop()
    {
        float[] x = _x, t = _t;
        float sum = 0f;
        for (int i = 0; i < x.Length && i < t.Length; i++)
        {
            float ti = t[i];
            sum += ti == 0f ? 0f : ti * MathF.Log(ti) - ti * x[i];
        }
        return sum;
    }

    [Benchmark(Description = "TensorPrimitives")]
    public float TensorPrimitivesComposition() => _rows!.TensorPrimitivesComposition();

    [Benchmark(Description = "NativeKl managed")]
    public float Managed() => KlDivergence.Sum(_x, _t, ManagedOptions);

    [Benchmark(Description = "NativeKl auto")]
    public float Auto() => KlDivergence.Sum(_x, _t);

    [Benchmark(Description = "NativeKl native")]
    public float Native() => KlDivergence.Sum(_x, _t, NativeOptions);

    /// <summary>In process, 12 warmup (tiering settles under load) and 12 measured iterations of 25 ms, no overhead stage
    /// (a time includes the harness's ~1 ns call): ratios from one run.</summary>
    private sealed class SmallNJob : ManualConfig
    {
        public SmallNJob() =>
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(12)
                              .WithIterationCount(12).WithIterationTime(TimeInterval.FromMilliseconds(25))
                              .WithEvaluateOverhead(false).WithId("SmallN"));
    }
}
