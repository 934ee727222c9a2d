#if !NKL_NETSTANDARD_BUILD // the netstandard2.0 build has no fused multiply-add: BitIdentityTests reports its differences
using NativeKl.Interop;
using NativeKl.Managed;

namespace NativeKl.Tests;

/// <summary>
/// The managed kernels reproduce the C core's canonical order at the level the public results
/// round away: every chunk partial (sum and compensation, float64) of the managed backend equals
/// the native one bit for bit, on the managed Vector256 path and on its scalar path. A difference
/// in the lane folds would hide in float results almost always; here it cannot.
/// </summary>
[Collection(ManagedIsaSwitch.Name)]
public unsafe class PartialIdentityTests
{
    private static readonly int[] Lengths = { 0, 1, 6, 7, 8, 9, 15, 16, 17, 31, 33, 255, 257, 16384, 16385, 40_000 };

    public static TheoryData<bool, bool, bool> Cases()
    {
        var data = new TheoryData<bool, bool, bool>();
        foreach (bool scalar in new[] { false, true })
        foreach (bool logTarget in new[] { false, true })
        foreach (bool masked in new[] { false, true })
            data.Add(scalar, logTarget, masked);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Managed_chunk_partials_equal_native(bool managedScalar, bool logTarget, bool masked)
    {
        Assert.True(KlBackend.IsNativeAvailable, KlBackend.NativeLoadError);
        uint flags = (logTarget ? NativeMethods.NKL_LOG_TARGET : 0u) | (masked ? NativeMethods.NKL_MASKED : 0u);
        bool saved = ManagedKl.DisableAvx2;
        ManagedKl.DisableAvx2 = managedScalar;
        try
        {
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
                    KlPartial m = ManagedKl.Chunk(x.AsSpan(off, len), t.AsSpan(off, len), logTarget, masked);
                    AssertSameBits(native[c], m, $"float n={n} chunk {c}");
                }
                fixed (double* px = xd) fixed (double* pt = td) fixed (nkl_partial* pp = native)
                    Assert.Equal(nkl_status.NKL_OK, NativeMethods.nkl_kl_div_partials_f64(px, pt, (nuint)n, flags, 0, (nuint)chunks, pp));
                for (int c = 0; c < chunks; c++)
                {
                    int off = c * ManagedKl.ChunkElements, len = Math.Min(ManagedKl.ChunkElements, n - off);
                    KlPartial m = ManagedKl.Chunk(xd.AsSpan(off, len), td.AsSpan(off, len), logTarget, masked);
                    AssertSameBits(native[c], m, $"double n={n} chunk {c}");
                }
            }
        }
        finally
        {
            ManagedKl.DisableAvx2 = saved;
        }
    }

    private static void AssertSameBits(nkl_partial native, KlPartial managed, string what)
    {
        static bool Same(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);
        Assert.True(Same(native.sum, managed.Sum) && Same(native.compensation, managed.Compensation),
            $"{what}: native ({native.sum:R}, {native.compensation:R}) vs managed ({managed.Sum:R}, {managed.Compensation:R})");
    }
}

/// <summary>Tests that flip <see cref="ManagedKl.DisableAvx2"/> (process-wide) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class ManagedIsaSwitch
{
    public const string Name = "managed ISA switch";
}
#endif
