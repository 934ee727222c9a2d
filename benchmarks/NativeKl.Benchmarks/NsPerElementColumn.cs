using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NativeKl.Benchmarks;

/// <summary>A benchmark parameter that knows how many elements one call processes (for the ns/element column).</summary>
public interface IElementCount
{
    long Elements { get; }
}

/// <summary>Adds the ns/element column: the median time per call over the elements of the case.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class NsPerElementColumnAttribute : ColumnConfigBaseAttribute
{
    public NsPerElementColumnAttribute() : base(new NsPerElementColumn()) { }
}

/// <summary>
/// Median ns per call ÷ elements. The element count comes from a parameter implementing
/// <see cref="IElementCount"/>, else from an int or long parameter named N; "-" when neither is there.
/// </summary>
public sealed class NsPerElementColumn : IColumn
{
    public string Id => nameof(NsPerElementColumn);
    public string ColumnName => "ns/element";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Median time per call divided by the elements one call processes";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? median = summary[benchmarkCase]?.ResultStatistics?.Median;
        long elements = Elements(benchmarkCase);
        return median is double ns && elements > 0 ? (ns / elements).ToString("0.000", CultureInfo.InvariantCulture) : "-";
    }

    private static long Elements(BenchmarkCase benchmarkCase)
    {
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            switch (parameter.Value)
            {
                case IElementCount counted: return counted.Elements;
                case int n when parameter.Name == "N": return n;
                case long n when parameter.Name == "N": return n;
            }
        }
        return 0;
    }
}
