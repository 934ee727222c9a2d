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
        ///                  log t replaced by t where t == +-0, so that t log t = t t = +0
        ///                  (xlogy(0, y) = +0, even for t = -0); then t == 0 gives
        ///                  +0 - (0 x): +0 for finite x, NaN for x = +-inf or NaN (as PyTorch).
        ///   logTarget on:  L = exp(t) (t - x).
        ///   masked:        L = +0 where t == 0 (t == -inf with logTarget).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Term(float x, float t, bool logTarget, bool masked)
        {
            float l;
            if (!logTarget)
            {
                float lt = t == 0.0f ? t : Log(t);
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
                double lt = t == 0.0 ? t : Log(t);
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
            for (int i = 0; i < x.Length; i++) output[i] = CanonicalNaN(Term(x[i], t[i], logTarget, masked));
        }

        public static void Pointwise(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Span<double> output,
                                     bool logTarget, bool masked)
        {
            for (int i = 0; i < x.Length; i++) output[i] = CanonicalNaN(Term(x[i], t[i], logTarget, masked));
        }

        /// <summary>float data: per block of 16, pairs L[j] + L[j + 8] added in float,
        /// then widened into 8 plain double lanes; missing terms of a short last block are +0.</summary>
        public static KlPartial Chunk(ReadOnlySpan<float> x, ReadOnlySpan<float> t, bool logTarget, bool masked)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            Span<double> acc = stackalloc double[CanonicalSum.LanesF32];
            Span<float> l = stackalloc float[CanonicalSum.Block];
            acc.Clear();
            for (int i = 0; i < len; i += CanonicalSum.Block)
            {
                for (int j = 0; j < CanonicalSum.Block; j++)
                    l[j] = i + j < len ? Term(x[i + j], t[i + j], logTarget, masked) : 0.0f;
                for (int j = 0; j < CanonicalSum.LanesF32; j++)
                    acc[j] += (double)(l[j] + l[j + 8]);
            }
            return CanonicalSum.FoldF32Lanes(acc);
        }

        /// <summary>double data: per block of 16, (L[j] + L[j + 4]) + (L[j + 8] + L[j + 12])
        /// into 4 compensated lanes (TwoSum); missing terms of a short last block are +0.</summary>
        public static KlPartial Chunk(ReadOnlySpan<double> x, ReadOnlySpan<double> t, bool logTarget, bool masked)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            Span<double> sum = stackalloc double[CanonicalSum.LanesF64];
            Span<double> comp = stackalloc double[CanonicalSum.LanesF64];
            Span<double> l = stackalloc double[CanonicalSum.Block];
            sum.Clear();
            comp.Clear();
            for (int i = 0; i < len; i += CanonicalSum.Block)
            {
                for (int j = 0; j < CanonicalSum.Block; j++)
                    l[j] = i + j < len ? Term(x[i + j], t[i + j], logTarget, masked) : 0.0;
                for (int j = 0; j < CanonicalSum.LanesF64; j++)
                    CanonicalSum.TwoSum(ref sum[j], ref comp[j], (l[j] + l[j + 4]) + (l[j + 8] + l[j + 12]));
            }
            return CanonicalSum.FoldLanes(sum, comp, CanonicalSum.LanesF64);
        }

        // ------------------------------------------------- forward and backward

        /// <summary>
        /// The term and its gradients (nkl_term_grad_f32): l has the bits of <see cref="Term(float, float, bool, bool)"/>;
        ///   logTarget off: dx = -(t s), dt = ((log t + t/t) - x) s  (t/t: NaN at t = 0 and +-inf, as autograd);
        ///   logTarget on:  dx = -(exp(t) s), dt = (exp(t) ((t - x) + 1)) s;
        ///   masked:        l = dx = dt = +0 where t == 0 (t == -inf with logTarget).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float TermGrad(float x, float t, bool logTarget, bool masked, float s, out float dx, out float dt)
        {
            float l, gx, gt;
            if (!logTarget)
            {
                float lt = t == 0.0f ? t : Log(t);
                l = Fma(t, lt, -(t * x));
                gx = -(t * s);
                gt = ((lt + t / t) - x) * s;
                if (masked && t == 0.0f) l = gx = gt = 0.0f;
            }
            else
            {
                float e = Exp(t), d = t - x;
                l = e * d;
                gx = -(e * s);
                gt = (e * (d + 1.0f)) * s;
                if (masked && t == float.NegativeInfinity) l = gx = gt = 0.0f;
            }
            dx = gx;
            dt = gt;
            return l;
        }

        /// <summary>The term and its gradients (nkl_term_grad_f64; see the float overload).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double TermGrad(double x, double t, bool logTarget, bool masked, double s, out double dx, out double dt)
        {
            double l, gx, gt;
            if (!logTarget)
            {
                double lt = t == 0.0 ? t : Log(t);
                l = Fma(t, lt, -(t * x));
                gx = -(t * s);
                gt = ((lt + t / t) - x) * s;
                if (masked && t == 0.0) l = gx = gt = 0.0;
            }
            else
            {
                double e = Exp(t), d = t - x;
                l = e * d;
                gx = -(e * s);
                gt = (e * (d + 1.0)) * s;
                if (masked && t == double.NegativeInfinity) l = gx = gt = 0.0;
            }
            dx = gx;
            dt = gt;
            return l;
        }

        /// <summary>
        /// Forward and backward for one chunk (grad_f32 of kernels_scalar.c): writes gx (and gt, and
        /// the terms into lo, where those are not empty) and returns the terms' partial, summed in
        /// the blocks and lanes of <see cref="Chunk(ReadOnlySpan{float}, ReadOnlySpan{float}, bool, bool)"/>.
        /// </summary>
        public static KlPartial Grad(ReadOnlySpan<float> x, ReadOnlySpan<float> t, bool logTarget, bool masked, float s,
                                     Span<float> lo, Span<float> gx, Span<float> gt)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements && gx.Length >= len);
            bool hasLo = !lo.IsEmpty, hasGt = !gt.IsEmpty;
            Span<double> acc = stackalloc double[CanonicalSum.LanesF32];
            Span<float> l = stackalloc float[CanonicalSum.Block];
            acc.Clear();
            for (int i = 0; i < len; i += CanonicalSum.Block)
            {
                for (int j = 0; j < CanonicalSum.Block; j++)
                {
                    if (i + j >= len) { l[j] = 0.0f; continue; }
                    l[j] = TermGrad(x[i + j], t[i + j], logTarget, masked, s, out float dx, out float dt);
                    gx[i + j] = CanonicalNaN(dx);
                    if (hasGt) gt[i + j] = CanonicalNaN(dt);
                    if (hasLo) lo[i + j] = CanonicalNaN(l[j]);
                }
                for (int j = 0; j < CanonicalSum.LanesF32; j++)
                    acc[j] += (double)(l[j] + l[j + 8]);
            }
            return CanonicalSum.FoldF32Lanes(acc);
        }

        /// <summary>Forward and backward for one chunk of double data (grad_f64 of kernels_scalar.c).</summary>
        public static KlPartial Grad(ReadOnlySpan<double> x, ReadOnlySpan<double> t, bool logTarget, bool masked, double s,
                                     Span<double> lo, Span<double> gx, Span<double> gt)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements && gx.Length >= len);
            bool hasLo = !lo.IsEmpty, hasGt = !gt.IsEmpty;
            Span<double> sum = stackalloc double[CanonicalSum.LanesF64];
            Span<double> comp = stackalloc double[CanonicalSum.LanesF64];
            Span<double> l = stackalloc double[CanonicalSum.Block];
            sum.Clear();
            comp.Clear();
            for (int i = 0; i < len; i += CanonicalSum.Block)
            {
                for (int j = 0; j < CanonicalSum.Block; j++)
                {
                    if (i + j >= len) { l[j] = 0.0; continue; }
                    l[j] = TermGrad(x[i + j], t[i + j], logTarget, masked, s, out double dx, out double dt);
                    gx[i + j] = CanonicalNaN(dx);
                    if (hasGt) gt[i + j] = CanonicalNaN(dt);
                    if (hasLo) lo[i + j] = CanonicalNaN(l[j]);
                }
                for (int j = 0; j < CanonicalSum.LanesF64; j++)
                    CanonicalSum.TwoSum(ref sum[j], ref comp[j], (l[j] + l[j + 4]) + (l[j + 8] + l[j + 12]));
            }
            return CanonicalSum.FoldLanes(sum, comp, CanonicalSum.LanesF64);
        }
    }
}
