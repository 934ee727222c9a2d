namespace NativeKl.Cli;

internal enum Dtype { F32, F64 }

/// <summary>An n-dimensional array of numbers in C order, as read from or written to a file.</summary>
internal sealed record Tensor(int[] Shape, double[] Values, Dtype Dtype)
{
    /// <summary>Dimension 0: the batch of batchmean and the rows of the per-row KL; 1 for a 0-d tensor.</summary>
    internal int Batch => Shape.Length == 0 ? 1 : Shape[0];

    internal string ShapeText => "[" + string.Join(", ", Shape) + "]";

    internal static string DtypeName(Dtype dtype) => dtype == Dtype.F64 ? "float64" : "float32";

    /// <summary>A <see cref="CliError"/> unless <paramref name="path"/> names a file.</summary>
    internal static void CheckReadable(string path, string role)
    {
        if (!File.Exists(path))
            throw new CliError(Directory.Exists(path) ? $"{role} '{path}' is a directory, not a file" : $"{role} file '{path}' not found");
    }

    /// <summary>Reads a .npy file (one that starts with .npy's magic bytes, or is named *.npy) or a CSV file (anything else).</summary>
    internal static Tensor Read(string path, string role)
    {
        CheckReadable(path, role);
        return Npy.HasMagic(path) || string.Equals(Path.GetExtension(path), ".npy", StringComparison.OrdinalIgnoreCase)
            ? Npy.Read(path)
            : Csv.Read(path);
    }
}
