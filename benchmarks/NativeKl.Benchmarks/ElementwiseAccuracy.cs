using System.Globalization;
using System.Numerics;
using System.Text;

namespace NativeKl.Benchmarks;

/// <summary>
/// Accuracy beside speed: before the timed run, the 'sum' of every backend and peer on the
/// benchmark's own data against a float64 reference (terms in double, compensated sum), as
/// relative error |value − reference| / |reference|. Printed as a table and written as CSV
/// (dtype, log_target, N, row, value, reference, relative error) for the report tool.
/// </summary>
internal static class ElementwiseAccuracy
{
    public static void Run(IReadOnlyList<int> sizes, bool pyTorch, string csvPath)
    {
        var csv = new StringBuilder("DType,LogTarget,N,Row,Value,Reference,RelativeError\n");
        Console.WriteLine("Accuracy of 'sum' against a float64 reference (relative error), on the benchmark's data:");
        var rows = new List<string> { "NativeKl native", "NativeKl native scalar", "NativeKl managed", "NativeKl parallel x2" };
        if (pyTorch) rows.AddRange(new[] { "PyTorch 1 thread", "PyTorch all cores" });
        rows.AddRange(new[] { "TensorPrimitives", "Naive loop" });
        Console.WriteLine($"| dtype | log_target | N | {string.Join(" | ", rows)} |");
        Console.WriteLine($"|---|---|---:|{string.Concat(rows.Select(_ => "---:|"))}");
        foreach (DType dtype in Enum.GetValues<DType>())
            foreach (bool logTarget in new[] { false, true })
                foreach (int n in sizes)
                {
                    (double Reference, double[] Values) result = dtype == DType.Float32
                        ? Measure(ElementwiseBenchmarks.CachedData<float>(n, logTarget), pyTorch)
                        : Measure(ElementwiseBenchmarks.CachedData<double>(n, logTarget), pyTorch);
                    var errors = result.Values.Select(v => Math.Abs(v - result.Reference) / Math.Abs(result.Reference)).ToArray();
                    Console.WriteLine($"| {dtype} | {logTarget} | {n} | {string.Join(" | ", errors.Select(e => e.ToString("0.0E+0", CultureInfo.InvariantCulture)))} |");
                    for (int i = 0; i < rows.Count; i++)
                        csv.Append(CultureInfo.InvariantCulture,
                            $"{dtype},{logTarget},{n},{rows[i]},{result.Values[i]:R},{result.Reference:R},{errors[i]:R}\n");
                }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(csvPath))!);
        File.WriteAllText(csvPath, csv.ToString());
        Console.WriteLine($"Accuracy written to {csvPath}");
    }

    private static (double Reference, double[] Values) Measure<T>(ElementwiseData<T> data, bool pyTorch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = new ElementwiseRows<T>(data, KlReductionKind.Sum, backward: false);
        var native = new KlOptions(data.LogTarget) { Backend = KlBackendKind.Native };
        var values = new List<double>
        {
            double.CreateTruncating(rows.NativeKl(native)),
            double.CreateTruncating(rows.NativeKl(native with { Isa = KlIsa.Scalar })),
            double.CreateTruncating(rows.NativeKl(native with { Backend = KlBackendKind.Managed })),
            double.CreateTruncating(rows.NativeKlParallel(native, 2)),
        };
        if (pyTorch)
        {
            PyTorchKlDiv.SetThreads(1);
            values.Add(PyTorchKlDiv.Run(data.Input, data.Target, rows.Values, KlReductionKind.Sum, data.Rows, data.LogTarget, backward: false));
            PyTorchKlDiv.SetThreads(ElementwiseBenchmarks.AllCores);
            values.Add(PyTorchKlDiv.Run(data.Input, data.Target, rows.Values, KlReductionKind.Sum, data.Rows, data.LogTarget, backward: false));
            PyTorchKlDiv.SetThreads(1);
        }
        values.Add(double.CreateTruncating(rows.TensorPrimitivesComposition()));
        values.Add(double.CreateTruncating(rows.NaiveLoop()));
        return (data.ReferenceSum(), values.ToArray());
    }
}
