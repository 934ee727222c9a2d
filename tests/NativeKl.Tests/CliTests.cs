using System.Globalization;
using System.Runtime.CompilerServices;
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

    /// <summary>The tool with NATIVEKL_BACKEND, LD_LIBRARY_PATH, NKL_ISA and the test pause unset, NATIVEKL_LIBRARY as given, then <paramref name="environment"/>.</summary>
    internal static ProcessRunner.Result RunCli(IEnumerable<string> arguments, string? nativeLibrary = null,
                                                IReadOnlyDictionary<string, string?>? environment = null, string? cliPath = null) =>
        ProcessRunner.Run("dotnet", new[] { cliPath ?? CliPath }.Concat(arguments), environment: CliEnvironment(nativeLibrary, environment));

    private static Dictionary<string, string?> CliEnvironment(string? nativeLibrary = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["NATIVEKL_BACKEND"] = null, ["NATIVEKL_LIBRARY"] = nativeLibrary, ["LD_LIBRARY_PATH"] = null, ["NKL_ISA"] = null,
            [PauseVariable] = null,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>()) all[name] = value;
        return all;
    }

    private const string PauseVariable = "NATIVEKL_TEST_PAUSE_BEFORE_RENAME";

#if DEBUG
    private static readonly bool DebugBuild = true;
#else
    private static readonly bool DebugBuild = false;
#endif

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
    public void Unknown_command_is_named_on_one_line()
    {
        var result = RunCli(new[] { "frobnicate", "--input", "x" });
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Stdout);
        Assert.Equal("nativekl: unknown command 'frobnicate': expected demo, compute, info, bench or help (`nativekl help` prints their usage)\n",
                     result.Stderr);
    }

    [Theory]
    [InlineData("compute", "--help")]
    [InlineData("compute", "-h")]
    [InlineData("help", "compute")]
    [InlineData("demo", "--help")]
    [InlineData("info", "--help")]
    [InlineData("bench", "--help")]
    public void A_command_with_help_prints_its_usage_and_exit_code_0(string command, string help)
    {
        var result = RunCli(command == "help" ? new[] { "help", help } : new[] { command, help, "--input", "ignored" });
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
        string name = command == "help" ? help : command;
        Assert.StartsWith($"usage: nativekl {name}", result.Stdout);
        if (name == "compute")
            foreach (string promise in new[] { "--output", "renamed over FILE", "permission bits", "symbolic link", "device and inode", "SIGTERM" })
                Assert.Contains(promise, result.Stdout);

        var all = RunCli(new[] { "help" });
        Assert.True(all.ExitCode == 0, all.ToString());
        foreach (string c in new[] { "demo", "compute", "info", "bench" }) Assert.Contains($"nativekl {c}", all.Stdout);
    }

    [Fact]
    public void Backend_native_without_the_library_is_one_line_and_exit_code_2()
    {
        string withoutLibrary = _files.CliWithoutLibrary();
        foreach (var (arguments, environment, start) in new (string[], Dictionary<string, string?>?, string)[]
                 {
                     (new[] { "compute", "--input", _files.PathOf("x.npy"), "--target", _files.PathOf("t.npy"), "--backend", "native" }, null,
                      "nativekl: --backend native: the native library is unavailable: libnativekl.so could not be loaded"),
                     (new[] { "demo", "--backend", "native" }, null,
                      "nativekl: --backend native: the native library is unavailable: libnativekl.so could not be loaded"),
                     (new[] { "compute", "--input", _files.PathOf("x.npy"), "--target", _files.PathOf("t.npy") },
                      new() { ["NATIVEKL_BACKEND"] = "native" }, "nativekl: NATIVEKL_BACKEND=native, but the library is unavailable"),
                 })
        {
            var result = RunCli(arguments, environment: environment, cliPath: withoutLibrary);
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Equal("", result.Stdout);
            Assert.StartsWith(start, result.Stderr);
            Assert.Contains(Path.GetDirectoryName(withoutLibrary)!, result.Stderr);   // the files tried
            Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        }
        // Managed needs no library.
        Assert.Equal(0.115592, Value(RunCli(new[] { "compute", "--input", _files.PathOf("x.npy"), "--target", _files.PathOf("t.npy"),
                                                    "--reduction", "sum", "--backend", "managed" }, cliPath: withoutLibrary)), 6);
    }

    [Fact]
    public void An_unknown_NKL_ISA_value_is_an_error_that_names_the_values()
    {
        string[] compute = { "compute", "--input", _files.PathOf("x.npy"), "--target", _files.PathOf("t.npy"), "--reduction", "sum" };
        var unknown = new Dictionary<string, string?> { ["NKL_ISA"] = "avx512" };
        const string problem = "the environment variable NKL_ISA is 'avx512', not auto, scalar, avx2 or neon";

        var result = RunCli(compute, environment: unknown);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Stdout);
        Assert.StartsWith("nativekl: nkl_kl_div_f32 returned NKL_ERROR_INVALID_ENVIRONMENT: " + problem, result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));

        var info = RunCli(new[] { "info" }, environment: unknown);
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains($"active ISA:     none ({problem})", info.Stdout);

        // The managed backend does not read NKL_ISA; a known value still runs.
        Assert.Equal(0.115592, Value(RunCli(compute.Append("--backend").Append("managed"), environment: unknown)), 6);
        Assert.Equal(0.115592, Value(RunCli(compute, environment: new Dictionary<string, string?> { ["NKL_ISA"] = "scalar" })), 6);
        Assert.Contains("active ISA:     scalar", RunCli(new[] { "info" }, environment: new Dictionary<string, string?> { ["NKL_ISA"] = "SCALAR" }).Stdout);
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
        { new[] { "--input", "emptydim.npy", "--target", "t.npy" }, "{emptydim.npy}: malformed .npy header: the shape (2,,3) has no size before comma 2" },
        { new[] { "--input", "leadingcomma.npy", "--target", "t.npy" }, "{leadingcomma.npy}: malformed .npy header: the shape (,6) has no size before comma 1" },
        { new[] { "--input", "notuple.npy", "--target", "t.npy" }, "{notuple.npy}: malformed .npy header: the shape (6) is not a tuple: one dimension is written (6,)" },
        { new[] { "--input", "negative.npy", "--target", "t.npy" }, "{negative.npy}: malformed .npy header: the shape (2, -3) holds '-3', not a size" },
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

    /// <summary>A fresh copy of a fixture file, so a test that fails on old code cannot spoil the fixture.</summary>
    private string CopyOf(string name, string? as_ = null)
    {
        string path = _files.Fresh(as_ ?? name);
        File.Copy(_files.PathOf(name), path);
        return path;
    }

    private static string Sha(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

    private void AssertNoTemporaryFile() =>
        Assert.Empty(Directory.GetFiles(_files.Folder, "*.tmp", SearchOption.AllDirectories));

    [Fact]
    public void An_output_that_is_an_input_however_spelt_is_refused_and_nothing_is_written()
    {
        string x = CopyOf("x.npy"), t = CopyOf("t.npy");
        string xName = Path.GetFileName(x), folder = _files.Folder;
        Directory.CreateDirectory(_files.PathOf("sub"));
        var spellings = new List<string>
        {
            x,
            Path.Combine(folder, ".", xName),
            Path.Combine(folder, "sub", "..", xName),
            Path.GetRelativePath(Environment.CurrentDirectory, x),
        };
        string symlink = _files.Fresh("link.npy");
        File.CreateSymbolicLink(symlink, xName); // relative, as ln -s makes it
        spellings.Add(symlink);
        if (OperatingSystem.IsLinux())
        {
            string hardLink = _files.Fresh("hard.npy");
            Assert.Equal(0, ProcessRunner.Run("ln", new[] { x, hardLink }).ExitCode);
            spellings.Add(hardLink);
        }
        string xHash = Sha(x), tHash = Sha(t);
        foreach (string output in spellings)
        {
            foreach (var (option, input) in new[] { ("--input", x), ("--target", x) })
            {
                string[] arguments = option == "--input"
                    ? new[] { "compute", "--input", input, "--target", t, "--reduction", "none", "--output", output }
                    : new[] { "compute", "--input", t, "--target", input, "--reduction", "none", "--output", output };
                var result = RunCli(arguments);
                Assert.True(result.ExitCode == 2, $"--output {output}: {result}");
                Assert.Equal("", result.Stdout);
                Assert.Equal($"nativekl: --output {output} is the same file as {option} {input}: refusing to overwrite an input\n", result.Stderr);
                Assert.Equal(xHash, Sha(x));
                Assert.Equal(tHash, Sha(t));
            }
        }
        Assert.Equal(FileAttributes.ReparsePoint, File.GetAttributes(symlink) & FileAttributes.ReparsePoint);
        AssertNoTemporaryFile();

        // Input and target may be one file; a different output is written.
        string output2 = _files.Fresh("fine.npy");
        var fine = RunCli(new[] { "compute", "--input", x, "--target", x, "--reduction", "none", "--output", output2 });
        Assert.True(fine.ExitCode == 0, fine.ToString());
        Assert.Equal(xHash, Sha(x));
    }

    [UnixFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void An_existing_output_keeps_its_permission_bits()
    {
        foreach (var mode in new[] { (UnixFileMode)0x1E9 /* 0751 */, UnixFileMode.UserRead | UnixFileMode.UserWrite /* 0600 */ })
        {
            string output = _files.Fresh("mode.npy");
            File.WriteAllText(output, "the previous result");
            File.SetUnixFileMode(output, mode);
            var result = Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none", "--output", output);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal("<f4", CliFiles.ReadNpy(output).Descr);
            Assert.Equal(mode, File.GetUnixFileMode(output));
        }
        AssertNoTemporaryFile();
    }

    [Fact]
    public void A_symbolic_link_output_writes_through_to_its_target_and_stays_a_link()
    {
        string folder = _files.PathOf("real-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        string target = Path.Combine(folder, "result.npy");
        File.WriteAllText(target, "the previous result");
        string link = _files.Fresh("link-out.npy");
        File.CreateSymbolicLink(link, Path.GetRelativePath(_files.Folder, target));

        var result = Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none", "--output", link);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Path.GetRelativePath(_files.Folder, target), new FileInfo(link).LinkTarget);
        Assert.Equal(("<f4", "2, 3"), (CliFiles.ReadNpy(target).Descr, CliFiles.ReadNpy(target).Shape));

        // A dangling link creates its target, as the shell's > does.
        string dangling = _files.Fresh("dangling.npy");
        string created = Path.Combine(folder, "created.npy");
        File.CreateSymbolicLink(dangling, created);
        result = Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none", "--output", dangling);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(created, new FileInfo(dangling).LinkTarget);
        Assert.Equal("<f4", CliFiles.ReadNpy(created).Descr);
        AssertNoTemporaryFile();
    }

    [UnixFact]
    public void A_run_ended_by_SIGTERM_before_its_rename_leaves_no_temporary_file_and_the_old_output()
    {
        string output = _files.Fresh("killed.npy");
        File.WriteAllText(output, "the previous result");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in new[] { CliPath, "compute", "--input", _files.PathOf("x.npy"), "--target", _files.PathOf("t.npy"),
                                     "--reduction", "none", "--output", output })
            psi.ArgumentList.Add(a);
        foreach (var (name, value) in CliEnvironment(environment: new Dictionary<string, string?> { [PauseVariable] = "1" }))
            if (value is null) psi.Environment.Remove(name); else psi.Environment[name] = value;

        using var process = System.Diagnostics.Process.Start(psi)!;
        try
        {
            // The tool says where its temporary file is, then waits for a line on stdin.
            var line = process.StandardError.ReadLineAsync();
            Assert.True(line.Wait(TimeSpan.FromMinutes(1)), "no pause line");
            var paused = System.Text.RegularExpressions.Regex.Match(line.Result ?? "", @"paused before the rename \(" + PauseVariable + @"\): (.+)$");
            Assert.True(paused.Success, $"stderr: {line.Result}; stdout: {(process.HasExited ? process.StandardOutput.ReadToEnd() : "")}");
            string temporary = paused.Groups[1].Value;
            Assert.True(File.Exists(temporary), temporary);
            Assert.Equal(_files.Folder, Path.GetDirectoryName(temporary));

            Assert.Equal(0, ProcessRunner.Run("kill", new[] { "-s", "TERM", process.Id.ToString(CultureInfo.InvariantCulture) }).ExitCode);
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "still running after SIGTERM");
            Assert.NotEqual(0, process.ExitCode);
            Assert.False(File.Exists(temporary), temporary);
            Assert.Equal("the previous result", File.ReadAllText(output));
            AssertNoTemporaryFile();
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [LinuxFact]
    public void Output_errors_name_the_output_and_not_the_temporary_file()
    {
        // /proc takes no new files, root or not.
        const string output = "/proc/nativekl-test-output.npy";
        var result = Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none", "--output", output);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith($"nativekl: --output {output}: ", result.Stderr);
        Assert.DoesNotContain(".tmp", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void An_output_name_as_long_as_the_file_system_allows_is_written()
    {
        // 255 bytes is NAME_MAX on Linux, NTFS and APFS; the temporary file's name must fit too.
        string output = Path.Combine(_files.Folder, new string('k', 251) + ".npy");
        var result = Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none", "--output", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("<f4", CliFiles.ReadNpy(output).Descr);
        File.Delete(output);
        AssertNoTemporaryFile();
    }

    [Fact]
    public void An_output_that_is_a_directory_is_named()
    {
        string directory = _files.Fresh("folder.npy");
        Directory.CreateDirectory(directory);
        var result = Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "none", "--output", directory);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"nativekl: --output {directory} is a directory\n", result.Stderr);
        AssertNoTemporaryFile();
    }

    [Fact]
    public void An_npy_file_over_2_GiB_is_refused_with_its_name()
    {
        string big = _files.Fresh("big.npy");
        using (var stream = new FileStream(big, FileMode.CreateNew))
        {
            stream.Write(File.ReadAllBytes(_files.PathOf("x.npy")));
            stream.SetLength((1L << 31) + 64); // sparse: no disk space used
        }
        try
        {
            var result = Compute("--input", big, "--target", "t.npy");
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Equal($"nativekl: {big}: 2,147,483,712 bytes; .npy files of at most {Array.MaxLength:N0} bytes (2 GiB) can be read\n",
                         result.Stderr);
        }
        finally
        {
            File.Delete(big);
        }
    }

    [Fact]
    public void An_npy_file_is_recognised_by_its_magic_bytes_whatever_its_name()
    {
        double expected = Value(Compute("--input", "x.npy", "--target", "t.npy", "--reduction", "sum"));
        foreach (string name in new[] { "x.data", "x.csv", "x" })
            Assert.Equal(expected, Value(Compute("--input", CopyOf("x.npy", name), "--target", CopyOf("t.npy", "t" + Path.GetExtension(name)),
                                                 "--reduction", "sum")));
    }

    [Fact]
    public void A_binary_file_that_is_not_npy_gives_a_message_without_its_bytes()
    {
        string binary = _files.Fresh("random.csv");
        var bytes = new byte[256];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(255 - i); // no NUL before the end, no \x93NUMPY
        bytes[^1] = 1;
        File.WriteAllBytes(binary, bytes);
        string header = _files.Fresh("header.npy");
        File.WriteAllBytes(header, Encoding.Latin1.GetBytes("\x93NUMPY\x01\x00\x10\x00\x01\x02\x1b[31m\x7f\x80\x9b\xff}       \n"));
        string nul = _files.Fresh("nul.csv");
        File.WriteAllBytes(nul, new byte[] { (byte)'1', (byte)',', 0, (byte)'2', (byte)'\n' });
        foreach (string file in new[] { binary, header, nul })
        {
            var result = Compute("--input", file, "--target", "t.csv");
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.StartsWith($"nativekl: {file}: ", result.Stderr);
            string message = result.Stderr.TrimEnd('\n');
            // Printable text only (the 0xFF 0xFE start reads as UTF-16, as a byte order mark says).
            Assert.All(message, c => Assert.False(
                char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse
                    or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned || c == '\uFFFD',
                $"character U+{(int)c:X4} in: {message}"));
        }
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
    public void Bench_quick_reports_progress_and_a_table_for_both_backends_and_names_the_configuration()
    {
        if (DebugBuild)
        {
            // `dotnet run` and `dotnet test` build Debug: its timings would mislead, so bench refuses it unless told.
            var refused = RunCli(new[] { "bench", "--quick" });
            Assert.True(refused.ExitCode == 2, refused.ToString());
            Assert.Equal("", refused.Stdout);
            Assert.StartsWith("nativekl: bench: this is a Debug build, which the JIT does not optimise", refused.Stderr);
            Assert.Contains("--allow-debug", refused.Stderr);
            Assert.Single(refused.Stderr.TrimEnd('\n').Split('\n'));
        }
        var result = RunCli(DebugBuild ? new[] { "bench", "--quick", "--allow-debug" } : new[] { "bench", "--quick" });
        Assert.True(result.ExitCode == 0, result.ToString());
        if (DebugBuild)
        {
            Assert.Contains("nativekl: WARNING: this is a Debug build", result.Stderr);
            Assert.Contains("configuration: Debug (NOT optimised: managed timings and speedups are not representative)", result.Stdout);
        }
        else
        {
            Assert.DoesNotContain("WARNING", result.Stderr);
            Assert.Contains("configuration: Release (optimised)", result.Stdout);
        }
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
        WriteNpy("emptydim.npy", "<f4", "(2,,3)", Bytes(X));
        WriteNpy("leadingcomma.npy", "<f4", "(,6)", Bytes(X));
        WriteNpy("notuple.npy", "<f4", "(6)", Bytes(X));
        WriteNpy("negative.npy", "<f4", "(2, -3)", Bytes(X));
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

/// <summary>A fact that needs POSIX file modes and signals.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (OperatingSystem.IsWindows()) Skip = "POSIX file modes and signals";
    }
}

/// <summary>A fact about Linux (/proc, device and inode).</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!OperatingSystem.IsLinux()) Skip = "Linux only";
    }
}
