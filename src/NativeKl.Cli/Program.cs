using System.Globalization;
using NativeKl;
using NativeKl.Cli;

// nativekl: the command-line face of the library. Bad input is one line on stderr and exit code 2.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string command = args.Length > 0 ? args[0] : "help";
var rest = args.Skip(1).ToArray();
try
{
    if (Program.Commands.ContainsKey(command) && rest.Any(a => a is "--help" or "-h"))
        return Program.Help(command, 0);
    // Native demanded (NATIVEKL_LIBRARY names a build, or NATIVEKL_BACKEND=native) but not loaded:
    // every command would fail, so say why once, before any output.
    if (command is not ("help" or "--help" or "-h") && KlBackend.Active == KlBackendKind.Native && !KlBackend.IsNativeAvailable)
    {
        // NATIVEKL_LIBRARY's own error names the file; otherwise the reason says NATIVEKL_BACKEND=native.
        string why = Environment.GetEnvironmentVariable("NATIVEKL_LIBRARY") != null ? KlBackend.NativeLoadError ?? KlBackend.ActiveReason : KlBackend.ActiveReason;
        Console.Error.WriteLine($"nativekl: {OneLine(why)}");
        return CliError.ExitCode;
    }
    return command switch
    {
        "demo" => Demo.Run(Program.ParseBackend(Options.Parse("demo", rest, new[] { "--backend" }).Get("--backend"))),
        "compute" => Compute.Run(rest),
        "info" => Info.Run(rest),
        "bench" => Bench.Run(rest),
        "help" or "--help" or "-h" => rest.Length == 0 ? Program.Help(null, 0)
            : rest.Length == 1 && Program.Commands.ContainsKey(rest[0]) ? Program.Help(rest[0], 0)
            : throw new CliError($"help {string.Join(' ', rest)}: expected one of {Program.CommandList}"),
        _ => throw new CliError($"unknown command '{command}': expected {Program.CommandList} (`nativekl help` prints their usage)"),
    };
}
catch (Exception e) when (e is CliError or ArgumentException or IOException or UnauthorizedAccessException
                          || e is NativeKlException { StatusName: "NKL_ERROR_INVALID_ENVIRONMENT" })
{
    // CliError: bad input found here; ArgumentException: the library's validation (it names the values);
    // NKL_ERROR_INVALID_ENVIRONMENT: an NKL_ISA value libnativekl does not know (the message names the values).
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
    /// <summary>Each command's usage, as `nativekl COMMAND --help` and `nativekl help COMMAND` print it.</summary>
    internal static readonly Dictionary<string, string> Commands = new()
    {
        ["demo"] =
            "usage: nativekl demo [--backend auto|native|managed]\n" +
            "  The seed example: softmax of two rows of logits, log, and kl_div with four reductions.\n",
        ["compute"] = NativeKl.Cli.Compute.Usage,
        ["info"] =
            "usage: nativekl info\n" +
            "  The versions, the backend and ISA that run and why, and the libnativekl file loaded.\n",
        ["bench"] = NativeKl.Cli.Bench.Usage,
    };

    internal static string CommandList => string.Join(", ", Commands.Keys) + " or help";

    /// <summary>The usage of one command, or of all (the first line of each); exit code <paramref name="code"/>.</summary>
    internal static int Help(string? command, int code)
    {
        string text = command != null ? Commands[command]
            : "usage: nativekl COMMAND [OPTIONS]   (nativekl COMMAND --help: the command's options and behaviour)\n" +
              string.Concat(Commands.Values.Select(u => "  " + u.Split('\n')[0]["usage: ".Length..] + "\n"));
        (code == 0 ? Console.Out : Console.Error).Write(text);
        return code;
    }

    /// <summary>--backend's value; native (asked for here or by NATIVEKL_BACKEND) must be loadable, else a one-line error.</summary>
    internal static KlBackendKind ParseBackend(string? value)
    {
        var backend = value?.ToLowerInvariant() switch
        {
            null or "auto" => KlBackendKind.Auto,
            "native" => KlBackendKind.Native,
            "managed" => KlBackendKind.Managed,
            _ => throw new CliError($"--backend {value}: expected auto, native or managed"),
        };
        if (!KlBackend.IsNativeAvailable)
        {
            if (backend == KlBackendKind.Native)
                throw new CliError($"--backend native: the native library is unavailable: {KlBackend.NativeLoadError}");
            if (backend == KlBackendKind.Auto && KlBackend.Active == KlBackendKind.Native)
                throw new CliError($"{KlBackend.ActiveReason}");
        }
        return backend;
    }
}
