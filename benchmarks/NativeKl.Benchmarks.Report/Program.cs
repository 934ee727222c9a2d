// Turns ElementwiseBenchmarks' CSV export and accuracy CSV into:
//   benchmarks/results/elementwise.md          every row: ns/element (median), multiples, allocated bytes
//   benchmarks/results/elementwise-*.png       ns/element against N, log-log, one line per row
//   docs/benchmarks.md, between the elementwise-results markers: the summary tables and the targets, met or missed
//   benchmarks/results/summary.md                the same section on its own
// Usage (build.ps1 -Bench runs it):
//   dotnet run -c Release --project benchmarks/NativeKl.Benchmarks.Report -- <report.csv> <accuracy.csv> <repository root> [machine line]
// The speed-target set (build.ps1 -Bench -BenchSet targets runs it):
//   dotnet run -c Release --project benchmarks/NativeKl.Benchmarks.Report -- targets <BenchmarkDotNet results folder> <repository root>
//   -> benchmarks/results/targets.md, the exports and run-info.txt copied to benchmarks/results/targets/, and
//      docs/benchmarks.md between the targets-results markers
using System.Globalization;
using System.Text;
using NativeKl.Benchmarks.Report;

if (args.Length == 3 && args[0] == "targets") return TargetsFiles.Write(args[1], args[2]);
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: <ElementwiseBenchmarks-report.csv> <elementwise-accuracy.csv> <repository root> [machine description]");
    return 2;
}
var results = Results.Load(args[0]);
var accuracy = Accuracy.Load(args[1]);
string root = args[2];
string machine = args.Length > 3 ? args[3] : "";
string outDir = Path.Combine(root, "benchmarks", "results");
Directory.CreateDirectory(outDir);
File.Copy(args[0], Path.Combine(outDir, "elementwise-report.csv"), overwrite: true);
File.Copy(args[1], Path.Combine(outDir, "elementwise-accuracy.csv"), overwrite: true);

File.WriteAllText(Path.Combine(outDir, "elementwise.md"), Tables.Full(results));
foreach (bool logTarget in new[] { false, true })
{
    string name = logTarget ? "elementwise-f32-sum-logtarget.png" : "elementwise-f32-sum.png";
    Chart.Save(results, "Float32", "Forward", "Sum", logTarget, Path.Combine(outDir, name));
    Chart.Save(results, "Float32", "ForwardBackward", "Sum", logTarget,
               Path.Combine(outDir, name.Replace("sum", "sum-backward", StringComparison.Ordinal)));
}

string page = Path.Combine(root, "docs", "benchmarks.md");
string section = Tables.Summary(results, accuracy, machine, "../benchmarks/results/");
bool written = DocsSection.Replace(page, "elementwise-results", section);
if (!written)
    Console.Error.WriteLine($"{page} has no elementwise-results markers; the section is in benchmarks/results/summary.md only");
File.WriteAllText(Path.Combine(outDir, "summary.md"), Tables.Summary(results, accuracy, machine, ""));
Console.WriteLine($"wrote {outDir}/elementwise.md, summary.md, the charts" + (written ? $", and the section of {page}" : ""));
return 0;

namespace NativeKl.Benchmarks.Report
{
    /// <summary>One measured case: a row (backend or peer) at one parameter combination.</summary>
    internal sealed record Result(string Row, string DType, string Pass, string Reduction, bool LogTarget, int N,
                                  double MedianNs, double MeanNs, double AllocatedBytes)
    {
        public double NsPerElement => MedianNs / N;
    }

    internal static class Results
    {
        public static readonly string[] Rows =
        {
            "NativeKl native", "NativeKl native scalar", "NativeKl managed", "NativeKl parallel x2",
            "PyTorch 1 thread", "PyTorch all cores", "TensorPrimitives", "Naive loop", "Streaming read",
        };

        public static List<Result> Load(string path)
        {
            string[] lines = File.ReadAllLines(path);
            string[] header = Csv.Split(lines[0]);
            int Col(string name) => Array.FindIndex(header, h => h == name) is var i && i >= 0
                ? i : throw new InvalidDataException($"{path}: no column '{name}'");
            int method = Col("Method"), dtype = Col("DType"), pass = Col("Pass"), reduction = Col("Reduction"),
                logTarget = Col("LogTarget"), n = Col("N"), median = Col("Median [ns]"), mean = Col("Mean [ns]"),
                allocated = Col("Allocated [B]");
            var results = new List<Result>();
            foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
            {
                string[] f = Csv.Split(line);
                if (!Csv.TryNumber(f[median], out double med)) continue; // a case that did not run
                results.Add(new Result(f[method].Trim('\''), f[dtype], f[pass], f[reduction], bool.Parse(f[logTarget]),
                    int.Parse(f[n], CultureInfo.InvariantCulture), med,
                    Csv.TryNumber(f[mean], out double m) ? m : med, Csv.TryNumber(f[allocated], out double a) ? a : 0));
            }
            return results;
        }

        public static Result? Find(this List<Result> results, string row, string dtype, string pass, string reduction, bool logTarget, int n) =>
            results.FirstOrDefault(r => r.Row == row && r.DType == dtype && r.Pass == pass && r.Reduction == reduction
                                        && r.LogTarget == logTarget && r.N == n);
    }

    internal sealed record AccuracyRow(string DType, bool LogTarget, int N, string Row, double RelativeError);

    internal static class Accuracy
    {
        public static List<AccuracyRow> Load(string path) =>
            File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(l => Csv.Split(l))
                .Select(f => new AccuracyRow(f[0], bool.Parse(f[1]), int.Parse(f[2], CultureInfo.InvariantCulture), f[3],
                                             double.Parse(f[6], CultureInfo.InvariantCulture)))
                .ToList();
    }
}
