using System.Globalization;
using System.Text;
using NativeKl.Benchmarks.Report;

namespace NativeKl.Benchmarks.Report.Tests;

/// <summary>
/// The speed-target tables from fake BenchmarkDotNet exports written the way BenchmarkDotNet 0.15.8 writes
/// them (job columns, categories, parameters, statistics in ns, numbers over 999 quoted with a comma),
/// and from one real export (testdata/).
/// </summary>
public class TargetsReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nkl-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>An export of NativeKl.Benchmarks.<paramref name="className"/>: each case is (description, categories, parameters, median ns).</summary>
    private string Export(string className, string[] parameterNames, params (string Method, string Categories, string[] Parameters, double MedianNs)[] cases)
    {
        var csv = new StringBuilder();
        csv.AppendLine("Method,Job,InvocationCount,IterationCount,IterationTime,LaunchCount,UnrollFactor,WarmupCount,Categories," +
                       string.Concat(parameterNames.Select(p => p + ",")) + "Mean [ns],Error [ns],StdDev [ns],Median [ns],Min [ns],Ratio,RatioSD,Allocated [B]");
        foreach (var c in cases)
        {
            string median = c.MedianNs.ToString("N3", CultureInfo.InvariantCulture);
            if (median.Contains(',')) median = $"\"{median}\"";
            csv.AppendLine($"'{c.Method}',ShortInProcess,Default,30,100ms,1,16,3,{c.Categories}," +
                           string.Concat(c.Parameters.Select(p => (p.Contains(',') ? $"\"{p}\"" : p) + ",")) +
                           $"{median},1.0,1.0,{median},{median},?,?,0");
        }
        string path = Path.Combine(_dir, $"NativeKl.Benchmarks.{className}-report.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    private static readonly int[] SmallSizes = { 6, 16, 64, 256 };

    private string SmallNExport(double nativeAt6)
    {
        var cases = new List<(string, string, string[], double)>();
        foreach (int n in SmallSizes)
        {
            cases.Add(("NativeKl native", "", new[] { n.ToString(CultureInfo.InvariantCulture) }, n == 6 ? nativeAt6 : 2.0 * n));
            cases.Add(("NativeKl managed", "", new[] { n.ToString(CultureInfo.InvariantCulture) }, 3.0 * n + 1000));
            cases.Add(("NativeKl auto", "", new[] { n.ToString(CultureInfo.InvariantCulture) }, 2.0 * n));
            cases.Add(("TensorPrimitives", "", new[] { n.ToString(CultureInfo.InvariantCulture) }, 2.5 * n));
            cases.Add(("Naive loop", "", new[] { n.ToString(CultureInfo.InvariantCulture) }, 4.0 * n));
        }
        return Export(Targets.SmallN, new[] { "N" }, cases.ToArray());
    }

    [Fact]
    public void Small_n_table_gives_ns_per_call_and_the_ratio_to_the_naive_loop()
    {
        var rows = BdnCsv.Load(SmallNExport(nativeAt6: 12));
        Assert.Equal(20, rows.Count);
        Assert.All(rows, r => Assert.Equal(new[] { "N" }, r.Parameters.Keys));
        var md = new StringBuilder();
        Targets.AppendSmallN(md, rows);
        string text = md.ToString();
        Assert.Contains("| Row | N = 6 | N = 16 | N = 64 | N = 256 |", text);
        // native at 6: 12 ns over the naive loop's 24 ns; at 256: 512 over 1,024.
        Assert.Contains("| NativeKl native | 12.0 ns (0.50×) | 32.0 ns (0.50×) | 128 ns (0.50×) | 512 ns (0.50×) |", text);
        // managed at 256: 1,768 ns (quoted with a comma in the CSV) over 1,024.
        Assert.Contains("1,768 ns (1.73×) |", text);
        Assert.Contains("| Naive loop | 24.0 ns (1.00×) |", text);
        Assert.Contains("NativeKl native, N = 6: 12.0 ns (target ≤ 20 ns), 0.50× the naive loop (target ≤ 0.6×): **met**", text);
        Assert.Contains("NativeKl managed, N = 6: 1,018 ns (target ≤ 20 ns), 42.42× the naive loop (target ≤ 0.6×): **missed**", text);
        Assert.Contains("NativeKl native at N = 16, 64, 256 no slower than TensorPrimitives or the naive loop (time over the faster of the two): 0.80× at 16, 0.80× at 64, 0.80× at 256: **met**", text);
    }

    [Fact]
    public void Small_n_target_misses_above_20_ns_even_when_under_the_naive_ratio()
    {
        var md = new StringBuilder();
        Targets.AppendSmallN(md, BdnCsv.Load(SmallNExport(nativeAt6: 21)));
        Assert.Contains("NativeKl native, N = 6: 21.0 ns (target ≤ 20 ns), 0.88× the naive loop (target ≤ 0.6×): **missed**", md.ToString());
    }

    [Fact]
    public void Small_n_groups_by_the_other_parameters()
    {
        string path = Export(Targets.SmallN, new[] { "N", "Op" },
            ("NativeKl native", "", new[] { "6", "Sum" }, 10), ("Naive loop", "", new[] { "6", "Sum" }, 20),
            ("NativeKl native", "", new[] { "6", "Pointwise" }, 30), ("Naive loop", "", new[] { "6", "Pointwise" }, 40));
        var md = new StringBuilder();
        Targets.AppendSmallN(md, BdnCsv.Load(path));
        string text = md.ToString();
        Assert.Contains("**Op = Sum**", text);
        Assert.Contains("**Op = Pointwise**", text);
        Assert.Contains("| NativeKl native | 10.0 ns (0.50×) |", text);
        Assert.Contains("| NativeKl native | 30.0 ns (0.75×) |", text);
    }

    [Fact]
    public void Parallel_table_pairs_degrees_from_a_parameter_and_from_the_description()
    {
        string parallel = Export(Targets.Parallel, new[] { "DegreeOfParallelism", "N" },
            ("Pointwise", "", new[] { "1", "1048576" }, 1_000_000), ("Pointwise", "", new[] { "2", "1048576" }, 520_000),
            ("Pointwise", "", new[] { "1", "32000" }, 30_000), ("Pointwise", "", new[] { "2", "32000" }, 29_000));
        string distillation = Export(Targets.ParallelDistillation, new[] { "Logits" },
            ("Loss x1", "Forward", new[] { "[64,1000]" }, 64_000), ("Loss x2", "Forward", new[] { "[64,1000]" }, 40_000));
        var md = new StringBuilder();
        Targets.AppendParallel(md, BdnCsv.Load(parallel), BdnCsv.Load(distillation));
        string text = md.ToString();
        Assert.Contains("| ParallelBenchmarks | Pointwise | N = 1,048,576 | 1.00 ms | 520 µs | 1.92× |", text);
        Assert.Contains("| ParallelBenchmarks | Pointwise | N = 32,000 | 30.0 µs | 29.0 µs | 1.03× |", text);
        Assert.Contains("| ParallelDistillationBenchmarks | Loss (Forward) | Logits = [64,1000] | 64.0 µs | 40.0 µs | 1.60× |", text);
        Assert.Contains("- Pointwise, N = 1,048,576: 1.92×: **met**", text);
        Assert.Contains("- Loss (Forward), Logits = [64,1000]: 1.60×: **missed**", text);
        Assert.DoesNotContain("N = 32,000: 1.03×", text); // below the target's sizes
    }

    [Fact]
    public void Argument_style_lower_case_parameters_are_found()
    {
        string smallN = Export(Targets.SmallN, new[] { "n" },
            ("NativeKl native", "", new[] { "6" }, 9), ("Naive loop", "", new[] { "6" }, 18));
        string parallel = Export(Targets.Parallel, new[] { "degreeOfParallelism", "rows", "columns" },
            ("Rows", "", new[] { "1", "64", "1000" }, 90_000), ("Rows", "", new[] { "2", "64", "1000" }, 50_000));
        var md = new StringBuilder();
        Targets.AppendSmallN(md, BdnCsv.Load(smallN));
        Targets.AppendParallel(md, BdnCsv.Load(parallel), null);
        string text = md.ToString();
        Assert.Contains("| NativeKl native | 9.00 ns (0.50×) |", text);
        Assert.Contains("| ParallelBenchmarks | Rows | columns = 1,000, rows = 64 | 90.0 µs | 50.0 µs | 1.80× |", text);
        Assert.Contains("- Rows, columns = 1,000, rows = 64: 1.80×: **met**", text);
        Assert.Contains("ParallelDistillationBenchmarks: not in this run.", text);
    }

    [Fact]
    public void Distillation_table_gives_ns_per_element_and_pytorch_over_native()
    {
        string path = Export(Targets.Distillation, new[] { "Logits" },
            ("NativeKl native", "Forward", new[] { "[64,1000]" }, 48_000), ("NativeKl managed", "Forward", new[] { "[64,1000]" }, 64_000),
            ("PyTorch composite", "Forward", new[] { "[64,1000]" }, 512_000),
            ("NativeKl native", "Forward+backward", new[] { "[64,1000]" }, 128_000),
            ("PyTorch composite", "Forward+backward", new[] { "[64,1000]" }, 1_024_000));
        var md = new StringBuilder();
        Targets.AppendDistillation(md, BdnCsv.Load(path));
        string text = md.ToString();
        Assert.Contains("| [64,1000] | Forward | 48.0 | 0.750 | 1.000 | 8.000 | 10.7× | 8.0× |", text);
        Assert.Contains("| [64,1000] | Forward+backward | 128 | 2.000 | — | 16.000 | 8.0× | — |", text);
        Assert.Contains("- Forward [64,1000], native: 0.750 ns/element (target ≤ 0.8): **met**", text);
        Assert.Contains("- Forward+backward [64,1000], native: 2.000 ns/element (target ≤ 1.6): **missed**", text);
        Assert.Contains("- Forward [64,1000]: PyTorch ÷ native 10.7× (target ≥ 10×): **met**", text);
        Assert.Contains("- Forward+backward [64,1000]: PyTorch ÷ native 8.0× (target ≥ 10×): **missed**", text);
    }

    [Fact]
    public void Real_distillation_export_parses()
    {
        var rows = BdnCsv.Load(Path.Combine(AppContext.BaseDirectory, "testdata", "NativeKl.Benchmarks.DistillationBenchmarks-report.csv"));
        Assert.Equal(18, rows.Count);
        Assert.All(rows, r => Assert.Equal(new[] { "Logits" }, r.Parameters.Keys));
        Assert.Equal(new[] { "Forward", "Forward+backward" }, rows.Select(r => r.Categories).Distinct().Order());
        Assert.Equal(new[] { "NativeKl managed", "NativeKl native", "PyTorch composite" }, rows.Select(r => r.Method).Distinct().Order());
        Assert.Equal(new[] { "[1,1000]", "[32,32000]", "[64,1000]" }, rows.Select(r => r.Param("Logits")!).Distinct().Order());
        var md = new StringBuilder();
        Targets.AppendDistillation(md, rows);
        Assert.Equal(6, md.ToString().Split('\n').Count(l => l.StartsWith("| [", StringComparison.Ordinal)));
    }

    [Fact]
    public void Classes_missing_from_the_run_say_so()
    {
        var exports = Targets.Classes.ToDictionary(c => c, _ => (List<BdnRow>?)null);
        string page = Targets.Page(exports, "");
        Assert.Contains("SmallNBenchmarks: not in this run.", page);
        Assert.Contains("ParallelBenchmarks: not in this run.", page);
        Assert.Contains("ParallelDistillationBenchmarks: not in this run.", page);
        Assert.Contains("DistillationBenchmarks: not in this run.", page);
        Assert.Contains("do not edit by hand", page);
    }

    [Fact]
    public void Files_are_written_from_a_results_folder_and_the_docs_section_replaced()
    {
        string results = Path.Combine(_dir, "results"), root = Path.Combine(_dir, "repo");
        Directory.CreateDirectory(results);
        Directory.CreateDirectory(Path.Combine(root, "docs"));
        File.Copy(SmallNExport(nativeAt6: 12), Path.Combine(results, $"NativeKl.Benchmarks.{Targets.SmallN}-report.csv"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "testdata", "run-info.txt"), Path.Combine(results, "run-info.txt"));
        string docs = Path.Combine(root, "docs", "benchmarks.md");
        File.WriteAllText(docs, "before\n<!-- targets-results: begin (generated) -->\nstale\n<!-- targets-results: end -->\nafter\n");

        Assert.Equal(0, TargetsFiles.Write(results, root));

        string text = File.ReadAllText(docs);
        Assert.StartsWith("before\n<!-- targets-results: begin (generated) -->\nGenerated by", text);
        Assert.EndsWith("<!-- targets-results: end -->\nafter\n", text);
        Assert.DoesNotContain("stale", text);
        Assert.Contains("Run: Intel(R) Xeon(R) Processor, 2 logical CPUs, Debian GNU/Linux 12 (bookworm), .NET 10.0.12, BenchmarkDotNet 0.15.8;", text);
        Assert.Contains("load average (1, 5, 15 min) 4.59 3.30 2.87 at the start and 8.26 4.67 3.39 at the end", text);
        Assert.Contains("| NativeKl native | 12.0 ns (0.50×) |", text);
        Assert.Contains("DistillationBenchmarks: not in this run.", text);
        Assert.True(File.Exists(Path.Combine(root, "benchmarks", "results", "targets.md")));
        Assert.True(File.Exists(Path.Combine(root, "benchmarks", "results", "targets", $"NativeKl.Benchmarks.{Targets.SmallN}-report.csv")));
    }

    [Fact]
    public void Regenerating_from_the_committed_inputs_keeps_them()
    {
        string root = Path.Combine(_dir, "repo"), inputs = Path.Combine(root, "benchmarks", "results", "targets");
        Directory.CreateDirectory(inputs);
        File.Copy(SmallNExport(nativeAt6: 12), Path.Combine(inputs, $"NativeKl.Benchmarks.{Targets.SmallN}-report.csv"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "testdata", "run-info.txt"), Path.Combine(inputs, "run-info.txt"));

        Assert.Equal(0, TargetsFiles.Write(inputs + "/", root));

        Assert.True(File.Exists(Path.Combine(inputs, $"NativeKl.Benchmarks.{Targets.SmallN}-report.csv")));
        string page = File.ReadAllText(Path.Combine(root, "benchmarks", "results", "targets.md"));
        Assert.Contains("| NativeKl native | 12.0 ns (0.50×) |", page);
        Assert.Contains("load average (1, 5, 15 min) 4.59 3.30 2.87", page);
    }

    [Fact]
    public void Unknown_export_format_is_a_clear_error()
    {
        string path = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(path, "Method,Mean [us]\n'x',1\n");
        var e = Assert.Throws<InvalidDataException>(() => BdnCsv.Load(path));
        Assert.Contains("Median [ns]", e.Message);
    }
}
