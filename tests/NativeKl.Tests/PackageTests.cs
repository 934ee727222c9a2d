#if !NKL_NETSTANDARD_BUILD // packs src/NativeKl once, from the net8.0 test run only
using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace NativeKl.Tests;

/// <summary>`dotnet pack` of src/NativeKl into a temporary local feed, shared by the package tests.</summary>
public sealed class PackedPackage : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("nativekl-package-").FullName;
    public string Feed => Path.Combine(Folder, "feed");
    public string Version { get; }
    public string PackagePath => Path.Combine(Feed, $"NativeKl.{Version}.nupkg");

    public PackedPackage()
    {
        // The one place the version is written: the C header.
        string header = File.ReadAllText(Path.Combine(TestData.RepoRoot, "native", "include", "nativekl.h"));
        Version = Regex.Match(header, "#define NKL_VERSION_STRING \"([0-9.]+)\"").Groups[1].Value;
        var pack = ProcessRunner.Dotnet(new[]
        {
            "pack", Path.Combine(TestData.RepoRoot, "src", "NativeKl", "NativeKl.csproj"), "-c", PackageTests.Configuration,
            "-o", Feed, "-nodeReuse:false",
        }, timeout: TimeSpan.FromMinutes(5));
        Assert.True(pack.ExitCode == 0, pack.ToString());
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary>
/// The NuGet package as a consumer meets it: its files, its metadata, and a fresh console project
/// that references it from a local folder feed and must run the seed example on the native backend
/// (a package without a loadable libnativekl would still compute, on the managed fallback).
/// </summary>
public class PackageTests : IClassFixture<PackedPackage>
{
#if DEBUG
    internal const string Configuration = "Debug";
#else
    internal const string Configuration = "Release";
#endif
    private readonly PackedPackage _package;

    public PackageTests(PackedPackage package) => _package = package;

    [Fact]
    public void Package_holds_both_builds_their_docs_the_native_library_readme_and_license()
    {
        Assert.True(_package.Version.Length > 0, "no NKL_VERSION_STRING in nativekl.h");
        Assert.True(File.Exists(_package.PackagePath), $"{_package.PackagePath} was not created");
        using var zip = ZipFile.OpenRead(_package.PackagePath);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        foreach (string expected in new[]
                 {
                     "lib/netstandard2.0/NativeKl.dll", "lib/netstandard2.0/NativeKl.xml",
                     "lib/net8.0/NativeKl.dll", "lib/net8.0/NativeKl.xml",
                     "runtimes/linux-x64/native/libnativekl.so", "README.md", "LICENSE", "NativeKl.nuspec",
                 })
            Assert.True(entries.Contains(expected), $"{expected} missing; the package holds {string.Join(", ", entries)}");

        XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
        using var nuspec = zip.GetEntry("NativeKl.nuspec")!.Open();
        var metadata = XDocument.Load(nuspec).Root!.Element(ns + "metadata")!;
        Assert.Equal(_package.Version, metadata.Element(ns + "version")!.Value);
        Assert.Equal("MIT", metadata.Element(ns + "license")!.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        // SourceLink: the commit the package was built from (and the URL, where the clone has a remote).
        Assert.Matches("^[0-9a-f]{40}$", metadata.Element(ns + "repository")!.Attribute("commit")!.Value);
    }

    [Fact]
    public void A_fresh_console_project_runs_the_seed_example_on_the_native_library_from_the_package()
    {
        string project = Path.Combine(_package.Folder, "consumer");
        Directory.CreateDirectory(project);
        // Only the local feed, and a packages folder of its own: no NativeKl cached by an earlier run can answer.
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /><add key="local" value="{_package.Feed}" /></packageSources>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_package.Folder, "packages")}" /></config>
            </configuration>
            """);
        // tests/NativeKl.PackageConsumer, the consumer build.ps1's consumers stage also publishes per RID.
        foreach (string file in new[] { "NativeKl.PackageConsumer.csproj", "Program.cs" })
            File.Copy(Path.Combine(TestData.RepoRoot, "tests", "NativeKl.PackageConsumer", file), Path.Combine(project, file));

        var run = ProcessRunner.Dotnet(new[] { "run", "-nodeReuse:false", $"--property:NativeKlVersion={_package.Version}" }, project, TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.ToString());
        var value = Regex.Match(run.Stdout, @"batchmean (\S+)");
        Assert.True(value.Success, run.ToString());
        Assert.Equal(0.0577962, double.Parse(value.Groups[1].Value, CultureInfo.InvariantCulture), 6);
        Assert.Contains("backend Native", run.Stdout);
        Assert.True(File.Exists(Path.Combine(project, "bin", "Debug", "net10.0", "runtimes", "linux-x64", "native", "libnativekl.so")),
            "the package's native library did not reach the consumer's output");
    }

    /// <summary>
    /// `dotnet publish -r &lt;rid&gt;` of a project that references src/NativeKl (the CLI) for a RID other
    /// than the host's: every libnativekl in the output must be built for the RID it is filed under
    /// (runtimes/&lt;rid&gt;/native/), or, beside the app, for the app's own RID. The build used to put the
    /// host's x86-64 libnativekl.so beside an arm64 or Windows app, where it could never load.
    /// In the same class as the pack: both build src/NativeKl, and must not do so at once.
    /// </summary>
    [Theory]
    [InlineData("linux-arm64")]
    [InlineData("win-x64")]
    public void Publishing_for_another_rid_ships_no_library_built_for_another_machine(string rid)
    {
        string output = Path.Combine(_package.Folder, "publish-" + rid);
        var publish = ProcessRunner.Dotnet(new[]
        {
            "publish", Path.Combine(TestData.RepoRoot, "src", "NativeKl.Cli", "NativeKl.Cli.csproj"), "-c", Configuration,
            "-r", rid, "--self-contained", "false", "-o", output, "-nodeReuse:false",
        }, timeout: TimeSpan.FromMinutes(5));
        Assert.True(publish.ExitCode == 0, publish.ToString());
        var libraries = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories)
            .Where(f => Regex.IsMatch(Path.GetFileName(f), @"^(libnativekl\.(so|dll|dylib)|nativekl\.dll)$"))
            .ToList();
        foreach (string library in libraries)
        {
            string relative = Path.GetRelativePath(output, library).Replace('\\', '/');
            var filed = Regex.Match(relative, "^runtimes/([^/]+)/native/[^/]+$");
            string expected = filed.Success ? filed.Groups[1].Value : rid;
            Assert.True(expected == BuiltFor(library), $"{relative} is built for {BuiltFor(library)}, but a {rid} publish files it for {expected}");
        }
    }

    /// <summary>The RID a shared library was built for, from its header: ELF (e_machine) or PE (Machine).</summary>
    internal static string BuiltFor(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length > 20 && b[0] == 0x7F && b[1] == (byte)'E' && b[2] == (byte)'L' && b[3] == (byte)'F')
            return BitConverter.ToUInt16(b, 18) switch { 62 => "linux-x64", 183 => "linux-arm64", var m => $"linux-machine{m}" };
        if (b.Length > 0x40 && b[0] == (byte)'M' && b[1] == (byte)'Z')
        {
            int pe = BitConverter.ToInt32(b, 0x3C);
            return BitConverter.ToUInt16(b, pe + 4) switch { 0x8664 => "win-x64", 0xAA64 => "win-arm64", var m => $"win-machine{m:x}" };
        }
        return "unknown";
    }
}
#endif
