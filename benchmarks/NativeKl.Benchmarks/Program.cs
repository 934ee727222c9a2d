// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -- --filter "*ElementwiseBenchmarks*"
// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -- --filter "*SmallN*"     (small calls, every backend)
// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -- --quick     (CI smoke: short job, < 3 min)
// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -p:WithTorchSharp=true -- --targets
//   (the speed-target set: SmallNBenchmarks, ParallelBenchmarks, ParallelDistillationBenchmarks, DistillationBenchmarks;
//    build.ps1 -Bench -BenchSet targets runs it and the report tool, docs/benchmarks.md says how long)
// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -p:WithTorchSharp=true -- --interleaved
//   (the distillation cases, native against PyTorch in alternating rounds: phase-robust ratios)
// PyTorch rows: add -p:WithTorchSharp=true (and on Debian 12 the LD_PRELOAD printed by
// tools/torchsharp-debian12/torchsharp-debian12.sh); without them those rows are skipped, with one line.
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;
using NativeKl.Benchmarks;

bool quick = args.Contains("--quick");
bool targets = args.Contains("--targets");
args = args.Where(a => a != "--quick" && a != "--targets").ToArray();
if (quick && !args.Contains("--filter")) args = args.Concat(new[] { "--filter", "*ElementwiseBenchmarks*" }).ToArray();
// A class of the set that is not in this build matches nothing; the report says "not in this run" for it.
if (targets) args = args.Concat(new[] { "--filter", "*.SmallNBenchmarks.*", "*.ParallelBenchmarks.*", "*.ParallelDistillationBenchmarks.*", "*.DistillationBenchmarks.*" }).ToArray();
ElementwiseBenchmarks.Quick = quick;

Console.WriteLine($"NativeKl backends: native {NativeKl.KlBackend.NativeIsa ?? "unavailable"}, managed {NativeKl.KlBackend.ManagedIsa}");
if (args.Contains("--interleaved")) return DistillationInterleaved.Run();

string? noPyTorch = PyTorchComposite.Unavailable;
bool pyTorch = noPyTorch is null;
bool distillation = args.Any(a => a.Contains("Distillation", StringComparison.Ordinal) || a == "*");
bool elementwise = args.Any(a => a.Contains("Elementwise", StringComparison.Ordinal) || a == "*");
if (!pyTorch)
    Console.WriteLine($"PyTorch rows skipped: {noPyTorch}");
else if (distillation)
    DistillationBenchmarks.PrintSanityCheck();

if (elementwise)
{
    string artifacts = ArtifactsPath(args);
    ElementwiseAccuracy.Run(ElementwiseBenchmarks.SizesFor(quick), pyTorch, Path.Combine(artifacts, "results", "elementwise-accuracy.csv"));
}

IConfig config = ElementwiseBenchmarks.ExportConfig(DefaultConfig.Instance)
    .AddFilter(new SimpleFilter(benchmark => ElementwiseBenchmarks.Exists(benchmark, pyTorch)
                                              && (pyTorch || !DistillationBenchmarks.IsPyTorchRow(benchmark))));
RunInfo runInfo = RunInfo.Start(Path.Combine(ArtifactsPath(args), "results", "run-info.txt"));
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToList();
runInfo.Finish();

// The smoke test asserts nothing about time, only that every selected row ran.
int broken = summaries.Sum(s => s.Reports.Count(r => !r.Success) + (s.HasCriticalValidationErrors ? 1 : 0));
if (quick)
{
    int ran = summaries.Sum(s => s.Reports.Count(r => r.Success));
    Console.WriteLine($"quick: {ran} benchmark cases ran, {broken} failed");
    return ran > 0 && broken == 0 ? 0 : 1;
}
return broken == 0 ? 0 : 1;

static string ArtifactsPath(string[] args)
{
    int i = Array.IndexOf(args, "--artifacts");
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts");
}
