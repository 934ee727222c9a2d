using System.Reflection;

namespace NativeKl.Cli;

/// <summary>`nativekl info`: versions, the backend and ISA that run and why, and the library file loaded.</summary>
internal static class Info
{
    internal static int Run(IReadOnlyList<string> args)
    {
        Options.Parse("info", args, Array.Empty<string>());
        string version = typeof(KlDivergence).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                         ?? typeof(KlDivergence).Assembly.GetName().Version!.ToString();
        bool native = KlBackend.Active == KlBackendKind.Native;
        Console.WriteLine($"version:        NativeKl {version}{(KlBackend.NativeVersion is { } v ? $", libnativekl {v}" : "")}");
        Console.WriteLine($"backend:        {KlBackend.Active} ({KlBackend.ActiveDescription})");
        Console.WriteLine($"why:            {KlBackend.ActiveReason}");
        Console.WriteLine($"active ISA:     {(native ? KlBackend.NativeIsa : KlBackend.ManagedIsa)}");
        Console.WriteLine($"library:        {LoadedLibrary() ?? "none loaded"}");
        if (KlBackend.NativeLoadError is { } error && !KlBackend.ActiveReason.Contains(error)) Console.WriteLine(error);
        Console.WriteLine($"managed ISA:    {KlBackend.ManagedIsa}");
        return 0;
    }

    /// <summary>The libnativekl file this process has mapped (Linux: /proc/self/maps), not a guess of where it would be.</summary>
    private static string? LoadedLibrary()
    {
        if (!KlBackend.IsNativeAvailable) return null;
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return "loaded (this system does not tell from where)";
        string? named = Environment.GetEnvironmentVariable("NATIVEKL_LIBRARY") is { Length: > 0 } p ? Path.GetFullPath(p) : null;
        foreach (string line in File.ReadLines(maps))
        {
            int slash = line.IndexOf('/');
            if (slash >= 0 && (named != null ? line[slash..] == named : Path.GetFileName(line[slash..]).StartsWith("libnativekl", StringComparison.Ordinal)))
                return line[slash..];
        }
        return "loaded (not found in /proc/self/maps)";
    }
}
