// ManagedKl.cs - the managed backend: the native library's math in C#, with
// the same bits on .NET Core 3.0+/.NET 8+ (x64 AVX2+FMA kernels, or the
// scalar specification with Math.FusedMultiplyAdd elsewhere).
//
// On netstandard2.0 there is no fused multiply-add, so results there can
// differ from native in the last bits (see ManagedMath.Fma).
//
// Inputs are validated by the caller: equal lengths, output long enough.

using System;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NativeKl.Managed
{
    /// <summary>One chunk's (or a running) sum: the layout of the C nkl_partial.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct KlPartial
    {
        /// <summary>Sum of the terms ...</summary>
        public double Sum;
        /// <summary>... plus this rounding-error correction.</summary>
        public double Compensation;
    }

    internal static class ManagedKl
    {
        /// <summary>Elements per chunk of a reduction, counted from index 0 (NKL_CHUNK_ELEMENTS).</summary>
        public const int ChunkElements = 16384;

        /// <summary>
        /// Tests set this to run the scalar kernels on a machine that has AVX2:
        /// both must give the same bits.
        /// </summary>
        internal static bool DisableAvx2;

        /// <summary>Whether calls run the AVX2+FMA kernels.</summary>
        internal static bool UsesAvx2
        {
            get
            {
#if NET8_0_OR_GREATER
                return Avx2Kernels.IsSupported && !DisableAvx2;
#else
                return false;
#endif
            }
        }

        // ------------------------------------------------------------ pointwise

        /// <summary>out[i] = L(input[i], target[i]); output may be exactly input or target.</summary>
        public static void Pointwise(ReadOnlySpan<float> input, ReadOnlySpan<float> target, Span<float> output,
                                     bool logTarget, bool masked)
        {
            Debug.Assert(input.Length == target.Length && output.Length >= input.Length);
#if NET8_0_OR_GREATER
            if (UsesAvx2) { Avx2Kernels.Pointwise(input, target, output, logTarget, masked); return; }
#endif
            ScalarKernels.Pointwise(input, target, output, logTarget, masked);
        }

        /// <summary>out[i] = L(input[i], target[i]); output may be exactly input or target.</summary>
        public static void Pointwise(ReadOnlySpan<double> input, ReadOnlySpan<double> target, Span<double> output,
                                     bool logTarget, bool masked)
        {
            Debug.Assert(input.Length == target.Length && output.Length >= input.Length);
#if NET8_0_OR_GREATER
            if (UsesAvx2) { Avx2Kernels.Pointwise(input, target, output, logTarget, masked); return; }
#endif
            ScalarKernels.Pointwise(input, target, output, logTarget, masked);
        }

        // --------------------------------------------------------------- chunks

        /// <summary>The partial of one chunk (at most ChunkElements elements), a NaN field as the
        /// library's NaN (as nkl_kl_div_partials_f32 returns it).</summary>
        public static KlPartial Chunk(ReadOnlySpan<float> input, ReadOnlySpan<float> target, bool logTarget, bool masked)
        {
            Debug.Assert(input.Length == target.Length && input.Length <= ChunkElements);
#if NET8_0_OR_GREATER
            if (UsesAvx2) return CanonicalSum.CanonicalNaN(Avx2Kernels.Chunk(input, target, logTarget, masked));
#endif
            return CanonicalSum.CanonicalNaN(ScalarKernels.Chunk(input, target, logTarget, masked));
        }

        /// <summary>The partial of one chunk (at most ChunkElements elements), a NaN field as the
        /// library's NaN (as nkl_kl_div_partials_f64 returns it).</summary>
        public static KlPartial Chunk(ReadOnlySpan<double> input, ReadOnlySpan<double> target, bool logTarget, bool masked)
        {
            Debug.Assert(input.Length == target.Length && input.Length <= ChunkElements);
#if NET8_0_OR_GREATER
            if (UsesAvx2) return CanonicalSum.CanonicalNaN(Avx2Kernels.Chunk(input, target, logTarget, masked));
#endif
            return CanonicalSum.CanonicalNaN(ScalarKernels.Chunk(input, target, logTarget, masked));
        }

        /// <summary>Adds partial p into acc; call in chunk order (nkl_combine).</summary>
        public static void Combine(ref KlPartial acc, KlPartial p) => CanonicalSum.Combine(ref acc, p);

        /// <summary>The value of combined partials; an infinite or NaN sum as is (nkl_total).</summary>
        public static double Total(KlPartial acc) => CanonicalSum.Total(acc);

        /// <summary>All chunks combined in order: Total(Sum(...)) is the SUM reduction in double
        /// (round it to float for float data).</summary>
        public static KlPartial Sum(ReadOnlySpan<float> input, ReadOnlySpan<float> target, bool logTarget, bool masked)
        {
            Debug.Assert(input.Length == target.Length);
            var acc = new KlPartial();
            for (int off = 0; off < input.Length; off += ChunkElements)
            {
                int len = Math.Min(ChunkElements, input.Length - off);
                Combine(ref acc, Chunk(input.Slice(off, len), target.Slice(off, len), logTarget, masked));
            }
            return acc;
        }

        /// <summary>All chunks combined in order: Total(Sum(...)) is the SUM reduction.</summary>
        public static KlPartial Sum(ReadOnlySpan<double> input, ReadOnlySpan<double> target, bool logTarget, bool masked)
        {
            Debug.Assert(input.Length == target.Length);
            var acc = new KlPartial();
            for (int off = 0; off < input.Length; off += ChunkElements)
            {
                int len = Math.Min(ChunkElements, input.Length - off);
                Combine(ref acc, Chunk(input.Slice(off, len), target.Slice(off, len), logTarget, masked));
            }
            return acc;
        }

        // ------------------------------------------------- forward and backward

        /// <summary>
        /// Forward and backward over all chunks in order (the chunk loop of api.c's BACKWARD): writes
        /// gradInput, and gradTarget and the pointwise terms (values) where those are not empty; returns
        /// the combined partial of the terms, the same partial <see cref="Sum(ReadOnlySpan{float}, ReadOnlySpan{float}, bool, bool)"/> gives.
        /// s is the upstream gradient over the divisor, already rounded to float.
        /// </summary>
        public static KlPartial Grad(ReadOnlySpan<float> input, ReadOnlySpan<float> target, bool logTarget, bool masked, float s,
                                     Span<float> values, Span<float> gradInput, Span<float> gradTarget)
        {
            Debug.Assert(input.Length == target.Length && gradInput.Length >= input.Length);
            Debug.Assert((values.IsEmpty || values.Length >= input.Length) && (gradTarget.IsEmpty || gradTarget.Length >= input.Length));
            bool hasValues = !values.IsEmpty, hasGradTarget = !gradTarget.IsEmpty;
            var acc = new KlPartial();
            for (int off = 0; off < input.Length; off += ChunkElements)
            {
                int len = Math.Min(ChunkElements, input.Length - off);
                ReadOnlySpan<float> x = input.Slice(off, len), t = target.Slice(off, len);
                Span<float> lo = hasValues ? values.Slice(off, len) : default;
                Span<float> gx = gradInput.Slice(off, len);
                Span<float> gt = hasGradTarget ? gradTarget.Slice(off, len) : default;
#if NET8_0_OR_GREATER
                if (UsesAvx2) { Combine(ref acc, Avx2Kernels.Grad(x, t, logTarget, masked, s, lo, gx, gt)); continue; }
#endif
                Combine(ref acc, ScalarKernels.Grad(x, t, logTarget, masked, s, lo, gx, gt));
            }
            return acc;
        }

        /// <summary>Forward and backward over all chunks in order (see the float overload).</summary>
        public static KlPartial Grad(ReadOnlySpan<double> input, ReadOnlySpan<double> target, bool logTarget, bool masked, double s,
                                     Span<double> values, Span<double> gradInput, Span<double> gradTarget)
        {
            Debug.Assert(input.Length == target.Length && gradInput.Length >= input.Length);
            Debug.Assert((values.IsEmpty || values.Length >= input.Length) && (gradTarget.IsEmpty || gradTarget.Length >= input.Length));
            bool hasValues = !values.IsEmpty, hasGradTarget = !gradTarget.IsEmpty;
            var acc = new KlPartial();
            for (int off = 0; off < input.Length; off += ChunkElements)
            {
                int len = Math.Min(ChunkElements, input.Length - off);
                ReadOnlySpan<double> x = input.Slice(off, len), t = target.Slice(off, len);
                Span<double> lo = hasValues ? values.Slice(off, len) : default;
                Span<double> gx = gradInput.Slice(off, len);
                Span<double> gt = hasGradTarget ? gradTarget.Slice(off, len) : default;
#if NET8_0_OR_GREATER
                if (UsesAvx2) { Combine(ref acc, Avx2Kernels.Grad(x, t, logTarget, masked, s, lo, gx, gt)); continue; }
#endif
                Combine(ref acc, ScalarKernels.Grad(x, t, logTarget, masked, s, lo, gx, gt));
            }
            return acc;
        }

        // ----------------------------------------------------------- vector math

        /// <summary>The library's log (not Math.Log): the bits of the native nkl log.</summary>
        public static float Log(float x) => ManagedMath.Log(x);
        /// <summary>The library's exp (not Math.Exp): the bits of the native nkl exp.</summary>
        public static float Exp(float x) => ManagedMath.Exp(x);
        /// <summary>The library's log (not Math.Log): the bits of the native nkl log.</summary>
        public static double Log(double x) => ManagedMath.Log(x);
        /// <summary>The library's exp (not Math.Exp): the bits of the native nkl exp.</summary>
        public static double Exp(double x) => ManagedMath.Exp(x);
    }
}
