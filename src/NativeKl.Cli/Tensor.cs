namespace NativeKl.Cli;

internal enum Dtype { F32, F64 }

/// <summary>An n-dimensional array of numbers in C order, as read from or written to a file.</summary>
internal sealed record Tensor(int[] Shape, double[] Values, Dtype Dtype)
{
    /// <summary>Dimension 0: the batch of batchmean and the rows of the per-row KL; 1 for a 0-d tensor.</summary>
    internal int Batch => Shape.Length == 0 ? 1 : Shape[0];

    internal string ShapeText => "[" + string.Join(", ", Shape) + "]";

    internal static string DtypeName(Dtype dtype) => dtype == Dtype.F64 ? "float64" : "float32";

    /// <summary>Reads a .npy file (by its extension) or a CSV file (anything else).</summary>
    internal static Tensor Read(string path, string role)
    {
        if (!File.Exists(path))
            throw new CliError(Directory.Exists(path) ? $"{role} '{path}' is a directory, not a file" : $"{role} file '{path}' not found");
        return IsNpy(path) ? Npy.Read(path) : Csv.Read(path);
    }

    /// <summary>Writes <paramref name="path"/> as .npy or CSV (by its extension) through a temporary
    /// file renamed into place: on any failure nothing is left at <paramref name="path"/>.</summary>
    internal void Write(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        Action<Stream> write = extension switch
        {
            ".npy" => stream => Npy.Write(stream, this),
            ".csv" or ".txt" => stream => Csv.Write(stream, this),
            _ => throw new CliError($"--output {path}: the extension must be .npy or .csv"),
        };
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory)) throw new CliError($"--output {path}: directory '{directory}' not found");
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                write(stream);
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static bool IsNpy(string path) => string.Equals(Path.GetExtension(path), ".npy", StringComparison.OrdinalIgnoreCase);
}
