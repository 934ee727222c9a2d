using ScottPlot;
using ScottPlot.TickGenerators;

namespace NativeKl.Benchmarks.Report;

/// <summary>ns/element against N, log-log, one line per backend and peer (ScottPlot plots log10 values on log ticks).</summary>
internal static class Chart
{
    public static void Save(List<Result> results, string dtype, string pass, string reduction, bool logTarget, string path)
    {
        var plot = new Plot();
        foreach (string row in Results.Rows)
        {
            var points = results.Where(r => r.Row == row && r.DType == dtype && r.Pass == pass && r.Reduction == reduction && r.LogTarget == logTarget)
                                .OrderBy(r => r.N).ToList();
            if (points.Count == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => Math.Log10(p.N)).ToArray(), points.Select(p => Math.Log10(p.NsPerElement)).ToArray());
            line.LegendText = row;
            line.LineWidth = row == "NativeKl native" ? 3 : 1.5f;
            line.MarkerSize = 6;
            if (row == "Streaming read") line.LinePattern = LinePattern.Dashed;
        }
        string Power(double v) => Math.Pow(10, v) is var x && x >= 1 ? x.ToString("N0") : x.ToString("0.###");
        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { MinorTickGenerator = new LogMinorTickGenerator(), IntegerTicksOnly = true, LabelFormatter = Power };
        plot.Axes.Left.TickGenerator = new NumericAutomatic { MinorTickGenerator = new LogMinorTickGenerator(), IntegerTicksOnly = true, LabelFormatter = Power };
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(.05);
        plot.XLabel("N (elements)");
        plot.YLabel("ns per element (median)");
        string what = pass == "Forward" ? "forward" : "forward+backward";
        plot.Title($"kl_div {dtype.ToLowerInvariant()} {reduction.ToLowerInvariant()}, log_target={(logTarget ? "true" : "false")}, {what}");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 900, 600);
    }
}
