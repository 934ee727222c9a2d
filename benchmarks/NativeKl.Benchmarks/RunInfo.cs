using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace NativeKl.Benchmarks;

/// <summary>
/// The machine and the conditions of one run, written next to BenchmarkDotNet's CSV exports as
/// <c>key: value</c> lines (results/run-info.txt): the report tool heads its tables with them. The
/// load average is read at the start and at the end, since on a shared machine it says how far to
/// trust the run.
/// </summary>
internal sealed class RunInfo
{
    private readonly string _path;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private RunInfo(string path) => _path = path;

    public static RunInfo Start(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var lines = new List<string>
        {
            $"cpu: {CpuModel()}",
            $"logical-cpus: {Environment.ProcessorCount}",
            $"os: {RuntimeInformation.OSDescription}",
            $"dotnet: {Environment.Version}",
            $"benchmarkdotnet: {typeof(BenchmarkDotNet.Running.BenchmarkRunner).Assembly.GetName().Version?.ToString(3)}",
            $"nativekl-isa: native {KlBackend.NativeIsa ?? "unavailable"}, managed {KlBackend.ManagedIsa}",
            $"pytorch: {PyTorchComposite.Unavailable ?? "TorchSharp-cpu (libtorch CPU), 1 thread"}",
            $"started-utc: {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}",
            $"load-start: {LoadAverage()}",
        };
        File.WriteAllLines(path, lines);
        return new RunInfo(path);
    }

    public void Finish() =>
        File.AppendAllLines(_path, new[]
        {
            $"minutes: {_clock.Elapsed.TotalMinutes.ToString("0.0", CultureInfo.InvariantCulture)}",
            $"load-end: {LoadAverage()}",
        });

    private static string CpuModel()
    {
        if (File.Exists("/proc/cpuinfo"))
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The 1, 5 and 15 minute load averages, or "?" where /proc/loadavg is not there.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
