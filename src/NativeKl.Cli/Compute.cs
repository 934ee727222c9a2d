using System.Numerics;

namespace NativeKl.Cli;

/// <summary>
/// `nativekl compute`: kl_div of two files (.npy or CSV, the same shape; dimension 0 is the batch).
/// A reduced value is printed (and written with --output); `none` (one value per element) and
/// `rows` (one KL per row of dimension 0) are written to --output, or printed as CSV.
/// </summary>
internal static class Compute
{
    private enum Reduction { None, Sum, Mean, BatchMean, Rows }

    private static readonly Dictionary<string, Reduction> Reductions = new()
    {
        ["none"] = Reduction.None, ["sum"] = Reduction.Sum, ["mean"] = Reduction.Mean,
        ["batchmean"] = Reduction.BatchMean, ["rows"] = Reduction.Rows,
    };

    private static readonly Dictionary<string, Dtype?> Dtypes = new() { ["f32"] = Dtype.F32, ["f64"] = Dtype.F64 };

    internal const string Usage =
        "nativekl compute --input A --target B [--reduction mean|sum|batchmean|none|rows] [--log-target] [--masked]\n" +
        "                 [--dtype f32|f64] [--output FILE.npy|FILE.csv] [--backend auto|native|managed]";

    internal static int Run(IReadOnlyList<string> args)
    {
        var o = Options.Parse("compute", args, new[] { "--input", "--target", "--reduction", "--dtype", "--output", "--backend" },
                              new[] { "--log-target", "--masked" });
        string inputPath = o.Required("--input"), targetPath = o.Required("--target");
        var reduction = o.Choice("--reduction", Reductions, Reduction.Mean);
        Dtype? requested = o.Choice("--dtype", Dtypes, null);
        var options = new KlOptions(o.Has("--log-target"), o.Has("--masked")) { Backend = Program.ParseBackend(o.Get("--backend")) };
        string? output = o.Get("--output");

        Tensor input = Tensor.Read(inputPath, "input");
        Tensor target = Tensor.Read(targetPath, "target");
        if (!input.Shape.SequenceEqual(target.Shape))
            throw new CliError($"shape mismatch: input {inputPath} is {input.ShapeText}, target {targetPath} is {target.ShapeText}");
        if (reduction == Reduction.Rows && input.Shape.Length == 0)
            throw new CliError("--reduction rows needs data of at least one dimension; this input is 0-d");

        // The input's type unless --dtype says otherwise (CSV reads as float32, as torch.tensor does).
        Dtype dtype = requested ?? input.Dtype;
        Tensor result = dtype == Dtype.F64
            ? Evaluate<double>(input, target, reduction, options, dtype)
            : Evaluate<float>(input, target, reduction, options, dtype);

        if (output != null) result.Write(output);
        else if (result.Shape.Length == 0) Console.WriteLine(Csv.Format(result.Values[0], dtype));
        else Csv.Write(Console.OpenStandardOutput(), result);
        return 0;
    }

    private static Tensor Evaluate<T>(Tensor input, Tensor target, Reduction reduction, KlOptions options, Dtype dtype)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] x = Array.ConvertAll(input.Values, T.CreateTruncating);
        T[] t = Array.ConvertAll(target.Values, T.CreateTruncating);
        var kernels = Kernels<T>.Instance;
        int batch = input.Batch;
        switch (reduction)
        {
            case Reduction.None:
            {
                var terms = new T[x.Length];
                kernels.Pointwise(x, t, terms, options);
                return new Tensor(input.Shape, Widen(terms), dtype);
            }
            case Reduction.Rows:
            {
                var perRow = new T[batch];
                kernels.Rows(x, t, batch, batch == 0 ? 0 : x.Length / batch, perRow, options);
                return new Tensor(new[] { batch }, Widen(perRow), dtype);
            }
            default:
            {
                var kind = reduction switch
                {
                    Reduction.Sum => KlReduction.Sum, Reduction.Mean => KlReduction.Mean, _ => KlReduction.BatchMean,
                };
                T value = kernels.Reduce(x, t, kind, kind == KlReduction.BatchMean ? batch : 0, options);
                return new Tensor(Array.Empty<int>(), new[] { double.CreateTruncating(value) }, dtype);
            }
        }
    }

    private static double[] Widen<T>(T[] values) where T : unmanaged, IFloatingPointIeee754<T> =>
        Array.ConvertAll(values, double.CreateTruncating);

    private delegate T ReduceFn<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, KlReduction reduction, int batch, KlOptions options);
    private delegate void PointwiseFn<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> destination, KlOptions options);
    private delegate void RowsFn<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, int rows, int columns, Span<T> destination, KlOptions options);

    /// <summary>The library's float and double overloads, reached from generic code.</summary>
    private sealed record Kernels<T>(ReduceFn<T> Reduce, PointwiseFn<T> Pointwise, RowsFn<T> Rows)
    {
        internal static Kernels<T> Instance => (Kernels<T>)(typeof(T) == typeof(float) ? Library.Single : (object)Library.Double);
    }

    private static class Library
    {
        internal static readonly Kernels<float> Single = new(
            (x, t, r, b, o) => KlDivergence.Reduce(x, t, r, b, o),
            (x, t, d, o) => KlDivergence.Pointwise(x, t, d, o),
            (x, t, rows, columns, d, o) => KlDivergence.Rows(x, t, rows, columns, d, o));

        internal static readonly Kernels<double> Double = new(
            (x, t, r, b, o) => KlDivergence.Reduce(x, t, r, b, o),
            (x, t, d, o) => KlDivergence.Pointwise(x, t, d, o),
            (x, t, rows, columns, d, o) => KlDivergence.Rows(x, t, rows, columns, d, o));
    }
}
