using System.Globalization;
using NativeKl;
using NativeKl.Cli;

// nativekl: the command-line face of the library. Bad input is one line on stderr and exit code 2.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string command = args.Length > 0 ? args[0] : "help";
var rest = args.Skip(1).ToArray();
try
{
    // Native demanded (NATIVEKL_LIBRARY names a build, or NATIVEKL_BACKEND=native) but not loaded:
    // every command would fail, so say why once, before any output.
    if (command is not ("help" or "--help" or "-h") && KlBackend.Active == KlBackendKind.Native && !KlBackend.IsNativeAvailable)
    {
        Console.Error.WriteLine($"nativekl: {OneLine(KlBackend.NativeLoadError ?? KlBackend.ActiveReason)}");
        return CliError.ExitCode;
    }
    return command switch
    {
        "demo" => Demo.Run(Program.ParseBackend(Options.Parse("demo", rest, new[] { "--backend" }).Get("--backend"))),
        "compute" => Compute.Run(rest),
        "info" => Info.Run(rest),
        "bench" => Bench.Run(rest),
        "help" or "--help" or "-h" => Program.Help(0),
        _ => Program.Help(CliError.ExitCode),
    };
}
catch (Exception e) when (e is CliError or ArgumentException or IOException or UnauthorizedAccessException)
{
    // CliError: bad input found here; ArgumentException: the library's validation (it names the values).
    Console.Error.WriteLine($"nativekl: {OneLine(e.Message)}");
    return CliError.ExitCode;
}
catch (Exception e)
{
    Console.Error.WriteLine($"nativekl: internal error ({e.GetType().Name}): {OneLine(e.Message)}");
    return 1;
}

static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

internal static partial class Program
{
    internal static KlBackendKind ParseBackend(string? value) => value?.ToLowerInvariant() switch
    {
        null or "auto" => KlBackendKind.Auto,
        "native" => KlBackendKind.Native,
        "managed" => KlBackendKind.Managed,
        _ => throw new CliError($"--backend {value}: expected auto, native or managed"),
    };

    internal static int Help(int code)
    {
        (code == 0 ? Console.Out : Console.Error).WriteLine(
            "usage: nativekl demo [--backend auto|native|managed]   the seed example: softmax, log, four reductions\n" +
            "       " + Compute.Usage + "\n" +
            "                 kl_div of two .npy (float32/float64, C order) or CSV files of one shape; dimension 0 is\n" +
            "                 the batch; `rows` gives one KL per row; without --output, values are printed (CSV)\n" +
            "       nativekl info                                    version, backend, active ISA and library file\n" +
            "       nativekl bench [--quick]                         time each operation, type, length and backend");
        return code;
    }
}
