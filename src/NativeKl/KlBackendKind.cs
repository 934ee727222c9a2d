namespace NativeKl
{
    /// <summary>Which implementation computes a call.</summary>
    public enum KlBackendKind
    {
        /// <summary>The process-wide choice (<see cref="KlBackend.Active"/>): native when its library loads, managed otherwise.</summary>
        Auto = 0,
        /// <summary>The C core (libnativekl) through P/Invoke.</summary>
        Native = 1,
        /// <summary>The same math in C# (AVX2+FMA on .NET 8+ x64, scalar otherwise).</summary>
        Managed = 2,
    }

    /// <summary>Instruction set for the native backend; the results are bit-identical on each.</summary>
    public enum KlIsa
    {
        /// <summary>The best the CPU has (the native library's active ISA).</summary>
        Auto = 0,
        /// <summary>The portable C path (NKL_FORCE_SCALAR).</summary>
        Scalar = 1,
        /// <summary>AVX2+FMA (NKL_FORCE_AVX2); <see cref="System.PlatformNotSupportedException"/> where the CPU lacks it.</summary>
        Avx2 = 2,
        /// <summary>NEON with fused multiply-add, on arm64 (NKL_FORCE_NEON); <see cref="System.PlatformNotSupportedException"/> elsewhere.</summary>
        Neon = 3,
    }
}
