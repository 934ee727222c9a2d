// dotnet run -c Release --project benchmarks/NativeKl.Benchmarks -- --filter "*"
using BenchmarkDotNet.Running;

Console.WriteLine($"NativeKl backends: native {NativeKl.KlBackend.NativeIsa ?? "unavailable"}, managed {NativeKl.KlBackend.ManagedIsa}");
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
