// ManagedPaths.cs - the managed backend's registry of kernel paths: which
// one a KlIsa selects, which ones this CPU and runtime can run. The choice is
// made per call from the options, so tests and benchmarks pick a path the way
// they pick a native ISA (no process-wide switch).

using System;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
#endif

namespace NativeKl.Managed
{
    /// <summary>The managed kernels' paths, all bit-identical.</summary>
    internal enum ManagedPath
    {
        /// <summary>One element at a time (ScalarKernels, ManagedDistill): everywhere.</summary>
        Scalar = 0,
        /// <summary>AVX2+FMA on Vector256 (Avx2Kernels, Avx2Distill): .NET 8+ on x64 CPUs with both.</summary>
        Avx2 = 1,
        /// <summary>
        /// Portable 128-bit vectors with a fused multiply-add (Vector128Kernels, Vector128Distill): .NET 8+
        /// with AdvSimd (arm64: KlIsa.Neon) or FMA (x64).
        /// </summary>
        Vector128 = 2,
    }

    internal static class ManagedPaths
    {
        /// <summary>Whether the AVX2+FMA kernels can run (a JIT-time constant on .NET 8+).</summary>
        internal static bool Avx2Supported
        {
            get
            {
#if NET8_0_OR_GREATER
                return Avx2.IsSupported && Fma.IsSupported;
#else
                return false;
#endif
            }
        }

        /// <summary>Whether the 128-bit kernels can run: a 128-bit fused multiply-add (AdvSimd on arm64, FMA on x64), .NET 8+.</summary>
        internal static bool Vector128Supported
        {
            get
            {
#if NET8_0_OR_GREATER
                return Vector128Math.IsSupported;
#else
                return false;
#endif
            }
        }

        /// <summary>The path <see cref="KlIsa.Auto"/> runs: the fastest this CPU and runtime have.</summary>
        internal static ManagedPath Best =>
            Avx2Supported ? ManagedPath.Avx2 : Vector128Supported ? ManagedPath.Vector128 : ManagedPath.Scalar;

        /// <summary>
        /// The path for a call's <see cref="KlIsa"/>: Auto the best, Scalar the scalar kernels, Avx2 the
        /// AVX2 kernels, Neon the 128-bit kernels (AdvSimd on arm64; on x64 the same code runs on
        /// FMA, which is how x64 tests check the arm64 path), or
        /// <see cref="PlatformNotSupportedException"/> where they cannot run.
        /// </summary>
        internal static ManagedPath Resolve(KlIsa isa)
        {
            switch (isa)
            {
                case KlIsa.Scalar:
                    return ManagedPath.Scalar;
                case KlIsa.Avx2:
                    if (!Avx2Supported) throw Error.ManagedIsaUnavailable(isa, Avx2Unavailable);
                    return ManagedPath.Avx2;
                case KlIsa.Neon:
                    if (!Vector128Supported) throw Error.ManagedIsaUnavailable(isa, Vector128Unavailable);
                    return ManagedPath.Vector128;
                default:
                    return Best;
            }
        }

        /// <summary>The name <see cref="KlBackend.ManagedIsa"/> reports ("avx2", "neon", "vector128" on x64 without AVX2, "scalar").</summary>
        internal static string Name(ManagedPath path) => path switch
        {
            ManagedPath.Avx2 => "avx2",
#if NET8_0_OR_GREATER
            ManagedPath.Vector128 => AdvSimd.IsSupported ? "neon" : "vector128",
#endif
            _ => "scalar",
        };

        private static string Avx2Unavailable =>
#if NET8_0_OR_GREATER
            $"this CPU or runtime lacks {(Avx2.IsSupported ? "FMA" : "AVX2")}";
#else
            "the netstandard2.0 build of NativeKl has no SIMD kernels (the .NET 8 build has them)";
#endif

        private static string Vector128Unavailable =>
#if NET8_0_OR_GREATER
            "this CPU or runtime has no 128-bit fused multiply-add (AdvSimd.Arm64 or FMA)";
#else
            "the netstandard2.0 build of NativeKl has no SIMD kernels (the .NET 8 build has them)";
#endif
    }
}
