using NativeKl.Managed;

namespace NativeKl.Tests;

/// <summary>
/// KlIsa selects the managed backend's kernel path as it selects the native ISA: Scalar the scalar
/// kernels, Avx2 the AVX2 kernels or PlatformNotSupportedException where they cannot run, Auto the best.
/// </summary>
public class ManagedIsaTests
{
    /// <summary>Every KlIsa the managed backend can run in this build on this CPU.</summary>
    public static IEnumerable<KlIsa> ManagedIsas()
    {
        yield return KlIsa.Scalar;
        if (ManagedPaths.Avx2Supported) yield return KlIsa.Avx2;
        if (ManagedPaths.Vector128Supported) yield return KlIsa.Neon;
    }

    [Fact]
    public void KlIsa_selects_the_managed_path()
    {
        Assert.Equal(ManagedPath.Scalar, ManagedPaths.Resolve(KlIsa.Scalar));
        Assert.Equal(ManagedPaths.Best, ManagedPaths.Resolve(KlIsa.Auto));
        Assert.Equal(ManagedPaths.Name(ManagedPaths.Best), KlBackend.ManagedIsa);
#if NKL_NETSTANDARD_BUILD
        Assert.Equal(ManagedPath.Scalar, ManagedPaths.Best); // no SIMD kernels in the netstandard2.0 build
#else
        bool fma = System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported;
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported ? ManagedPath.Avx2
            : fma ? ManagedPath.Vector128 : ManagedPath.Scalar, ManagedPaths.Best);
        Assert.Equal(fma ? ManagedPath.Vector128 : ManagedPath.Scalar,
            fma ? ManagedPaths.Resolve(KlIsa.Neon) : ManagedPath.Scalar);
#endif
    }

    [Fact]
    public void Neon_runs_on_the_managed_backend_and_throws_PlatformNotSupported_on_native()
    {
        float[] x = { -1f, -2f, -0.5f }, t = { 0.25f, 0.5f, 0.25f };
        var managed = new KlOptions { Backend = KlBackendKind.Managed, Isa = KlIsa.Neon };
        if (ManagedPaths.Vector128Supported)
            Assert.Equal(BitConverter.SingleToInt32Bits(KlDivergence.Reduce(x, t, KlReduction.Sum, managed with { Isa = KlIsa.Scalar })),
                         BitConverter.SingleToInt32Bits(KlDivergence.Reduce(x, t, KlReduction.Sum, managed)));
        else
            Assert.Throws<PlatformNotSupportedException>(() => KlDivergence.Reduce(x, t, KlReduction.Sum, managed));
        if (KlBackend.IsNativeAvailable)
            Assert.Throws<PlatformNotSupportedException>(() =>
                KlDivergence.Reduce(x, t, KlReduction.Sum, managed with { Backend = KlBackendKind.Native }));
    }

    [Fact]
    public void Managed_Avx2_runs_where_supported_and_throws_PlatformNotSupported_elsewhere()
    {
        var options = new KlOptions { Backend = KlBackendKind.Managed, Isa = KlIsa.Avx2 };
        float[] x = { -1f, -2f }, t = { 0.5f, 0.5f };
        if (ManagedPaths.Avx2Supported)
        {
            Assert.Equal(KlDivergence.Reduce(x, t, KlReduction.Sum, options with { Isa = KlIsa.Scalar }),
                         KlDivergence.Reduce(x, t, KlReduction.Sum, options));
            return;
        }
        var e = Assert.Throws<PlatformNotSupportedException>(() => KlDivergence.Reduce(x, t, KlReduction.Sum, options));
        Assert.Contains("KlIsa.Avx2", e.Message);
        Assert.Throws<PlatformNotSupportedException>(() =>
            Distillation.Loss(new float[] { 1f, 2f }, new float[] { 2f, 1f }, 1, 2, KlReductionKind.Sum,
                new DistillationOptions(1) { Backend = KlBackendKind.Managed, Isa = KlIsa.Avx2 }));
    }
}
