using System.Globalization;
using NativeKl;

// nativekl: the command-line face of the library.
//   nativekl demo [--backend auto|native|managed]   the seed example, computed
//   nativekl info                                    which backend and ISA run, and why
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string command = args.Length > 0 ? args[0] : "help";
try
{
    return command switch
    {
        "demo" => Demo.Run(ParseBackend(args)),
        "info" => Info(),
        "help" or "--help" or "-h" => Help(0),
        _ => Help(2),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"nativekl: {e.Message}");
    return 2;
}

static KlBackendKind ParseBackend(string[] args)
{
    int i = Array.IndexOf(args, "--backend");
    if (i < 0) return KlBackendKind.Auto;
    if (i + 1 >= args.Length) throw new ArgumentException("--backend needs auto, native or managed");
    return args[i + 1].ToLowerInvariant() switch
    {
        "auto" => KlBackendKind.Auto,
        "native" => KlBackendKind.Native,
        "managed" => KlBackendKind.Managed,
        var other => throw new ArgumentException($"--backend {other}: expected auto, native or managed"),
    };
}

static int Info()
{
    Console.WriteLine($"active backend: {KlBackend.Active} ({KlBackend.ActiveDescription})");
    Console.WriteLine($"why:            {KlBackend.ActiveReason}");
    Console.WriteLine($"native:         {(KlBackend.IsNativeAvailable ? $"libnativekl {KlBackend.NativeVersion}, ISA {KlBackend.NativeIsa}" : "unavailable")}");
    if (KlBackend.NativeLoadError is { } error) Console.WriteLine(error);
    Console.WriteLine($"managed:        ISA {KlBackend.ManagedIsa}");
    return 0;
}

static int Help(int code)
{
    (code == 0 ? Console.Out : Console.Error).WriteLine(
        "usage: nativekl demo [--backend auto|native|managed]   the seed example: softmax, log, four reductions\n" +
        "       nativekl info                                    the active backend and ISA, and why");
    return code;
}
