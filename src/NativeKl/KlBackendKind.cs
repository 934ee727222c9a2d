namespace NativeKl
{
    /// <summary>Which implementation computes a call.</summary>
    public enum KlBackendKind
    {
        /// <summary>The process-wide choice (<see cref="KlBackend.Active"/>): native when its library loads, managed otherwise.</summary>
        Auto = 0,
        /// <summary>The C core (libnativekl) through P/Invoke.</summary>
        Native = 1,
        /// <summary>The same math in C# (AVX2+FMA on .NET 8+ x64, NEON on .NET 8+ arm64, scalar otherwise).</summary>
        Managed = 2,
    }

    /// <summary>
    /// Instruction set of a call (<see cref="KlOptions.Isa"/>, <see cref="DistillationOptions.Isa"/>), for
    /// the native and the managed backend alike; the results are bit-identical on each. A value the
    /// machine cannot run throws <see cref="System.PlatformNotSupportedException"/> from the call.
    /// </summary>
    public enum KlIsa
    {
        /// <summary>The best this machine has: the native library's active ISA (NKL_ISA may set it), or
        /// the managed backend's fastest path (<see cref="KlBackend.ManagedIsa"/>).</summary>
        Auto = 0,
        /// <summary>The portable scalar path: the C specification (NKL_FORCE_SCALAR), or the managed
        /// scalar kernels (what runs wherever no vector kernels do); every machine has it.</summary>
        Scalar = 1,
        /// <summary>AVX2+FMA: the native AVX2 kernels (NKL_FORCE_AVX2), or the managed Vector256 kernels
        /// (.NET 8+ build only); <see cref="System.PlatformNotSupportedException"/> where the CPU (or, for the
        /// managed backend, the netstandard2.0 build) lacks them.</summary>
        Avx2 = 2,
        /// <summary>NEON (arm64's 128-bit SIMD, with fused multiply-add): the native NEON kernels
        /// (NKL_FORCE_NEON; arm64 only: elsewhere the native backend throws
        /// <see cref="System.PlatformNotSupportedException"/>), or the managed backend's 128-bit kernels
        /// (.NET 8+ build), which also run on x64 with FMA (the same code and bits, so x64 tests cover
        /// them).</summary>
        Neon = 3,
    }
}
