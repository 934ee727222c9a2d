using System.Globalization;

namespace NativeKl.Benchmarks.Report;

/// <summary>
/// One row of a BenchmarkDotNet CSV export (CsvExporter with nanosecond units and no units in the
/// content, as NativeKl.Benchmarks configures it): the method's description, its categories, its
/// parameters by name (case-insensitive: an [Arguments] parameter n is the column n), and the median.
/// </summary>
internal sealed record BdnRow(string Method, string Categories, IReadOnlyDictionary<string, string> Parameters,
                              double MedianNs, double? AllocatedBytes)
{
    public string? Param(string name) => Parameters.TryGetValue(name, out string? value) ? value : null;
}

internal static class BdnCsv
{
    /// <summary>
    /// The job characteristics BenchmarkDotNet 0.15 writes as columns between Job and the parameters
    /// (alphabetical), and the columns that are neither job nor parameter.
    /// </summary>
    private static readonly HashSet<string> NotParameters = new(StringComparer.Ordinal)
    {
        "Method", "Job", "Categories", "Baseline",
        "AnalyzeLaunchVariance", "EvaluateOverhead", "MaxAbsoluteError", "MaxRelativeError", "MinInvokeCount",
        "MinIterationTime", "OutlierMode", "Affinity", "EnvironmentVariables", "Jit", "LargeAddressAware", "Platform",
        "PowerPlanMode", "Runtime", "AllowVeryLargeObjects", "Concurrent", "CpuGroups", "Force", "HeapAffinitizeMask",
        "HeapCount", "NoAffinitize", "RetainVm", "Server", "Arguments", "BuildConfiguration", "Clock", "EngineFactory",
        "NuGetReferences", "Toolchain", "IsMutator", "InvocationCount", "IterationCount", "IterationTime", "LaunchCount",
        "MaxIterationCount", "MaxWarmupIterationCount", "MemoryRandomization", "MinIterationCount",
        "MinWarmupIterationCount", "RunStrategy", "UnrollFactor", "WarmupCount", "Id",
    };

    /// <summary>The columns from the first statistic on: the parameters stand before "Mean [ns]" (or whichever comes first).</summary>
    private static bool IsStatistic(string column) =>
        column.EndsWith(']') || column is "Ratio" or "RatioSD" or "Alloc Ratio" or "Rank" or "ns/element" or "Code Size";

    /// <summary>The rows of <paramref name="path"/>; a case that failed (no median) is left out.</summary>
    public static List<BdnRow> Load(string path)
    {
        string[] lines = File.ReadAllLines(path);
        if (lines.Length == 0) return new List<BdnRow>();
        string[] header = Csv.Split(lines[0]);
        int Col(string name) => Array.IndexOf(header, name);
        int method = Col("Method"), median = Col("Median [ns]"), categories = Col("Categories"), allocated = Col("Allocated [B]");
        if (method < 0 || median < 0)
            throw new InvalidDataException($"{path}: a BenchmarkDotNet CSV export with nanosecond units needs the columns 'Method' and 'Median [ns]'");
        int firstStatistic = Array.FindIndex(header, IsStatistic);
        if (firstStatistic < 0) firstStatistic = header.Length;
        var parameters = Enumerable.Range(0, firstStatistic).Where(i => !NotParameters.Contains(header[i])).ToArray();

        var rows = new List<BdnRow>();
        foreach (string line in lines.Skip(1).Where(l => l.Trim().Length > 0))
        {
            string[] f = Csv.Split(line);
            if (f.Length != header.Length)
                throw new InvalidDataException($"{path}: a row has {f.Length} fields where the header has {header.Length}: {line}");
            if (!Csv.TryNumber(f[median], out double ns)) continue;
            rows.Add(new BdnRow(
                f[method].Trim().Trim('\''),
                categories >= 0 ? f[categories] : "",
                parameters.ToDictionary(i => header[i], i => f[i], StringComparer.OrdinalIgnoreCase),
                ns,
                allocated >= 0 && Csv.TryNumber(f[allocated], out double bytes) ? bytes : null));
        }
        return rows;
    }

    /// <summary>The export of one benchmark class in a BenchmarkDotNet results folder, or null when the class did not run.</summary>
    public static string? FindExport(string resultsDirectory, string className)
    {
        string path = Path.Combine(resultsDirectory, $"NativeKl.Benchmarks.{className}-report.csv");
        return File.Exists(path) ? path : null;
    }

    public static string Number(double value) => value switch
    {
        >= 100 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };
}
