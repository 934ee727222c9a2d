using System.Runtime.InteropServices;
namespace NativeKl.Tests;

/// <summary>The smaller public pieces: the legacy reduction mapping, options, backend choice, rows.</summary>
public class ApiTests
{
    [Theory]
    // torch.nn._reduction.legacy_get_string: None counts as True.
    [InlineData(null, null, KlReductionKind.Mean)]
    [InlineData(true, null, KlReductionKind.Mean)]
    [InlineData(false, null, KlReductionKind.Sum)]
    [InlineData(null, true, KlReductionKind.Mean)]
    [InlineData(true, true, KlReductionKind.Mean)]
    [InlineData(false, true, KlReductionKind.Sum)]
    [InlineData(null, false, KlReductionKind.None)]
    [InlineData(true, false, KlReductionKind.None)]
    [InlineData(false, false, KlReductionKind.None)]
    public void Legacy_size_average_and_reduce(bool? sizeAverage, bool? reduce, KlReductionKind expected) =>
        Assert.Equal(expected, KlReductions.FromLegacy(sizeAverage, reduce));

    [Fact]
    public void Reduction_values_match_the_C_enum()
    {
        Assert.Equal(0, (int)KlReductionKind.None);
        Assert.Equal(1, (int)KlReductionKind.Sum);
        Assert.Equal(2, (int)KlReductionKind.Mean);
        Assert.Equal(3, (int)KlReductionKind.BatchMean);
    }

    [Fact]
    public void Options_equality_and_hash()
    {
        var a = new KlOptions(logTarget: true, masked: true);
        var b = new KlOptions { LogTarget = true, Masked = true };
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, a with { Backend = KlBackendKind.Managed });
        Assert.NotEqual(a, a with { Isa = KlIsa.Scalar });
        Assert.True(a != new KlOptions(logTarget: true));
        Assert.Equal(default, new KlOptions());
        Assert.False(default(KlOptions).Equals((object?)null));
        Assert.Contains("LogTarget=True", a.ToString());
        Assert.Equal(new KlOptions(logTarget: true), KlOptions.LogTargetOn);
    }

    [Fact]
    public void Auto_uses_the_native_library_when_it_loads()
    {
        Assert.True(KlBackend.IsNativeAvailable, KlBackend.NativeLoadError);
        Assert.Equal(KlBackendKind.Native, KlBackend.Active);
        Assert.Null(KlBackend.NativeLoadError);
        Assert.Contains("native library loaded", KlBackend.ActiveReason);
        Assert.StartsWith("native ", KlBackend.ActiveDescription);
        Assert.Contains(KlBackend.NativeIsa, new[] { "avx2", "neon", "scalar" });
    }

    [Theory]
    [InlineData(KlIsa.Avx2)]
    [InlineData(KlIsa.Neon)]
    public void A_vector_isa_runs_where_the_cpu_has_it_and_is_unsupported_elsewhere(KlIsa isa)
    {
        float[] x = { -1.5f, -0.5f, -2f, -0.25f, -3f }, t = { 0.2f, 0.3f, 0f, 0.4f, 0.1f };
        var forced = new KlOptions { Backend = KlBackendKind.Native, Isa = isa };
        var scalar = new KlOptions { Backend = KlBackendKind.Native, Isa = KlIsa.Scalar };
        var nativeIsa = isa == KlIsa.Avx2 ? NativeKl.Interop.nkl_isa.NKL_ISA_AVX2 : NativeKl.Interop.nkl_isa.NKL_ISA_NEON;
        if (NativeKl.Interop.NativeMethods.nkl_isa_supported(nativeIsa) == 1)
            Assert.Equal(BitConverter.SingleToInt32Bits(KlDivergence.Sum(x, t, scalar)),
                         BitConverter.SingleToInt32Bits(KlDivergence.Sum(x, t, forced)));
        else
            Assert.Throws<PlatformNotSupportedException>(() => KlDivergence.Sum(x, t, forced));
    }

    [Fact]
    public void Auto_falls_back_to_managed_and_says_why()
    {
        var (backend, reason) = KlBackend.Choose(null, nativeAvailable: false, nativeError: "libnativekl.so could not be loaded");
        Assert.Equal(KlBackendKind.Managed, backend);
        Assert.Contains("libnativekl.so could not be loaded", reason);
        Assert.Equal(KlBackendKind.Managed, KlBackend.Choose("managed", true, null).Backend);
        Assert.Equal(KlBackendKind.Native, KlBackend.Choose("native", true, null).Backend);
        Assert.Equal(KlBackendKind.Native, KlBackend.Choose("AUTO", true, null).Backend);
        Assert.Contains("is not auto, native or managed", KlBackend.Choose("gpu", true, null).Reason);
    }

    [Fact]
    public void Native_file_name_never_equals_the_managed_assembly_name_on_any_os()
    {
        // On a case-insensitive file system (Windows, macOS by default) NativeKl.dll and a native
        // nativekl.dll are one file: the loader and the package must use another name everywhere.
        string managed = Path.GetFileName(typeof(KlDivergence).Assembly.Location);
        Assert.Equal("NativeKl.dll", managed);
        var expected = new[]
        {
            (OSPlatform.Windows, "libnativekl.dll", ".dll"),
            (OSPlatform.Linux, "libnativekl.so", ".so"),
            (OSPlatform.OSX, "libnativekl.dylib", ".dylib"),
        };
        foreach (var (os, file, suffix) in expected)
        {
            string name = NativeKl.Interop.NativeLibraryLoader.FileNameFor(os);
            Assert.NotEqual(managed, name, StringComparer.OrdinalIgnoreCase);
            Assert.NotEqual(Path.GetFileNameWithoutExtension(managed), Path.GetFileNameWithoutExtension(name), StringComparer.OrdinalIgnoreCase);
            Assert.Equal(file, name);
            // The runtime's own probing for DllImport(LibraryName) appends the suffix (and on Unix
            // also tries a lib prefix): the name it tries first is the file the loader looks for.
            Assert.Equal(NativeKl.Interop.NativeMethods.LibraryName + suffix, name);
        }
    }

    [Fact]
    public void Missing_library_message_names_the_paths_tried_and_how_to_build()
    {
        // This process's RID and file name: the same test runs on linux-arm64 (qemu) and win-x64 (wine).
        string dir = Path.GetFullPath("/nonexistent/dir");
        string file = NativeKl.Interop.NativeLibraryLoader.FileName, rid = NativeKl.Interop.NativeLibraryLoader.RuntimeIdentifier;
        if (OperatingSystem.IsLinux()) Assert.Equal("libnativekl.so", file);
        if (OperatingSystem.IsWindows()) Assert.Equal("libnativekl.dll", file);
        var paths = NativeKl.Interop.NativeLibraryLoader.CandidatePaths(dir);
        Assert.Contains(Path.Combine(dir, file), paths);
        Assert.Contains(Path.Combine(dir, "runtimes", rid, "native", file), paths);
        string message = NativeKl.Interop.NativeLibraryLoader.DescribeMissing(paths, "dlopen failed");
        Assert.Contains(Path.Combine(dir, file) + " (not found)", message);
        Assert.Contains(Path.Combine(dir, "runtimes", rid, "native", file) + " (not found)", message);
        Assert.Contains("dotnet build src/NativeKl", message);
        Assert.Contains("cmake", message);
    }

    public static TheoryData<string> BackendNames() => Registry.BackendNames();

    [Theory, MemberData(nameof(BackendNames))]
    public void Rows_equal_the_sum_of_each_row_bit_for_bit(string backend)
    {
        var options = Registry.With(backend, logTarget: false, masked: false);
        const int rows = 7, columns = 33, stride = 40, targetStride = 35;
        var (xd, td) = TestData.Make(rows * stride, false, false, seed: 7);
        float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
        var perRow = new float[rows];
        var perRowD = new double[rows];
        KlDivergence.Rows(x, stride, t, targetStride, rows, columns, perRow, options);
        KlDivergence.Rows(xd, stride, td, targetStride, rows, columns, perRowD, options);
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(KlDivergence.Sum(x.AsSpan(r * stride, columns), t.AsSpan(r * targetStride, columns), options), perRow[r]);
            Assert.Equal(KlDivergence.Sum(xd.AsSpan(r * stride, columns), td.AsSpan(r * targetStride, columns), options), perRowD[r]);
        }
        var contiguous = new float[rows];
        KlDivergence.Rows(x.AsSpan(0, rows * columns), t.AsSpan(0, rows * columns), rows, columns, contiguous, options);
        for (int r = 0; r < rows; r++)
            Assert.Equal(KlDivergence.Sum(x.AsSpan(r * columns, columns), t.AsSpan(r * columns, columns), options), contiguous[r]);
    }

    [Fact]
    public void Memory_and_arrays_go_through_the_same_spans()
    {
        float[] x = { -1f, -2f, -0.5f };
        float[] t = { 0.2f, 0.3f, 0.5f };
        ReadOnlyMemory<float> mx = x, mt = t;
        Assert.Equal(KlDivergence.Sum(x, t), KlDivergence.Sum(mx.Span, mt.Span));
    }
}
