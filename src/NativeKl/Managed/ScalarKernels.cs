// ScalarKernels.cs - the pointwise term and the kernels one element at a
// time: native/src/kl_terms_scalar.h and kernels_scalar.c. This is the
// managed path wherever the AVX2 kernels cannot run (no AVX2/FMA, other
// CPUs, netstandard2.0), and the specification the vector kernels match.

using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using static NativeKl.Managed.ManagedMath;

namespace NativeKl.Managed
{
    internal static class ScalarKernels
    {
        /// <summary>
        /// The pointwise KL term.
        ///   logTarget off: L = xlogy(t, t) - t x, as fma(t, log t, -(t x)) with
        ///                  log t replaced by 0 where t == 0 (xlogy(0, y) = 0): t == 0
        ///                  gives +0 for finite x, NaN for x = +-inf or NaN (as PyTorch).
        ///   logTarget on:  L = exp(t) (t - x).
        ///   masked:        L = +0 where t == 0 (t == -inf with logTarget).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Term(float x, float t, bool logTarget, bool masked)
        {
            float l;
            if (!logTarget)
            {
                float lt = t == 0.0f ? 0.0f : Log(t);
                l = Fma(t, lt, -(t * x));
                if (masked && t == 0.0f) l = 0.0f;
            }
            else
            {
                l = Exp(t) * (t - x);
                if (masked && t == float.NegativeInfinity) l = 0.0f;
            }
            return l;
        }

        /// <summary>The pointwise KL term (see the float overload).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Term(double x, double t, bool logTarget, bool masked)
        {
            double l;
            if (!logTarget)
            {
                double lt = t == 0.0 ? 0.0 : Log(t);
                l = Fma(t, lt, -(t * x));
                if (masked && t == 0.0) l = 0.0;
            }
            else
            {
                l = Exp(t) * (t - x);
                if (masked && t == double.NegativeInfinity) l = 0.0;
            }
            return l;
        }

        // Element i is read before out[i] is written: exact aliasing is fine.
        public static void Pointwise(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Span<float> output,
                                     bool logTarget, bool masked)
        {
            for (int i = 0; i < x.Length; i++) output[i] = Term(x[i], t[i], logTarget, masked);
        }

        public static void Pointwise(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Span<double> output,
                                     bool logTarget, bool masked)
        {
            for (int i = 0; i < x.Length; i++) output[i] = Term(x[i], t[i], logTarget, masked);
        }

        /// <summary>float data: double lanes, plain sums; missing tail lanes add +0.</summary>
        public static KlPartial Chunk(ReadOnlySpan<float> x, ReadOnlySpan<float> t, bool logTarget, bool masked)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            Span<double> acc = stackalloc double[CanonicalSum.Lanes];
            acc.Clear();
            for (int i = 0; i < len; i += CanonicalSum.Lanes)
            {
                for (int j = 0; j < CanonicalSum.Lanes; j++)
                {
                    float l = i + j < len ? Term(x[i + j], t[i + j], logTarget, masked) : 0.0f;
                    acc[j] += (double)l;
                }
            }
            return CanonicalSum.FoldLanes(acc, ReadOnlySpan<double>.Empty);
        }

        /// <summary>double data: compensated lanes (TwoSum); missing tail lanes add +0.</summary>
        public static KlPartial Chunk(ReadOnlySpan<double> x, ReadOnlySpan<double> t, bool logTarget, bool masked)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            Span<double> sum = stackalloc double[CanonicalSum.Lanes];
            Span<double> comp = stackalloc double[CanonicalSum.Lanes];
            sum.Clear();
            comp.Clear();
            for (int i = 0; i < len; i += CanonicalSum.Lanes)
            {
                for (int j = 0; j < CanonicalSum.Lanes; j++)
                {
                    double l = i + j < len ? Term(x[i + j], t[i + j], logTarget, masked) : 0.0;
                    CanonicalSum.TwoSum(ref sum[j], ref comp[j], l);
                }
            }
            return CanonicalSum.FoldLanes(sum, comp);
        }
    }
}
