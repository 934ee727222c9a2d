using System.Globalization;
using System.Text;

namespace NativeKl.Tests;

/// <summary>
/// The `nativekl` tool end to end, in its own process. demo: with the native library, and with it
/// missing (a copy of the tool without it), where Auto falls back to managed and says why; with
/// NATIVEKL_LIBRARY naming a file that does not load, every command fails in one line, exit code 2.
/// compute: .npy and CSV in and out, checked against the formula in double precision; every kind of
/// bad input is one line on stderr, exit code 2, and leaves no file behind. info and bench.
/// </summary>
public class CliTests : IClassFixture<CliFiles>
{
    private readonly CliFiles _files;

    public CliTests(CliFiles files) => _files = files;

    internal static string CliPath
    {
        get
        {
#if DEBUG
            const string configuration = "Debug";
#else
            const string configuration = "Release";
#endif
            return Path.Combine(TestData.RepoRoot, "src", "NativeKl.Cli", "bin", configuration, "net10.0", "NativeKl.Cli.dll");
        }
    }

    private static (int ExitCode, string Output) Run(string arguments, string? nativeLibrary = null)
    {
        var result = RunCli(arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries), nativeLibrary);
        return (result.ExitCode, result.Output);
    }

    internal static ProcessRunner.Result RunCli(IEnumerable<string> arguments, string? nativeLibrary = null, string? cliPath = null) =>
        ProcessRunner.Run("dotnet", new[] { cliPath ?? CliPath }.Concat(arguments), environment: new Dictionary<string, string?>
        {
            ["NATIVEKL_BACKEND"] = null, ["NATIVEKL_LIBRARY"] = nativeLibrary, ["LD_LIBRARY_PATH"] = null,
        });

    /// <summary>The tool copied without libnativekl: the library is missing, as on a machine it was not built for.</summary>
    private ProcessRunner.Result RunWithoutLibrary(params string[] arguments) =>
        RunCli(arguments, cliPath: _files.CliWithoutLibrary());

    [Fact]
    public void Demo_reproduces_the_seed_example_on_the_native_backend()
    {
        var (code, output) = Run("demo");
        Assert.True(code == 0, output);
        Assert.Contains("softmax(logits)    [[0.250089, 0.412327, 0.337585], [0.269307, 0.328933, 0.401760]]", output);
        Assert.Contains("sum        0.115592", output);
        Assert.Contains("batchmean  0.057796", output);
        Assert.Contains("mean       0.019265", output);
        Assert.Contains("backend: Native, ISA: " + KlBackend.NativeIsa, output);
    }

    [Fact]
    public void Demo_falls_back_to_managed_when_the_library_is_missing()
    {
        var result = RunWithoutLibrary("demo");
        string output = result.Output;
        Assert.True(result.ExitCode == 0, output);
        Assert.Contains("sum        0.115592", output);
        Assert.Contains("mean       0.019265", output);
        Assert.Contains("backend: Managed", output);
        Assert.Contains("the native library is unavailable", output);
        Assert.Contains("libnativekl.so (not found)", output);
    }

    [Fact]
    public void Every_command_fails_in_one_line_when_NATIVEKL_LIBRARY_does_not_load()
    {
        string notALibrary = _files.PathOf("x.csv");
        foreach (var (library, reason) in new[]
                 {
                     ("/nonexistent/libnativekl.so", "there is no such file"),
                     (notALibrary, "could not be loaded"),
                     (Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "libSystem.Native.so"), "it is not libnativekl"),
                 })
            foreach (string[] command in new[]
                     {
                         new[] { "demo" }, new[] { "demo", "--backend", "managed" }, new[] { "info" }, new[] { "bench", "--quick" },
                         new[] { "compute", "--input", _files.PathOf("x.npy"), "--target", _files.PathOf("t.npy") },
                     })
            {
                var result = RunCli(command, nativeLibrary: library);
                string what = $"{string.Join(' ', command)} with NATIVEKL_LIBRARY={library}: {result}";
                Assert.True(result.ExitCode == 2, what);
                Assert.Equal("", result.Stdout); // nothing computed, by the bundled library or the managed backend
                Assert.StartsWith($"nativekl: NATIVEKL_LIBRARY={library} ", result.Stderr);
                Assert.Contains(reason, result.Stderr);
                Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
    }

    [Fact]
    public void NATIVEKL_LIBRARY_naming_a_good_copy_is_the_library_used()
    {
        string copy = _files.PathOf("libnativekl-under-test.so");
        File.Copy(Path.Combine(Path.GetDirectoryName(CliPath)!, "libnativekl.so"), copy, overwrite: true);
        var demo = RunCli(new[] { "demo" }, nativeLibrary: copy);
        Assert.True(demo.ExitCode == 0, demo.ToString());
        Assert.Contains("sum        0.115592", demo.Stdout);
        Assert.Contains("from NATIVEKL_LIBRARY", demo.Stdout);
        var info = RunCli(new[] { "info" }, nativeLibrary: copy);
        Assert.Contains($"library:        {copy}", info.Stdout);
    }

    [Fact]
    public void Unknown_command_is_an_error()
    {
        var (code, output) = Run("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("usage: nativekl demo", output);
    }

    // ------------------------------------------------------------------ compute

    /// <summary>`nativekl compute`, the file names after --input, --target and --output taken in the fixture's folder.</summary>
    private ProcessRunner.Result Compute(params string[] arguments) =>
        RunCli(new[] { "compute" }.Concat(arguments.Select((a, i) =>
            i > 0 && arguments[i - 1] is "--input" or "--target" or "--output" ? _files.PathOf(a) : a)));

    private static double Value(ProcessRunner.Result result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return double.Parse(result.Stdout.Trim(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Compute_prints_each_reduction_of_the_seed_example_from_npy()
    {
        Assert.Equal(0.115592, Value(Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "sum")), 6);
        Assert.Equal(0.0577962, Value(Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "batchmean")), 7);
        Assert.Equal(0.0192654, Value(Compute("--input", "x.npy", "--target", "t.npy")), 7); // mean, PyTorch's default
        Assert.Equal(CliFiles.Reference(_files.X, _files.T).Sum() / 2,
                     Value(Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "batchmean")), 7);
    }

    [Fact]
    public void Compute_reads_csv_as_float32_and_as_float64_with_dtype_f64()
    {
        double reference = CliFiles.Reference(_files.X, _files.T).Sum() / 2;
        var f32 = Compute("--input", "x.csv", "--target", "t.csv", "--reduction", "batchmean");
        var f64 = Compute("--input", "x.csv", "--target", "t.csv", "--reduction", "batchmean", "--dtype", "f64");
        Assert.Equal(reference, Value(f32), 7);
        // float64 reads the CSV's text as double, not as float.
        double[] Parse(string name) => File.ReadAllText(_files.PathOf(name)).Split(new[] { ',', '\n' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(CliFiles.Reference(Parse("x.csv"), Parse("t.csv")).Sum() / 2, Value(f64), 14);
        Assert.True(f64.Stdout.Trim().Length > f32.Stdout.Trim().Length, $"float64 prints its digits: {f64.Stdout} vs {f32.Stdout}");
        Assert.Equal(reference, Value(Compute("--input", "x64.npy", "--target", "t64.npy", "--reduction", "batchmean")), 14);
    }

    [Fact]
    public void Compute_none_writes_an_npy_of_the_input_shape_and_rows_a_csv()
    {
        string npy = _files.Fresh("none.npy"), csv = _files.Fresh("rows.csv");
        Assert.Equal(0, Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none", "--output", npy).ExitCode);
        var (descr, shape, data) = CliFiles.ReadNpy(npy);
        Assert.Equal(("<f4", "2, 3"), (descr, shape));
        double[] expected = CliFiles.Reference(_files.X, _files.T);
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], BitConverter.ToSingle(data, 4 * i), 6);

        Assert.Equal(0, Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "rows", "--output", csv).ExitCode);
        string[] lines = File.ReadAllLines(csv);
        Assert.Equal(2, lines.Length);
        for (int r = 0; r < 2; r++)
            Assert.Equal(expected.Skip(3 * r).Take(3).Sum(), double.Parse(lines[r], CultureInfo.InvariantCulture), 6);
        Assert.Empty(Directory.GetFiles(_files.Folder, "*.tmp"));
    }

    [Fact]
    public void Compute_none_prints_csv_and_honours_log_target_and_masked()
    {
        var printed = Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none");
        Assert.True(printed.ExitCode == 0, printed.ToString());
        Assert.Equal(2, printed.Stdout.Trim().Split('\n').Length);
        Assert.Equal(3, printed.Stdout.Split('\n')[0].Split(',').Length);

        double logTarget = CliFiles.Reference(_files.X, _files.LogT, logTarget: true).Sum();
        Assert.Equal(logTarget, Value(Compute("--input", "x.npy", "--target", "logt.npy", "--reduction", "sum", "--log-target")), 6);

        // A zero-probability target where the input is -inf: NaN as PyTorch, 0 with --masked.
        Assert.Equal("nan", Compute("--input", "xmasked.csv", "--target", "tzero.csv", "--reduction", "sum").Stdout.Trim());
        Assert.Equal(CliFiles.Reference(_files.X.Skip(1).ToArray(), _files.T.Skip(1).ToArray()).Sum(),
                     Value(Compute("--input", "xmasked.csv", "--target", "tzero.csv", "--reduction", "sum", "--masked")), 6);
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { new[] { "--input", "missing.npy", "--target", "t.npy" }, "input file '{missing.npy}' not found" },
        { new[] { "--input", "x.npy", "--target", "x23.csv" }, "shape mismatch: input {x.npy} is [2, 3], target {x23.csv} is [3, 2]" },
        { new[] { "--input", "badmagic.npy", "--target", "t.npy" }, "{badmagic.npy}: malformed .npy header: the file does not start with \\x93NUMPY" },
        { new[] { "--input", "noshape.npy", "--target", "t.npy" }, "{noshape.npy}: malformed .npy header: no valid 'shape' entry" },
        { new[] { "--input", "short.npy", "--target", "t.npy" }, "{short.npy}: the header's shape (2, 3) of float32 needs 24 bytes of data, the file holds 20" },
        { new[] { "--input", "int32.npy", "--target", "t.npy" }, "{int32.npy}: unsupported dtype '<i4': float32 ('<f4') or float64 ('<f8') is needed" },
        { new[] { "--input", "fortran.npy", "--target", "t.npy" }, "{fortran.npy}: Fortran order is not supported" },
        { new[] { "--input", "x.csv", "--target", "badcell.csv" }, "{badcell.csv}: line 2, column 3: '0.4x' is not a number" },
        { new[] { "--input", "x.csv", "--target", "emptycell.csv" }, "{emptycell.csv}: line 1, column 2: an empty cell" },
        { new[] { "--input", "x.csv", "--target", "ragged.csv" }, "{ragged.csv}: line 3 has 2 values, line 1 has 3" },
        { new[] { "--input", "x.npy", "--target", "t.npy", "--dtype", "f16" }, "--dtype f16: expected f32, f64" },
        { new[] { "--input", "x.npy", "--target", "t.npy", "--reduction", "average" }, "--reduction average: expected none, sum, mean, batchmean, rows" },
        { new[] { "--input", "x.npy" }, "--target is required" },
        { new[] { "--input", "x.npy", "--target", "t.npy", "--output", "out.bin" }, "--output {out.bin}: the extension must be .npy or .csv" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_one_line_on_stderr_and_exit_code_2(string[] arguments, string message)
    {
        var result = Compute(arguments);
        string expected = "nativekl: " + System.Text.RegularExpressions.Regex.Replace(message, @"\{([^}]+)\}", m => _files.PathOf(m.Groups[1].Value));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Stdout);
        Assert.StartsWith(expected, result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));  // one line: no stack trace
    }

    [Fact]
    public void A_failed_compute_leaves_an_existing_output_as_it_was_and_no_temporary_file()
    {
        string output = _files.Fresh("kept.npy");
        File.WriteAllText(output, "the previous result");
        foreach (var bad in new[] { new[] { "--target", "badcell.csv" }, new[] { "--target", "x23.csv" }, new[] { "--target", "short.npy" } })
        {
            var result = Compute(new[] { "--input", "x.csv", "--reduction", "none", "--output", output }.Concat(bad).ToArray());
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Equal("the previous result", File.ReadAllText(output));
        }
        Assert.Equal(0, Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none", "--output", output).ExitCode);
        Assert.Equal("<f4", CliFiles.ReadNpy(output).Descr);
        Assert.Empty(Directory.GetFiles(_files.Folder, "*.tmp"));
    }

    // ------------------------------------------------------------------ info and bench

    [Fact]
    public void Info_names_the_version_backend_isa_and_the_library_file_loaded()
    {
        var result = RunCli(new[] { "info" });
        Assert.True(result.ExitCode == 0, result.ToString());
        string version = System.Text.RegularExpressions.Regex.Match(
            File.ReadAllText(Path.Combine(TestData.RepoRoot, "native", "include", "nativekl.h")),
            "#define NKL_VERSION_STRING \"([0-9.]+)\"").Groups[1].Value;
        Assert.Contains($"libnativekl {version}", result.Stdout);
        Assert.Contains("backend:        Native", result.Stdout);
        Assert.Contains("active ISA:     " + KlBackend.NativeIsa, result.Stdout);
        string library = System.Text.RegularExpressions.Regex.Match(result.Stdout, "library: +(.+)").Groups[1].Value.Trim();
        Assert.True(File.Exists(library) && Path.GetFileName(library).StartsWith("libnativekl"), result.Stdout);

        var managed = RunWithoutLibrary("info");
        Assert.Contains("backend:        Managed", managed.Stdout);
        Assert.Contains("library:        none loaded", managed.Stdout);
    }

    [Fact]
    public void Bench_quick_reports_progress_and_a_table_for_both_backends()
    {
        var result = RunCli(new[] { "bench", "--quick" });
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"\[16/16\] none f64 n=65536 managed", result.Stderr);
        Assert.Matches(@"operation +dtype +elements +backend +time/call", result.Stdout);
        foreach (string backend in new[] { "native", "managed" })
            Assert.Matches($@"sum +f32 +4096 +{backend} +[0-9.]+ (ns|µs|ms)", result.Stdout);
    }
}

/// <summary>The files the compute tests read: the seed example as .npy (float32, float64) and CSV,
/// and one file for each kind of bad input.</summary>
public sealed class CliFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("nativekl-cli-").FullName;
    public float[] X { get; }
    public float[] T { get; } = { 0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f };
    public float[] LogT { get; }

    public CliFiles()
    {
        double[] logits = { 0.5, 1.0, 0.8, 0.2, 0.4, 0.6 };
        X = new float[6];
        for (int r = 0; r < 2; r++)
        {
            double logTotal = Math.Log(Enumerable.Range(0, 3).Sum(c => Math.Exp(logits[3 * r + c])));
            for (int c = 0; c < 3; c++) X[3 * r + c] = (float)(logits[3 * r + c] - logTotal);
        }
        LogT = Array.ConvertAll(T, v => (float)Math.Log(v));

        WriteNpy("x.npy", "<f4", "(2, 3)", Bytes(X));
        WriteNpy("t.npy", "<f4", "(2, 3)", Bytes(T));
        WriteNpy("logt.npy", "<f4", "(2, 3)", Bytes(LogT));
        WriteNpy("x64.npy", "<f8", "(2, 3)", Bytes(Array.ConvertAll(X, v => (double)v)));
        WriteNpy("t64.npy", "<f8", "(2, 3)", Bytes(Array.ConvertAll(T, v => (double)v)));
        WriteNpy("int32.npy", "<i4", "(2, 3)", new byte[24]);
        WriteNpy("fortran.npy", "<f4", "(2, 3)", Bytes(X), fortranOrder: true);
        WriteNpy("short.npy", "<f4", "(2, 3)", Bytes(X)[..20]);
        File.WriteAllBytes(PathOf("noshape.npy"), NpyBytes("{'descr': '<f4', 'fortran_order': False, }", Bytes(X)));
        File.WriteAllBytes(PathOf("badmagic.npy"), Encoding.ASCII.GetBytes("x,y,z\n1,2,3\n"));

        WriteCsv("x.csv", X, 3);
        WriteCsv("t.csv", T, 3);
        WriteCsv("x23.csv", X, 2);
        WriteCsv("xmasked.csv", new[] { float.NegativeInfinity }.Concat(X.Skip(1)).ToArray(), 3);
        WriteCsv("tzero.csv", new[] { 0f }.Concat(T.Skip(1)).ToArray(), 3);
        File.WriteAllText(PathOf("badcell.csv"), "0.3,0.4,0.3\n0.1, 0.5 ,0.4x\n");
        File.WriteAllText(PathOf("emptycell.csv"), "0.3,,0.3\n0.1,0.5,0.4\n");
        File.WriteAllText(PathOf("ragged.csv"), "0.3,0.4,0.3\n\n0.1,0.5\n");
    }

    public string PathOf(string name) => Path.Combine(Folder, name);

    private string? _cliWithoutLibrary;

    /// <summary>A copy of the built tool without libnativekl (made once): its NativeKl.Cli.dll.</summary>
    public string CliWithoutLibrary()
    {
        lock (this)
        {
            if (_cliWithoutLibrary == null)
            {
                string source = Path.GetDirectoryName(CliTests.CliPath)!, target = PathOf("cli-without-library");
                foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
                {
                    if (Path.GetFileName(file).StartsWith("libnativekl", StringComparison.Ordinal)) continue;
                    string to = Path.Combine(target, Path.GetRelativePath(source, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                    File.Copy(file, to);
                }
                _cliWithoutLibrary = Path.Combine(target, "NativeKl.Cli.dll");
            }
            return _cliWithoutLibrary;
        }
    }

    /// <summary>A path in the folder with no file at it yet.</summary>
    public string Fresh(string name)
    {
        string path = PathOf(Guid.NewGuid().ToString("N")[..8] + "-" + name);
        Assert.False(File.Exists(path));
        return path;
    }

    /// <summary>The pointwise terms from PyTorch's formula, in double precision.</summary>
    public static double[] Reference(float[] x, float[] t, bool logTarget = false) =>
        Reference(Array.ConvertAll(x, v => (double)v), Array.ConvertAll(t, v => (double)v), logTarget);

    public static double[] Reference(double[] x, double[] t, bool logTarget = false) =>
        x.Zip(t, (xi, ti) => logTarget ? Math.Exp(ti) * (ti - xi) : (ti > 0 ? ti * Math.Log(ti) : 0.0) - ti * xi).ToArray();

    /// <summary>The descr, the shape's text and the data of an .npy file (version 1.0).</summary>
    public static (string Descr, string Shape, byte[] Data) ReadNpy(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        Assert.Equal("\x93NUMPY", Encoding.Latin1.GetString(file, 0, 6));
        int headerLength = BitConverter.ToUInt16(file, 8);
        string header = Encoding.Latin1.GetString(file, 10, headerLength);
        Assert.Equal(0, (10 + headerLength) % 64);
        var descr = System.Text.RegularExpressions.Regex.Match(header, "'descr': '([^']+)'").Groups[1].Value;
        var shape = System.Text.RegularExpressions.Regex.Match(header, @"'shape': \(([^)]*)\)").Groups[1].Value;
        return (descr, shape, file[(10 + headerLength)..]);
    }

    private void WriteNpy(string name, string descr, string shape, byte[] data, bool fortranOrder = false) =>
        File.WriteAllBytes(PathOf(name), NpyBytes(
            $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {shape}, }}", data));

    private static byte[] NpyBytes(string dict, byte[] data)
    {
        string header = dict + "\n";
        var bytes = new List<byte>(Encoding.Latin1.GetBytes("\x93NUMPY\x01\x00"));
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(Encoding.Latin1.GetBytes(header));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private void WriteCsv(string name, float[] values, int columns) =>
        File.WriteAllText(PathOf(name), string.Join("\n", values.Chunk(columns).Select(row =>
            string.Join(",", row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))))) + "\n");

    private static byte[] Bytes<T>(T[] values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
