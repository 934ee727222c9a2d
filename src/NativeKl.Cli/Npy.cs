using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace NativeKl.Cli;

/// <summary>
/// NumPy's .npy format (versions 1.0 to 3.0): the magic "\x93NUMPY", a version, a header length,
/// a Python dict literal {'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), } and the
/// data. Read and written: little-endian float32 and float64 in C order.
/// </summary>
internal static partial class Npy
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Whether the file starts with .npy's magic bytes: what makes a file .npy, whatever its name.</summary>
    internal static bool HasMagic(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Span<byte> start = stackalloc byte[Magic.Length];
        return stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) == start.Length && start.SequenceEqual(Magic);
    }

    internal static Tensor Read(string path)
    {
        // File.ReadAllBytes would fail past this with a message that does not name the file.
        long length = new FileInfo(path).Length;
        if (length > Array.MaxLength)
            throw new CliError($"{path}: {length:N0} bytes; .npy files of at most {Array.MaxLength:N0} bytes (2 GiB) can be read");
        byte[] file = File.ReadAllBytes(path);
        string Malformed(string why) => $"{path}: malformed .npy header: {why}";

        if (file.Length < 10 || !file.AsSpan(0, 6).SequenceEqual(Magic))
            throw new CliError(Malformed("the file does not start with \\x93NUMPY"));
        int major = file[6];
        if (major is < 1 or > 3) throw new CliError(Malformed($"unknown format version {major}.{file[7]}"));
        int prefix = major == 1 ? 10 : 12;
        if (file.Length < prefix) throw new CliError(Malformed("the file ends inside the header length"));
        long headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8))
            : BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8));
        if (prefix + headerLength > file.Length)
            throw new CliError(Malformed($"the header claims {headerLength} bytes, the file has {file.Length - prefix} after the prefix"));
        var encoding = major == 3 ? Encoding.UTF8 : Encoding.Latin1;
        string header = encoding.GetString(file, prefix, (int)headerLength).Trim();
        if (!header.StartsWith('{') || !header.EndsWith('}'))
            throw new CliError(Malformed($"expected a dict literal, found \"{Shorten(header)}\""));

        string descr = Field(header, DescrPattern(), "descr", Malformed);
        string fortranOrder = Field(header, FortranOrderPattern(), "fortran_order", Malformed);
        string shapeText = Field(header, ShapePattern(), "shape", Malformed);

        Dtype dtype = descr switch
        {
            "<f4" => Dtype.F32,
            "<f8" => Dtype.F64,
            _ => throw new CliError($"{path}: unsupported dtype '{Printable.Escape(descr)}': float32 ('<f4') or float64 ('<f8') is needed"),
        };
        if (fortranOrder == "True")
            throw new CliError($"{path}: Fortran order is not supported: save a C-ordered array (numpy.ascontiguousarray)");

        int[] shape = ParseShape(shapeText, Malformed);

        int size = dtype == Dtype.F64 ? 8 : 4;
        long count = 1;
        foreach (int extent in shape)
        {
            count *= extent;
            if (count > Array.MaxLength) throw new CliError($"{path}: shape ({Shorten(shapeText)}) is too large");
        }
        long dataLength = file.Length - prefix - headerLength;
        if (dataLength != count * size)
            throw new CliError($"{path}: the header's shape ({Shorten(shapeText)}) of {Tensor.DtypeName(dtype)} needs {count * size} bytes of data, the file holds {dataLength}");

        var data = file.AsSpan((int)(prefix + headerLength));
        var values = new double[count];
        if (dtype == Dtype.F64) MemoryMarshal.Cast<byte, double>(data).CopyTo(values);
        else
        {
            var floats = MemoryMarshal.Cast<byte, float>(data);
            for (int i = 0; i < floats.Length; i++) values[i] = floats[i];
        }
        return new Tensor(shape, values, dtype);
    }

    internal static void Write(Stream stream, Tensor tensor)
    {
        string shape = tensor.Shape.Length == 1 ? $"({tensor.Shape[0]},)" : "(" + string.Join(", ", tensor.Shape) + ")";
        string dict = $"{{'descr': '{(tensor.Dtype == Dtype.F64 ? "<f8" : "<f4")}', 'fortran_order': False, 'shape': {shape}, }}";
        // Version 1.0; the header ends in a newline and pads the data's start to 64 bytes.
        int padded = (10 + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(padded - 10 - 1) + "\n";
        var prefix = new byte[10];
        Magic.CopyTo(prefix, 0);
        prefix[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix.AsSpan(8), (ushort)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.Latin1.GetBytes(header));
        if (tensor.Dtype == Dtype.F64) stream.Write(MemoryMarshal.AsBytes(tensor.Values.AsSpan()));
        else stream.Write(MemoryMarshal.AsBytes(Array.ConvertAll(tensor.Values, v => (float)v).AsSpan()));
    }

    private static string Field(string header, Regex pattern, string key, Func<string, string> malformed)
    {
        var match = pattern.Match(header);
        if (!match.Success) throw new CliError(malformed($"no valid '{key}' entry in {Shorten(header)}"));
        return match.Groups[1].Value;
    }

    /// <summary>A Python tuple of sizes as NumPy writes it: (), (6,), (2, 3) or (2, 3,).</summary>
    private static int[] ParseShape(string text, Func<string, string> malformed)
    {
        string Bad(string why) => malformed($"the shape ({Printable.Escape(text, 80)}) {why}");
        if (text.Trim().Length == 0) return Array.Empty<int>();
        var parts = text.Split(',', StringSplitOptions.TrimEntries).ToList();
        // Python's tuple syntax: one trailing comma, needed after a single size.
        if (parts.Count == 1) throw new CliError(Bad($"is not a tuple: one dimension is written ({parts[0]},)"));
        if (parts[^1].Length == 0) parts.RemoveAt(parts.Count - 1);
        var shape = new int[parts.Count];
        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i].Length == 0) throw new CliError(Bad($"has no size before comma {i + 1}"));
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out shape[i]))
                throw new CliError(Bad($"holds '{Printable.Escape(parts[i])}', not a size"));
        }
        return shape;
    }

    private static string Shorten(string text) => Printable.Escape(text, 80);

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]*)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)\b")]
    private static partial Regex FortranOrderPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
