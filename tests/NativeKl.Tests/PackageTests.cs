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
        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NativeKl" Version="{_package.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            using System.Globalization;
            using NativeKl;

            // The seed example: log(softmax(logits)) per row as input, against the target.
            float[] logits = { 0.5f, 1.0f, 0.8f, 0.2f, 0.4f, 0.6f };
            float[] target = { 0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f };
            var input = new float[6];
            for (int r = 0; r < 2; r++)
            {
                var row = logits.AsSpan(r * 3, 3);
                float max = MathF.Max(row[0], MathF.Max(row[1], row[2]));
                float total = MathF.Exp(row[0] - max) + MathF.Exp(row[1] - max) + MathF.Exp(row[2] - max);
                for (int c = 0; c < 3; c++) input[r * 3 + c] = MathF.Log(MathF.Exp(row[c] - max) / total);
            }
            float batchMean = KlDivergence.BatchMean(input, target, batchSize: 2);
            Console.WriteLine("batchmean " + batchMean.ToString("R", CultureInfo.InvariantCulture));
            Console.WriteLine($"backend {KlBackend.Active}: {KlBackend.ActiveReason}");
            """);

        var run = ProcessRunner.Dotnet(new[] { "run", "-nodeReuse:false" }, project, TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.ToString());
        var value = Regex.Match(run.Stdout, @"batchmean (\S+)");
        Assert.True(value.Success, run.ToString());
        Assert.Equal(0.0577962, double.Parse(value.Groups[1].Value, CultureInfo.InvariantCulture), 6);
        Assert.Contains("backend Native", run.Stdout);
        Assert.True(File.Exists(Path.Combine(project, "bin", "Debug", "net10.0", "runtimes", "linux-x64", "native", "libnativekl.so")),
            "the package's native library did not reach the consumer's output");
    }
}
#endif
