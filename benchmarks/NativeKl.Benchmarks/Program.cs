// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -- --filter "*"
// PyTorch rows of DistillationBenchmarks: add -p:WithTorchSharp=true (and on Debian 12 the LD_PRELOAD
// printed by ../shared/tools/torchsharp-debian12.sh); without them those rows are skipped, with a message.
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;
using NativeKl.Benchmarks;

Console.WriteLine($"NativeKl backends: native {NativeKl.KlBackend.NativeIsa ?? "unavailable"}, managed {NativeKl.KlBackend.ManagedIsa}");

string? noPyTorch = PyTorchComposite.Unavailable;
if (noPyTorch is null)
    DistillationBenchmarks.PrintSanityCheck();
else
    Console.WriteLine($"PyTorch rows skipped: {noPyTorch}");

var config = DefaultConfig.Instance.AddFilter(
    new SimpleFilter(benchmark => noPyTorch is null || !DistillationBenchmarks.IsPyTorchRow(benchmark)));
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
