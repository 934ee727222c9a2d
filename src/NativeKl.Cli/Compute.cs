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
        "usage: nativekl compute --input A --target B [--reduction mean|sum|batchmean|none|rows] [--log-target]\n" +
        "                        [--masked] [--dtype f32|f64] [--output FILE.npy|FILE.csv] [--backend auto|native|managed]\n" +
        "  torch.nn.functional.kl_div(A, B) of two files of one shape; dimension 0 is the batch. A file is .npy\n" +
        "  (float32 or float64, C order) when it starts with .npy's magic bytes, whatever its name, and CSV\n" +
        "  otherwise (one row per line; float32, as torch.tensor reads it, unless --dtype f64).\n" +
        "  --reduction   mean (the default, as PyTorch), sum, batchmean (sum / size of dimension 0),\n" +
        "                none (one value per element), rows (one KL per row of dimension 0)\n" +
        "  --log-target  B holds log-probabilities\n" +
        "  --masked      a zero-probability target contributes exactly 0, whatever A holds there\n" +
        "  --dtype       compute in float32 or float64 (default: the type of A)\n" +
        "  --output      write .npy, or CSV (.csv, .txt), instead of printing the values as CSV. The result goes\n" +
        "                to a temporary file beside FILE, flushed to disk, then renamed over FILE: a failed or\n" +
        "                interrupted run (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT) leaves FILE as it was and no\n" +
        "                temporary file (SIGKILL, a crash or a power cut can leave a .FILE.*.tmp beside it).\n" +
        "                An existing FILE keeps its permission bits (not its owner). A symbolic link is\n" +
        "                followed: the file it points to is replaced and the link kept. FILE may not be A or\n" +
        "                B, however spelt (the same device and inode; on Windows the same file ID; on other\n" +
        "                systems the same path once links are resolved): refused, nothing written.\n" +
        "  --backend     auto (the default), native (libnativekl: an error when it cannot be loaded), managed\n" +
        "  Bad input, a bad command line or an unusable NKL_ISA: one line on stderr, exit code 2.\n";

    internal static int Run(IReadOnlyList<string> args)
    {
        var o = Options.Parse("compute", args, new[] { "--input", "--target", "--reduction", "--dtype", "--output", "--backend" },
                              new[] { "--log-target", "--masked" });
        string inputPath = o.Required("--input"), targetPath = o.Required("--target");
        var reduction = o.Choice("--reduction", Reductions, Reduction.Mean);
        Dtype? requested = o.Choice("--dtype", Dtypes, null);
        var options = new KlOptions(o.Has("--log-target"), o.Has("--masked")) { Backend = Program.ParseBackend(o.Get("--backend")) };

        Tensor.CheckReadable(inputPath, "input");
        Tensor.CheckReadable(targetPath, "target");
        // Everything about --output that can be checked is checked before any work: nothing is computed for a refused file.
        OutputFile? output = o.Get("--output") is { } outputPath
            ? OutputFile.Prepare(outputPath, ("--input", inputPath), ("--target", targetPath))
            : null;

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

        if (output != null) output.Write(result);
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
                    Reduction.Sum => KlReduction.Sum, Reduction.Mean => KlReduction.Mean, _ => KlReduction.BatchMean(batch),
                };
                T value = kernels.Reduce(x, t, kind, options);
                return new Tensor(Array.Empty<int>(), new[] { double.CreateTruncating(value) }, dtype);
            }
        }
    }

    private static double[] Widen<T>(T[] values) where T : unmanaged, IFloatingPointIeee754<T> =>
        Array.ConvertAll(values, double.CreateTruncating);

    private delegate T ReduceFn<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, KlReduction reduction, KlOptions options);
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
            (x, t, r, o) => KlDivergence.Reduce(x, t, r, o),
            (x, t, d, o) => KlDivergence.Pointwise(x, t, d, o),
            (x, t, rows, columns, d, o) => KlDivergence.Rows(x, t, rows, columns, d, o));

        internal static readonly Kernels<double> Double = new(
            (x, t, r, o) => KlDivergence.Reduce(x, t, r, o),
            (x, t, d, o) => KlDivergence.Pointwise(x, t, d, o),
            (x, t, rows, columns, d, o) => KlDivergence.Rows(x, t, rows, columns, d, o));
    }
}
