using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace NativeKl.Cli;

/// <summary>
/// `nativekl bench [--quick]`: each operation × type × length × backend, timed for a fixed budget
/// after a warm-up call, with progress on stderr and a table on stdout.
/// </summary>
internal static class Bench
{
    private sealed record Case(string Operation, Dtype Dtype, int Length, KlBackendKind Backend)
    {
        internal string Name => $"{Operation} {(Dtype == Dtype.F64 ? "f64" : "f32")} n={Length} {Backend.ToString().ToLowerInvariant()}";
        internal long Bytes => (Operation == "none" ? 3L : 2L) * Length * (Dtype == Dtype.F64 ? 8 : 4);
    }

    internal const string Usage =
        "usage: nativekl bench [--quick] [--allow-debug]\n" +
        "  Times each operation (sum, none) x type x length x backend for a fixed budget after a warm-up\n" +
        "  call: progress on stderr, a table on stdout, its header naming the build configuration.\n" +
        "  --quick        two lengths and a short budget\n" +
        "  --allow-debug  time a Debug build anyway (refused otherwise: the JIT does not optimise it, so the\n" +
        "                 managed timings and the native speedups would mislead; `dotnet run` builds Debug:\n" +
        "                 use `dotnet run -c Release --project src/NativeKl.Cli -- bench`)\n";

    internal static int Run(IReadOnlyList<string> args)
    {
        var o = Options.Parse("bench", args, Array.Empty<string>(), new[] { "--quick", "--allow-debug" });
        bool quick = o.Has("--quick");
        var (configuration, optimised) = BuildConfiguration();
        if (!optimised)
        {
            string why = $"this is a {configuration} build, which the JIT does not optimise: its managed timings and the native speedups mislead";
            if (!o.Has("--allow-debug"))
                throw new CliError($"bench: {why}. Run a Release build (`dotnet run -c Release --project src/NativeKl.Cli -- bench`), or pass --allow-debug");
            Console.Error.WriteLine($"nativekl: WARNING: {why} (--allow-debug)");
        }
        int[] lengths = quick ? new[] { 1 << 12, 1 << 16 } : new[] { 1 << 12, 1 << 16, 1 << 20, 1 << 22 };
        var budget = TimeSpan.FromMilliseconds(quick ? 20 : 250);
        var backends = KlBackend.IsNativeAvailable ? new[] { KlBackendKind.Native, KlBackendKind.Managed } : new[] { KlBackendKind.Managed };

        var cases = (from operation in new[] { "sum", "none" }
                     from dtype in new[] { Dtype.F32, Dtype.F64 }
                     from length in lengths
                     from backend in backends
                     select new Case(operation, dtype, length, backend)).ToList();

        var (x64, t64) = Data(lengths.Max());
        var (x32, t32) = (Array.ConvertAll(x64, v => (float)v), Array.ConvertAll(t64, v => (float)v));
        var out64 = new double[x64.Length];
        var out32 = new float[x64.Length];

        var progress = new Progress(cases.Count);
        var seconds = new Dictionary<Case, double>();
        foreach (var c in cases)
        {
            progress.Report(c.Name);
            var options = new KlOptions { Backend = c.Backend };
            int n = c.Length;
            Action call = (c.Operation, c.Dtype) switch
            {
                ("sum", Dtype.F32) => () => KlDivergence.Sum(x32.AsSpan(0, n), t32.AsSpan(0, n), options),
                ("sum", _) => () => KlDivergence.Sum(x64.AsSpan(0, n), t64.AsSpan(0, n), options),
                (_, Dtype.F32) => () => KlDivergence.Pointwise(x32.AsSpan(0, n), t32.AsSpan(0, n), out32, options),
                _ => () => KlDivergence.Pointwise(x64.AsSpan(0, n), t64.AsSpan(0, n), out64, options),
            };
            seconds[c] = Measure(call, budget);
        }
        progress.Done();

        Console.WriteLine($"NativeKl bench{(quick ? " --quick" : "")}: {KlBackend.ActiveReason}; native ISA {KlBackend.NativeIsa ?? "-"}, managed ISA {KlBackend.ManagedIsa}");
        Console.WriteLine(optimised
            ? $"configuration: {configuration} (optimised)"
            : $"configuration: {configuration} (NOT optimised: managed timings and speedups are not representative)");
        var rows = new List<string[]> { new[] { "operation", "dtype", "elements", "backend", "time/call", "Gelem/s", "GB/s", "native speedup" } };
        foreach (var c in cases)
        {
            double s = seconds[c];
            var managed = c with { Backend = KlBackendKind.Managed };
            string speedup = c.Backend == KlBackendKind.Native ? (seconds[managed] / s).ToString("F2", CultureInfo.InvariantCulture) + "x" : "";
            rows.Add(new[]
            {
                c.Operation, c.Dtype == Dtype.F64 ? "f64" : "f32", c.Length.ToString(CultureInfo.InvariantCulture),
                c.Backend.ToString().ToLowerInvariant(), Time(s),
                (c.Length / s / 1e9).ToString("F3", CultureInfo.InvariantCulture),
                (c.Bytes / s / 1e9).ToString("F2", CultureInfo.InvariantCulture), speedup,
            });
        }
        PrintTable(rows);
        return 0;
    }

    /// <summary>
    /// The configuration NativeKl.dll and this tool were built in (AssemblyConfiguration: "Release",
    /// "Debug"), and whether the JIT optimises both (no DebuggableAttribute that disables it).
    /// </summary>
    private static (string Configuration, bool Optimised) BuildConfiguration()
    {
        var assemblies = new[] { typeof(KlDivergence).Assembly, typeof(Bench).Assembly };
        var names = assemblies.Select(a => a.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c ? c : "unknown").Distinct();
        bool optimised = assemblies.All(a => a.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true);
        return (string.Join(" + ", names), optimised);
    }

    /// <summary>Seconds per call: the mean over as many calls as fit in the budget, after one warm-up call.</summary>
    private static double Measure(Action call, TimeSpan budget)
    {
        call();
        long calls = 0;
        var watch = Stopwatch.StartNew();
        do { call(); calls++; } while (watch.Elapsed < budget);
        return watch.Elapsed.TotalSeconds / calls;
    }

    /// <summary>Log-probabilities in [-12, 0] and probabilities in [0, 1), the same every run.</summary>
    private static (double[] X, double[] T) Data(int n)
    {
        var random = new Random(20240611);
        var x = new double[n];
        var t = new double[n];
        for (int i = 0; i < n; i++) (x[i], t[i]) = (-12 * random.NextDouble(), random.NextDouble());
        return (x, t);
    }

    private static string Time(double seconds) =>
        seconds >= 1e-3 ? $"{seconds * 1e3:F2} ms" : seconds >= 1e-6 ? $"{seconds * 1e6:F2} µs" : $"{seconds * 1e9:F0} ns";

    private static void PrintTable(List<string[]> rows)
    {
        int[] widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var (row, index) in rows.Select((r, i) => (r, i)))
        {
            // Text columns to the left, numbers to the right.
            Console.WriteLine(string.Join("  ", row.Select((cell, i) => i < 2 || i == 3 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
            if (index == 0) Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
    }

    /// <summary>"[k/n] case" on stderr: rewritten in place on a terminal, one line each otherwise.</summary>
    private sealed class Progress(int total)
    {
        private readonly bool _terminal = !Console.IsErrorRedirected;
        private int _done;
        private int _width;

        internal void Report(string name)
        {
            string line = $"[{++_done}/{total}] {name}";
            if (!_terminal) { Console.Error.WriteLine(line); return; }
            Console.Error.Write("\r" + line.PadRight(_width));
            _width = line.Length;
        }

        internal void Done()
        {
            if (_terminal) Console.Error.Write("\r" + new string(' ', _width) + "\r");
        }
    }
}
