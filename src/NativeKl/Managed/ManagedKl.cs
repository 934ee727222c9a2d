// ManagedKl.cs - the managed backend's shared pieces: the chunk size, the
// partial (nkl_partial) and its combine and total, the library's log and exp.
// The kernels are ManagedKernels<T, TOp> over an op (KlTerm), on the path a
// call selects (ManagedPaths): the native library's math in C#, with the
// same bits on .NET Core 3.0+/.NET 8+ (vector kernels, or the scalar
// specification with Math.FusedMultiplyAdd).
//
// On netstandard2.0 there is no fused multiply-add, so results there can
// differ from native in the last bits (see ManagedMath.Fma).
//
// Inputs are validated by the caller: equal lengths, output long enough.

using System;

namespace NativeKl.Managed
{
    internal static class ManagedKl
    {
        /// <summary>Elements per chunk of a reduction, counted from index 0 (NKL_CHUNK_ELEMENTS).</summary>
        public const int ChunkElements = 16384;

        /// <summary>Adds partial p into acc; call in chunk order (nkl_combine).</summary>
        public static void Combine(ref KlPartial acc, KlPartial p) => CanonicalSum.Combine(ref acc, p);

        /// <summary>The value of combined partials; an infinite or NaN sum as is (nkl_total).</summary>
        public static double Total(KlPartial acc) => CanonicalSum.Total(acc);

    }
}
