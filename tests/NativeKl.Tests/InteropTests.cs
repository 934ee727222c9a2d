using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeKl.Interop;
using NativeKl.Managed;

namespace NativeKl.Tests;

/// <summary>
/// The generated bindings: up to date with the header, and in agreement with the library actually
/// loaded (enum values, the struct's size, the macro constants), checked through its behaviour.
/// </summary>
public unsafe class InteropTests
{
    [Fact]
    public void Checked_in_bindings_match_what_the_header_generates()
    {
        string generated = NativeKl.BindGen.Generator.Generate(TestData.RepoRoot);
        string checkedIn = File.ReadAllText(Path.Combine(TestData.RepoRoot, NativeKl.BindGen.Generator.OutputPath));
        Assert.True(generated == checkedIn,
            $"{NativeKl.BindGen.Generator.OutputPath} is stale: run `dotnet run --project tools/NativeKl.BindGen`");
    }

    [Fact]
    public void Version_matches_the_header()
    {
        Assert.Equal((uint)NativeMethods.NKL_VERSION, NativeMethods.nkl_version());
        Assert.Equal(NativeMethods.NKL_VERSION_STRING, NativeKl.Error.Utf8(NativeMethods.nkl_version_string()));
        Assert.Equal((NativeMethods.NKL_VERSION_MAJOR << 16) | (NativeMethods.NKL_VERSION_MINOR << 8) | NativeMethods.NKL_VERSION_PATCH,
            NativeMethods.NKL_VERSION);
        Assert.Equal(NativeMethods.NKL_VERSION_STRING, KlBackend.NativeVersion);
    }

    [Fact]
    public void Status_values_are_the_librarys()
    {
        string Describe(uint s) => NativeKl.Error.Utf8(NativeMethods.nkl_status_string((nkl_status)s));
        var values = Enum.GetValues<nkl_status>();
        foreach (var s in values) Assert.NotEqual("unknown status code", Describe((uint)s));
        Assert.Equal("unknown status code", Describe((uint)values.Max() + 1));
        Assert.Equal("success", Describe((uint)nkl_status.NKL_OK));
        Assert.Equal("out of memory", Describe((uint)nkl_status.NKL_ERROR_OUT_OF_MEMORY));
    }

    [Fact]
    public void Isa_values_are_the_librarys()
    {
        foreach (var isa in Enum.GetValues<nkl_isa>())
            Assert.Equal(isa.ToString()["NKL_ISA_".Length..].ToLowerInvariant(), NativeKl.Error.Utf8(NativeMethods.nkl_isa_name(isa)));
        Assert.Equal("unknown", NativeKl.Error.Utf8(NativeMethods.nkl_isa_name((nkl_isa)99)));
        Assert.Equal(1, NativeMethods.nkl_isa_supported(nkl_isa.NKL_ISA_SCALAR));
    }

    [Fact]
    public void Reduction_values_are_the_librarys()
    {
        // One partial holding 12 over n = 6 elements: SUM 12, MEAN 2, BATCHMEAN(3) 4, NONE refused.
        var partial = new nkl_partial { sum = 12.0, compensation = 0.0 };
        static double Finish(nkl_reduction r, nuint batch)
        {
            var p = new nkl_partial { sum = 12.0, compensation = 0.0 };
            double v;
            Assert.Equal(nkl_status.NKL_OK, NativeMethods.nkl_partials_finish(&p, 1, 6, r, batch, &v));
            return v;
        }
        Assert.Equal(12.0, Finish(nkl_reduction.NKL_REDUCTION_SUM, 0));
        Assert.Equal(2.0, Finish(nkl_reduction.NKL_REDUCTION_MEAN, 0));
        Assert.Equal(4.0, Finish(nkl_reduction.NKL_REDUCTION_BATCHMEAN, 3));
        double unused;
        Assert.Equal(nkl_status.NKL_ERROR_INVALID_REDUCTION,
            NativeMethods.nkl_partials_finish(&partial, 1, 6, nkl_reduction.NKL_REDUCTION_NONE, 0, &unused));
        Assert.Equal(nkl_status.NKL_ERROR_INVALID_BATCH,
            NativeMethods.nkl_partials_finish(&partial, 1, 6, nkl_reduction.NKL_REDUCTION_BATCHMEAN, 4, &unused));
        // The public enum mirrors the C one value for value (the backend casts between them).
        foreach (var r in Enum.GetValues<KlReductionKind>())
            Assert.Equal("NKL_REDUCTION_" + r.ToString().ToUpperInvariant(), ((nkl_reduction)r).ToString());
    }

    [Fact]
    public void Checked_wrappers_throw_naming_the_function_and_status()
    {
        var partial = new nkl_partial { sum = 12.0, compensation = 0.0 };
        double v;
        NativeChecked.nkl_partials_finish(&partial, 1, 6, nkl_reduction.NKL_REDUCTION_BATCHMEAN, 3, &v);
        Assert.Equal(4.0, v);
        var e = Assert.Throws<NativeKlException>(() =>
        {
            double unused;
            var p = new nkl_partial { sum = 12.0 };
            NativeChecked.nkl_partials_finish(&p, 1, 6, nkl_reduction.NKL_REDUCTION_BATCHMEAN, 4, &unused);
        });
        Assert.Equal((int)nkl_status.NKL_ERROR_INVALID_BATCH, e.StatusCode);
        Assert.StartsWith("nkl_partials_finish returned NKL_ERROR_INVALID_BATCH: ", e.Message);
        // Out of memory keeps its own exception type through the wrapper.
        Assert.Throws<OutOfMemoryException>(() =>
        {
            void* p;
            NativeChecked.nkl_alloc((nuint)1 << 62, 64, &p); // 4 EiB: more than any address space
        });
    }

    [Fact]
    public void Flags_are_the_librarys()
    {
        float x = -1, t = 0.5f, o;
        Assert.Equal(nkl_status.NKL_OK, NativeMethods.nkl_kl_div_f32(&x, &t, 1, nkl_reduction.NKL_REDUCTION_SUM, 0, NativeMethods.NKL_LOG_TARGET, &o));
        Assert.Equal(MathF.Exp(0.5f) * 1.5f, o, 5);
        Assert.Equal(nkl_status.NKL_OK, NativeMethods.nkl_kl_div_f32(&x, &t, 1, nkl_reduction.NKL_REDUCTION_SUM, 0, NativeMethods.NKL_MASKED, &o));
        Assert.Equal(nkl_status.NKL_OK, NativeMethods.nkl_kl_div_f32(&x, &t, 1, nkl_reduction.NKL_REDUCTION_SUM, 0, NativeMethods.NKL_FORCE_SCALAR, &o));
        var avx2 = NativeMethods.nkl_kl_div_f32(&x, &t, 1, nkl_reduction.NKL_REDUCTION_SUM, 0, NativeMethods.NKL_FORCE_AVX2, &o);
        Assert.Equal(NativeMethods.nkl_isa_supported(nkl_isa.NKL_ISA_AVX2) == 1 ? nkl_status.NKL_OK : nkl_status.NKL_ERROR_ISA_UNAVAILABLE, avx2);
        var neon = NativeMethods.nkl_kl_div_f32(&x, &t, 1, nkl_reduction.NKL_REDUCTION_SUM, 0, NativeMethods.NKL_FORCE_NEON, &o);
        Assert.Equal(NativeMethods.nkl_isa_supported(nkl_isa.NKL_ISA_NEON) == 1 ? nkl_status.NKL_OK : nkl_status.NKL_ERROR_ISA_UNAVAILABLE, neon);
        Assert.Equal(RuntimeInformation.ProcessArchitecture == Architecture.Arm64, NativeMethods.nkl_isa_supported(nkl_isa.NKL_ISA_NEON) == 1);
        uint known = NativeMethods.NKL_LOG_TARGET | NativeMethods.NKL_MASKED | NativeMethods.NKL_FORCE_SCALAR | NativeMethods.NKL_FORCE_AVX2
                     | NativeMethods.NKL_FORCE_NEON;
        for (int bit = 0; bit < 32; bit++)
        {
            uint flag = 1u << bit;
            if ((known & flag) != 0) continue;
            Assert.Equal(nkl_status.NKL_ERROR_INVALID_FLAGS, NativeMethods.nkl_kl_div_f32(&x, &t, 1, nkl_reduction.NKL_REDUCTION_SUM, 0, flag, &o));
        }
    }

    [Fact]
    public void Chunk_size_is_the_librarys()
    {
        Assert.Equal((nuint)1, NativeMethods.nkl_chunk_count(NativeMethods.NKL_CHUNK_ELEMENTS));
        Assert.Equal((nuint)2, NativeMethods.nkl_chunk_count(NativeMethods.NKL_CHUNK_ELEMENTS + 1));
        Assert.Equal((int)NativeMethods.NKL_CHUNK_ELEMENTS, ManagedKl.ChunkElements);
    }

    [Fact]
    public void NaN_bits_are_the_headers()
    {
        Assert.Equal(NativeMethods.NKL_NAN_BITS_F32, NativeKl.Managed.KlConstants.QuietNaNBitsF32);
        Assert.Equal(NativeMethods.NKL_NAN_BITS_F64, NativeKl.Managed.KlConstants.QuietNaNBitsF64);
        Assert.Equal(NativeMethods.NKL_NAN_BITS_F32, Reference.NaNBitsF32);
        Assert.Equal(NativeMethods.NKL_NAN_BITS_F64, Reference.NaNBitsF64);
        // the float NaN widens to the double one
        Assert.Equal(NativeMethods.NKL_NAN_BITS_F64, BitConverter.DoubleToUInt64Bits(BitConverter.UInt32BitsToSingle(NativeMethods.NKL_NAN_BITS_F32)));
    }

    [Fact]
    public void Partial_struct_has_the_librarys_size_and_layout()
    {
        Assert.Equal(nkl_partial.SizeOf, Unsafe.SizeOf<nkl_partial>());
        Assert.Equal(nkl_partial.SizeOf, Unsafe.SizeOf<KlPartial>());
        // Two chunks' partials into a buffer with sentinels: the library writes exactly 2 × SizeOf bytes.
        int n = (int)NativeMethods.NKL_CHUNK_ELEMENTS + 5;
        var x = Enumerable.Repeat(-1.0f, n).ToArray();
        var t = Enumerable.Repeat(0.5f, n).ToArray();
        var bytes = Enumerable.Repeat((byte)0xA5, 3 * nkl_partial.SizeOf).ToArray();
        fixed (float* px = x) fixed (float* pt = t) fixed (byte* pb = bytes)
            Assert.Equal(nkl_status.NKL_OK, NativeMethods.nkl_kl_div_partials_f32(px, pt, (nuint)n, 0, 0, 2, (nkl_partial*)pb));
        Assert.All(bytes.Skip(2 * nkl_partial.SizeOf), b => Assert.Equal(0xA5, b));
        fixed (byte* pb = bytes)
        {
            var p = (nkl_partial*)pb;
            double expectedFirst = 16384 * (0.5 * Math.Log(0.5) + 0.5);
            // Terms are float32: within a few float ulps of the double-precision value.
            Assert.InRange(Math.Abs(p[0].sum + p[0].compensation - expectedFirst) / expectedFirst, 0, 1e-6);
            double expectedSecond = 5 * (0.5 * Math.Log(0.5) + 0.5);
            Assert.InRange(Math.Abs(p[1].sum + p[1].compensation - expectedSecond) / expectedSecond, 0, 1e-6);
        }
    }
}
