using System.Globalization;
using System.Text;

namespace NativeKl.Cli;

/// <summary>
/// CSV of numbers: one row per line, cells separated by commas, blank lines ignored; a file of
/// r rows of c cells is an [r, c] float32 tensor (unless --dtype f64). nan, inf and -inf are
/// read as Python and NumPy write them, and written so.
/// </summary>
internal static class Csv
{
    internal static Tensor Read(string path)
    {
        var values = new List<double>();
        int rows = 0, columns = -1, firstRowLine = 0, lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (line.Contains('\0'))
                throw new CliError($"{path}: line {lineNumber} holds a NUL byte: neither CSV text nor .npy (which starts with \\x93NUMPY)");
            string[] cells = line.Split(',');
            for (int c = 0; c < cells.Length; c++)
                values.Add(ParseCell(cells[c].Trim(), path, lineNumber, c + 1));
            if (columns < 0) (columns, firstRowLine) = (cells.Length, lineNumber);
            else if (cells.Length != columns)
                throw new CliError($"{path}: line {lineNumber} has {cells.Length} values, line {firstRowLine} has {columns}");
            rows++;
        }
        if (rows == 0) throw new CliError($"{path}: no rows (an empty CSV file)");
        return new Tensor(new[] { rows, columns }, values.ToArray(), Dtype.F32);
    }

    /// <summary>A 2-d tensor row by row; 1-d one value per line; 0-d one value; more dimensions as [dim 0, the rest].</summary>
    internal static void Write(Stream stream, Tensor tensor)
    {
        int columns = tensor.Shape.Length >= 2 ? (tensor.Shape[0] == 0 ? 0 : tensor.Values.Length / tensor.Shape[0]) : 1;
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), bufferSize: -1, leaveOpen: true) { NewLine = "\n" };
        var line = new StringBuilder();
        for (int start = 0; start < tensor.Values.Length; start += columns)
        {
            line.Clear();
            for (int c = 0; c < columns; c++)
            {
                if (c > 0) line.Append(',');
                line.Append(Format(tensor.Values[start + c], tensor.Dtype));
            }
            writer.WriteLine(line);
        }
    }

    /// <summary>The shortest text that reads back to the same value in the tensor's type.</summary>
    internal static string Format(double value, Dtype dtype) =>
        double.IsNaN(value) ? "nan"
        : double.IsPositiveInfinity(value) ? "inf"
        : double.IsNegativeInfinity(value) ? "-inf"
        : dtype == Dtype.F32 ? ((float)value).ToString("R", CultureInfo.InvariantCulture)
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static double ParseCell(string cell, string path, int line, int column)
    {
        switch (cell.ToLowerInvariant())
        {
            case "nan" or "+nan" or "-nan": return double.NaN;
            case "inf" or "+inf" or "infinity" or "+infinity": return double.PositiveInfinity;
            case "-inf" or "-infinity": return double.NegativeInfinity;
        }
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        string what = cell.Length == 0 ? "an empty cell" : $"'{Printable.Escape(cell)}' is not a number";
        throw new CliError($"{path}: line {line}, column {column}: {what}");
    }
}
