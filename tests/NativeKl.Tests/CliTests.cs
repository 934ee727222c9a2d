using System.Diagnostics;

namespace NativeKl.Tests;

/// <summary>
/// `nativekl demo` end to end, in its own process: with the native library, and with it missing
/// (NATIVEKL_LIBRARY naming no file), where Auto falls back to managed and says why.
/// </summary>
public class CliTests
{
    private static string CliPath
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
        var psi = new ProcessStartInfo("dotnet", $"\"{CliPath}\" {arguments}")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment.Remove("NATIVEKL_BACKEND");
        if (nativeLibrary != null) psi.Environment["NATIVEKL_LIBRARY"] = nativeLibrary;
        else psi.Environment.Remove("NATIVEKL_LIBRARY");
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

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
        var (code, output) = Run("demo", nativeLibrary: "/nonexistent/libnativekl.so");
        Assert.True(code == 0, output);
        Assert.Contains("sum        0.115592", output);
        Assert.Contains("mean       0.019265", output);
        Assert.Contains("backend: Managed", output);
        Assert.Contains("the native library is unavailable", output);
        Assert.Contains("/nonexistent/libnativekl.so (not found)", output);
    }

    [Fact]
    public void Unknown_command_is_an_error()
    {
        var (code, output) = Run("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("usage: nativekl demo", output);
    }
}
