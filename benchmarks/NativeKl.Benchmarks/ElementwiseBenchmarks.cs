using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using Perfolizer.Metrology;

namespace NativeKl.Benchmarks;

/// <summary>Element type of an elementwise case.</summary>
public enum DType { Float32, Float64 }

/// <summary>What a row computes: the value, or the value and both gradients.</summary>
public enum Pass { Forward, ForwardBackward }

/// <summary>
/// Elementwise kl_div, every NativeKl backend against every peer on the same data in the same
/// process: float32/float64 × sum/batchmean/none × log_target × N × forward / forward+backward.
/// Rows (methods): NativeKl native (active ISA), native scalar, managed, the parallel overload at 2
/// workers (forward reductions only: there is no parallel backward or pointwise overload, so
/// Program filters those cases out); PyTorch F.kl_div through TorchSharp with 1 thread and with all
/// cores (dropped where libtorch is unavailable); a TensorPrimitives composition; a naive loop; the
/// streaming read of the same arrays (the memory floor). The job comes from Program (short, in
/// process: the PyTorch rows need this process's LD_PRELOAD and -p:WithTorchSharp build).
/// </summary>
[MemoryDiagnoser]
[MedianColumn] // always: BenchmarkDotNet leaves it out where it judges it uninformative, and the report reads it
[Config(typeof(ElementwiseJob))]
public class ElementwiseBenchmarks
{
    /// <summary>The --quick smoke run: a minimal job over <see cref="SizesFor"/>(true) only.</summary>
    public static bool Quick { get; set; }

    /// <summary>The N of a run (the quick run takes one small and one medium size).</summary>
    public static IReadOnlyList<int> SizesFor(bool quick) =>
        quick ? new[] { 6, 32000 } : new[] { 6, 1000, 32000, 1048576, 16777216 };

    private static readonly KlOptions ScalarIsa = new() { Backend = KlBackendKind.Native, Isa = KlIsa.Scalar };
    private static readonly KlOptions NativeActive = new() { Backend = KlBackendKind.Native };
    private static readonly KlOptions Managed = new() { Backend = KlBackendKind.Managed };

    // The data of each dtype, N and log_target, made once (all of it: about 0.8 GB).
    private static readonly Dictionary<(Type, int, bool), object> s_data = new();

    private ElementwiseRows<float>? _f32;
    private ElementwiseRows<double>? _f64;
    private KlOptions _native, _scalar, _managed;

    [Params(DType.Float32, DType.Float64)]
    public DType DType { get; set; }

    [Params(Pass.Forward, Pass.ForwardBackward)]
    public Pass Pass { get; set; }

    [Params(KlReductionKind.Sum, KlReductionKind.BatchMean, KlReductionKind.None)]
    public KlReductionKind Reduction { get; set; }

    [Params(false, true)]
    public bool LogTarget { get; set; }

    [Params(6, 1000, 32000, 1048576, 16777216)]
    public int N { get; set; }

    /// <summary>The threads libtorch uses on all cores.</summary>
    public static int AllCores => Environment.ProcessorCount;

    [GlobalSetup(Target = nameof(PyTorchAllCores))]
    public void SetupAllCores()
    {
        Setup();
        PyTorchKlDiv.SetThreads(AllCores);
    }

    [GlobalSetup(Target = nameof(PyTorchOneThread))]
    public void SetupOneThread()
    {
        Setup();
        PyTorchKlDiv.SetThreads(1);
    }

    [GlobalSetup(Targets = new[] { nameof(Native), nameof(NativeScalar), nameof(ManagedBackend), nameof(Parallel2),
                                   nameof(TensorPrimitivesComposition), nameof(NaiveLoop), nameof(StreamingRead) })]
    public void Setup()
    {
        bool backward = Pass == Pass.ForwardBackward;
        if (DType == DType.Float32)
        {
            _f32 = new ElementwiseRows<float>(CachedData<float>(N, LogTarget), Reduction, backward);
            _f64 = null;
        }
        else
        {
            _f64 = new ElementwiseRows<double>(CachedData<double>(N, LogTarget), Reduction, backward);
            _f32 = null;
        }
        _native = NativeActive with { LogTarget = LogTarget };
        _scalar = ScalarIsa with { LogTarget = LogTarget };
        _managed = Managed with { LogTarget = LogTarget };
    }

    [GlobalCleanup]
    public void Cleanup() => (_f32, _f64) = (null, null);

    [Benchmark(Description = "NativeKl native")]
    public double Native() => _f32 is { } f ? f.NativeKl(_native) : _f64!.NativeKl(_native);

    [Benchmark(Description = "NativeKl native scalar")]
    public double NativeScalar() => _f32 is { } f ? f.NativeKl(_scalar) : _f64!.NativeKl(_scalar);

    [Benchmark(Description = "NativeKl managed")]
    public double ManagedBackend() => _f32 is { } f ? f.NativeKl(_managed) : _f64!.NativeKl(_managed);

    [Benchmark(Description = "NativeKl parallel x2")]
    public double Parallel2() => _f32 is { } f ? f.NativeKlParallel(_native, 2) : _f64!.NativeKlParallel(_native, 2);

    [Benchmark(Description = "PyTorch 1 thread")]
    public double PyTorchOneThread() => PyTorch();

    [Benchmark(Description = "PyTorch all cores")]
    public double PyTorchAllCores() => PyTorch();

    [Benchmark(Description = "TensorPrimitives")]
    public double TensorPrimitivesComposition() =>
        _f32 is { } f ? f.TensorPrimitivesComposition() : _f64!.TensorPrimitivesComposition();

    [Benchmark(Description = "Naive loop")]
    public double NaiveLoop() => _f32 is { } f ? f.NaiveLoop() : _f64!.NaiveLoop();

    [Benchmark(Description = "Streaming read")]
    public double StreamingRead() => _f32 is { } f ? f.StreamingRead() : _f64!.StreamingRead();

    private double PyTorch()
    {
        bool backward = Pass == Pass.ForwardBackward;
        return _f32 is { } f
            ? PyTorchKlDiv.Run(f.Data.Input, f.Data.Target, f.Values, Reduction, f.Data.Rows, LogTarget, backward)
            : PyTorchKlDiv.Run(_f64!.Data.Input, _f64.Data.Target, _f64.Values, Reduction, _f64.Data.Rows, LogTarget, backward);
    }

    /// <summary>Whether BenchmarkDotNet should run a case (a row that exists for these parameters, PyTorch where it loads).</summary>
    public static bool Exists(BenchmarkDotNet.Running.BenchmarkCase benchmark, bool pyTorchAvailable)
    {
        if (benchmark.Descriptor.Type != typeof(ElementwiseBenchmarks)) return true;
        if (!SizesFor(Quick).Contains((int)benchmark.Parameters["N"])) return false;
        string method = benchmark.Descriptor.WorkloadMethod.Name;
        if (method.StartsWith("PyTorch", StringComparison.Ordinal)) return pyTorchAvailable;
        if (method == nameof(Parallel2))
            return (Pass)benchmark.Parameters["Pass"] == Pass.Forward && (KlReductionKind)benchmark.Parameters["Reduction"] != KlReductionKind.None;
        return true;
    }

    internal static ElementwiseData<T> CachedData<T>(int n, bool logTarget) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var key = (typeof(T), n, logTarget);
        if (!s_data.TryGetValue(key, out object? data)) s_data[key] = data = new ElementwiseData<T>(n, logTarget);
        return (ElementwiseData<T>)data;
    }

    /// <summary>
    /// The configuration with its CSV export in plain nanoseconds and bytes (no units in the cells),
    /// which the report tool (benchmarks/NativeKl.Benchmarks.Report) reads.
    /// </summary>
    public static IConfig ExportConfig(IConfig defaults)
    {
        var style = new SummaryStyle(CultureInfo.InvariantCulture, printUnitsInHeader: true, SizeUnit.B, TimeUnit.Nanosecond,
                                     printUnitsInContent: false, printZeroValuesInContent: true);
        var config = ManualConfig.CreateEmpty()
            .AddLogger(defaults.GetLoggers().ToArray())
            .AddColumnProvider(defaults.GetColumnProviders().ToArray())
            .AddAnalyser(defaults.GetAnalysers().ToArray())
            .AddValidator(defaults.GetValidators().ToArray())
            .AddExporter(MarkdownExporter.GitHub, new CsvExporter(CsvSeparator.Comma, style));
        config.UnionRule = defaults.UnionRule;
        config.Options = defaults.Options;
        return config;
    }

    /// <summary>
    /// In process, 1 launch, 2 warmup and 6 measured iterations of 15 ms (--quick: 1 warmup and 3
    /// iterations of 16 calls), no overhead stage (a row's time includes the harness's call, about 1 ns):
    /// short enough for the whole matrix on a shared 2-core machine.
    /// </summary>
    private sealed class ElementwiseJob : ManualConfig
    {
        public ElementwiseJob() =>
            AddJob(Quick
                ? Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(1)
                             .WithIterationCount(3).WithInvocationCount(16).WithUnrollFactor(1)
                             .WithEvaluateOverhead(false).WithId("Quick")
                : Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(2)
                             .WithIterationCount(6).WithIterationTime(TimeInterval.FromMilliseconds(15))
                             .WithEvaluateOverhead(false).WithId("Short"));
    }
}
