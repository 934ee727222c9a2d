#if !NKL_NETSTANDARD_BUILD // the netstandard2.0 build has no fused multiply-add: BitIdentityTests reports its differences
using NativeKl.Interop;
using NativeKl.Managed;

namespace NativeKl.Tests;

/// <summary>
/// The managed kernels reproduce the C core's canonical order at the level the public results
/// round away: every chunk partial (sum and compensation, float64) of the managed backend equals
/// the native one bit for bit, on every managed kernel path this build and CPU have (KlIsa.Scalar,
/// KlIsa.Avx2). A difference in the lane folds would hide in float results almost always; here it cannot.
/// </summary>
public unsafe class PartialIdentityTests
{
    private static readonly int[] Lengths = { 0, 1, 6, 7, 8, 9, 15, 16, 17, 31, 33, 255, 257, 16384, 16385, 40_000 };

    public static TheoryData<KlIsa, bool, bool> Cases()
    {
        var data = new TheoryData<KlIsa, bool, bool>();
        foreach (KlIsa isa in ManagedIsaTests.ManagedIsas())
        foreach (bool logTarget in new[] { false, true })
        foreach (bool masked in new[] { false, true })
            data.Add(isa, logTarget, masked);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Managed_chunk_partials_equal_native(KlIsa isa, bool logTarget, bool masked)
    {
        Assert.True(KlBackend.IsNativeAvailable, KlBackend.NativeLoadError);
        uint flags = (logTarget ? NativeMethods.NKL_LOG_TARGET : 0u) | (masked ? NativeMethods.NKL_MASKED : 0u);
        ManagedPath path = ManagedPaths.Resolve(isa);
        ManagedKernels<float> kernelsF32 = KlTerm.Kernels<float>(logTarget, masked);
        ManagedKernels<double> kernelsF64 = KlTerm.Kernels<double>(logTarget, masked);
        foreach (int n in Lengths)
        {
            var (xd, td) = TestData.Make(n, logTarget, masked, seed: 11 + n);
            float[] x = TestData.ToFloat(xd), t = TestData.ToFloat(td);
            int chunks = (n + ManagedKl.ChunkElements - 1) / ManagedKl.ChunkElements;
            var native = new nkl_partial[Math.Max(chunks, 1)];
            fixed (float* px = x) fixed (float* pt = t) fixed (nkl_partial* pp = native)
                Assert.Equal(nkl_status.NKL_OK, NativeMethods.nkl_kl_div_partials_f32(px, pt, (nuint)n, flags, 0, (nuint)chunks, pp));
            for (int c = 0; c < chunks; c++)
            {
                int off = c * ManagedKl.ChunkElements, len = Math.Min(ManagedKl.ChunkElements, n - off);
                KlPartial m = kernelsF32.Chunk(path, x.AsSpan(off, len), t.AsSpan(off, len));
                AssertSameBits(native[c], m, $"{path} float n={n} chunk {c}");
            }
            fixed (double* px = xd) fixed (double* pt = td) fixed (nkl_partial* pp = native)
                Assert.Equal(nkl_status.NKL_OK, NativeMethods.nkl_kl_div_partials_f64(px, pt, (nuint)n, flags, 0, (nuint)chunks, pp));
            for (int c = 0; c < chunks; c++)
            {
                int off = c * ManagedKl.ChunkElements, len = Math.Min(ManagedKl.ChunkElements, n - off);
                KlPartial m = kernelsF64.Chunk(path, xd.AsSpan(off, len), td.AsSpan(off, len));
                AssertSameBits(native[c], m, $"{path} double n={n} chunk {c}");
            }
        }
    }

    private static void AssertSameBits(nkl_partial native, KlPartial managed, string what)
    {
        static bool Same(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);
        Assert.True(Same(native.sum, managed.Sum) && Same(native.compensation, managed.Compensation),
            $"{what}: native ({native.sum:R}, {native.compensation:R}) vs managed ({managed.Sum:R}, {managed.Compensation:R})");
    }
}

#endif
