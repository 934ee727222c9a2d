using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace NativeKl.Tests;

/// <summary>Tests that set process-wide environment variables: run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class EnvironmentVariables
{
    public const string Name = "environment variables";
}

/// <summary>
/// NATIVEKL_LIBRARY names the one library to load (a build under test). A fresh copy of this test
/// project's NativeKl build (net8.0, or netstandard2.0 in NativeKl.Tests.NetStandard) is loaded in
/// its own AssemblyLoadContext, so its KlBackend probes with the variable set here: a file that is
/// missing, not a shared library, or not libnativekl leaves the native backend unavailable with
/// the reason, Auto stays native and throws, and nothing else is loaded in its place; a good file
/// at another path is the library used.
/// </summary>
[Collection(EnvironmentVariables.Name)]
public class LibraryVariableTests
{
    private sealed record Probed(string Active, bool Available, string? Error, string Reason, Exception? AutoCall, Exception? ManagedCall);

    private static Probed Probe(string? library, string? backend = null)
    {
        string? savedLibrary = Environment.GetEnvironmentVariable("NATIVEKL_LIBRARY");
        string? savedBackend = Environment.GetEnvironmentVariable("NATIVEKL_BACKEND");
        Environment.SetEnvironmentVariable("NATIVEKL_LIBRARY", library);
        Environment.SetEnvironmentVariable("NATIVEKL_BACKEND", backend);
        try
        {
            var context = new AssemblyLoadContext($"NATIVEKL_LIBRARY={library}");
            Assembly copy = context.LoadFromAssemblyPath(typeof(KlBackend).Assembly.Location);
            Type backends = copy.GetType("NativeKl.KlBackend", throwOnError: true)!;
            Type kind = copy.GetType("NativeKl.KlBackendKind", throwOnError: true)!;
            object? Get(string property) => backends.GetProperty(property)!.GetValue(null);
            // What every compute call does first: KlBackend.Resolve(options.Backend).
            Exception? Call(string backendKind)
            {
                try { backends.GetMethod("Resolve", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, new[] { Enum.Parse(kind, backendKind) }); return null; }
                catch (TargetInvocationException e) { return e.InnerException; }
            }
            return new Probed(Get("Active")!.ToString()!, (bool)Get("IsNativeAvailable")!, (string?)Get("NativeLoadError"),
                              (string)Get("ActiveReason")!, Call("Auto"), Call("Managed"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("NATIVEKL_LIBRARY", savedLibrary);
            Environment.SetEnvironmentVariable("NATIVEKL_BACKEND", savedBackend);
        }
    }

    private static void FailsLoudly(string library, string reason)
    {
        var p = Probe(library);
        Assert.False(p.Available, $"{library} was taken as the native library: {p.Reason}");
        Assert.Equal("Native", p.Active); // no fallback to the managed backend
        Assert.StartsWith($"NATIVEKL_LIBRARY={library} ", p.Error);
        Assert.Contains(reason, p.Error);
        Assert.Contains("NATIVEKL_LIBRARY names the native library, and it is unavailable", p.Reason);
        var e = Assert.IsType<DllNotFoundException>(p.AutoCall);
        Assert.Contains($"NATIVEKL_LIBRARY={library}", e.Message);
        Assert.Null(p.ManagedCall); // an explicit managed call needs no library
    }

    [Fact]
    public void A_missing_file_fails_loudly() => FailsLoudly("/nonexistent/libnativekl.so", "there is no such file");

    [Fact]
    public void A_file_that_is_not_a_library_fails_loudly()
    {
        string file = Path.Combine(Path.GetTempPath(), $"nkl-not-a-library-{Environment.ProcessId}.so");
        File.WriteAllText(file, "not a shared library\n");
        try { FailsLoudly(file, "could not be loaded"); }
        finally { File.Delete(file); }
    }

    [Fact]
    public void A_library_that_is_not_libnativekl_fails_loudly()
    {
        // a shared library of the runtime's own, without the nkl_ functions
        string other = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(),
            OperatingSystem.IsWindows() ? "System.IO.Compression.Native.dll" : "libSystem.Native.*").First();
        FailsLoudly(other, "it is not libnativekl");
    }

    [Fact]
    public void Managed_chosen_by_NATIVEKL_BACKEND_still_runs()
    {
        var p = Probe("/nonexistent/libnativekl.so", backend: "managed");
        Assert.Equal("Managed", p.Active);
        Assert.False(p.Available);
        Assert.Null(p.AutoCall);
    }

    [Fact]
    public void A_good_library_at_another_path_is_the_one_loaded()
    {
        if (!File.Exists("/proc/self/maps")) return; // where the process tells which files it mapped
        string bundled = Path.Combine(Path.GetDirectoryName(typeof(KlBackend).Assembly.Location)!, NativeKl.Interop.NativeLibraryLoader.FileName);
        string copy = Path.Combine(Path.GetTempPath(), $"nkl-copy-{Environment.ProcessId}", "libnativekl-under-test.so");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(bundled, copy, overwrite: true);
        var p = Probe(copy);
        Assert.True(p.Available, p.Error);
        Assert.Equal("Native", p.Active);
        Assert.Contains("from NATIVEKL_LIBRARY", p.Reason);
        Assert.Null(p.AutoCall);
        Assert.Contains(File.ReadLines("/proc/self/maps"), line => line.EndsWith(copy, StringComparison.Ordinal));
    }
}
