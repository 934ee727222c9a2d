// Avx2Kernels.cs - the AVX2+FMA kernels: native/src/x86/kernels_avx2.c.
//
// The same term as ScalarKernels.Term, the same blocks and lanes
// (CanonicalSum), unaligned loads. Where C uses masked loads for a tail, this
// copies the tail into a zero-filled stack buffer: the missing lanes hold
// +0 either way, so they compute +0 terms, as the scalar tail.

#if NET8_0_OR_GREATER
using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeKl.Managed
{
    internal static class Avx2Kernels
    {
        /// <summary>True where this CPU and runtime can run these kernels (a JIT-time constant).</summary>
        public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

        // --------------------------------------------------------------- term

        /// <summary>Lanes where t is zero, negative, subnormal, infinite or NaN.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> TermSlow(Vector256<float> x, Vector256<float> t, bool masked)
        {
            // lt = t == 0 ? t : log t;  l = t lt - (t x), one rounding
            Vector256<float> t0 = Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
            Vector256<float> lt = Avx.BlendVariable(Avx2Math.Log(t), t, t0);
            Vector256<float> l = Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
            return masked ? Avx.AndNot(t0, l) : l; // +0 where t == 0
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<double> TermSlow(Vector256<double> x, Vector256<double> t, bool masked)
        {
            Vector256<double> t0 = Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
            Vector256<double> lt = Avx.BlendVariable(Avx2Math.Log(t), t, t0);
            Vector256<double> l = Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
            return masked ? Avx.AndNot(t0, l) : l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Term(Vector256<float> x, Vector256<float> t, bool logTarget, bool masked)
        {
            if (!logTarget)
            {
                // all t positive normal: no zero to mask, log needs no fix-up
                if (Avx2Math.AllNormal(t))
                    return Fma.MultiplySubtract(t, Avx2Math.LogNormal(t), Avx.Multiply(t, x));
                return TermSlow(x, t, masked);
            }
            // l = exp(t) (t - x)
            Vector256<float> l = Avx.Multiply(Avx2Math.Exp(t), Avx.Subtract(t, x));
            if (masked) // +0 where t == -inf
                l = Avx.AndNot(Avx.Compare(t, Vector256.Create(float.NegativeInfinity),
                                           FloatComparisonMode.OrderedEqualNonSignaling), l);
            return l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> Term(Vector256<double> x, Vector256<double> t, bool logTarget, bool masked)
        {
            if (!logTarget)
            {
                if (Avx2Math.AllNormal(t))
                    return Fma.MultiplySubtract(t, Avx2Math.LogNormal(t), Avx.Multiply(t, x));
                return TermSlow(x, t, masked);
            }
            Vector256<double> l = Avx.Multiply(Avx2Math.Exp(t), Avx.Subtract(t, x));
            if (masked)
                l = Avx.AndNot(Avx.Compare(t, Vector256.Create(double.NegativeInfinity),
                                           FloatComparisonMode.OrderedEqualNonSignaling), l);
            return l;
        }

        /// <summary>Term's other lanes for the pointwise output: the term as Term computes it, a NaN as the library's.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> PointwiseTermSlow(Vector256<float> x, Vector256<float> t, bool logTarget, bool masked) =>
            Avx2Math.CanonicalNaN(logTarget ? Term(x, t, true, masked) : TermSlow(x, t, masked));

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<double> PointwiseTermSlow(Vector256<double> x, Vector256<double> t, bool logTarget, bool masked) =>
            Avx2Math.CanonicalNaN(logTarget ? Term(x, t, true, masked) : TermSlow(x, t, masked));

        /// <summary>
        /// Term for the pointwise output, a NaN as the library's. Term's fast path with no NaN input
        /// (targets positive and normal, or in Exp's fast range with logTarget) gives no NaN, so the
        /// fix-up goes with the slow path only: a check of the result per vector cost 17 % of the
        /// double pointwise call (the JIT keeps the result in memory across the slow path's call).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> PointwiseTerm(Vector256<float> x, Vector256<float> t, bool logTarget, bool masked)
        {
            Vector256<float> xNaN = Avx.Compare(x, x, FloatComparisonMode.UnorderedNonSignaling);
            if (!logTarget)
            {
                Vector256<float> odd = Avx.Or(Avx2Math.NotNormal(t), xNaN);
                if (Avx.TestZ(odd, odd)) return Fma.MultiplySubtract(t, Avx2Math.LogNormal(t), Avx.Multiply(t, x));
            }
            else
            {
                Vector256<float> inRange = Avx.AndNot(xNaN, Avx.And(
                    Avx.Compare(t, Vector256.Create(KlConstants.ExpFastLoF32), FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling),
                    Avx.Compare(t, Vector256.Create(KlConstants.ExpFastHiF32), FloatComparisonMode.OrderedLessThanOrEqualNonSignaling)));
                // no -inf target here: nothing masked
                if (Avx.MoveMask(inRange) == 0xff) return Avx.Multiply(Avx2Math.ExpInRange(t), Avx.Subtract(t, x));
            }
            return PointwiseTermSlow(x, t, logTarget, masked);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> PointwiseTerm(Vector256<double> x, Vector256<double> t, bool logTarget, bool masked)
        {
            Vector256<double> xNaN = Avx.Compare(x, x, FloatComparisonMode.UnorderedNonSignaling);
            if (!logTarget)
            {
                Vector256<double> odd = Avx.Or(Avx2Math.NotNormal(t), xNaN);
                if (Avx.TestZ(odd, odd)) return Fma.MultiplySubtract(t, Avx2Math.LogNormal(t), Avx.Multiply(t, x));
            }
            else
            {
                Vector256<double> inRange = Avx.AndNot(xNaN, Avx.And(
                    Avx.Compare(t, Vector256.Create(KlConstants.ExpFastLoF64), FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling),
                    Avx.Compare(t, Vector256.Create(KlConstants.ExpFastHiF64), FloatComparisonMode.OrderedLessThanOrEqualNonSignaling)));
                if (Avx.MoveMask(inRange) == 0xf) return Avx.Multiply(Avx2Math.ExpInRange(t), Avx.Subtract(t, x));
            }
            return PointwiseTermSlow(x, t, logTarget, masked);
        }

        // ---------------------------------------------------------- pointwise

        // Each vector is loaded before its output is stored: exact aliasing is fine.
        public static void Pointwise(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Span<float> output,
                                     bool logTarget, bool masked)
        {
            int n = x.Length;
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float tr = ref MemoryMarshal.GetReference(t);
            ref float outr = ref MemoryMarshal.GetReference(output);
            int i = 0;
            for (; i + 8 <= n; i += 8)
                PointwiseTerm(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i), logTarget, masked)
                    .StoreUnsafe(ref outr, (nuint)i);
            if (i < n) PointwiseTail(x.Slice(i), t.Slice(i), output.Slice(i), logTarget, masked);
        }

        // Fewer than 8 elements: through a zero-filled buffer, in place of masked loads/stores.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void PointwiseTail(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Span<float> output,
                                          bool logTarget, bool masked)
        {
            Span<float> buf = stackalloc float[16]; // x in [0, 8), t in [8, 16)
            buf.Clear();
            x.CopyTo(buf);
            t.CopyTo(buf.Slice(8));
            Vector256<float> l = Term(Vector256.Create((ReadOnlySpan<float>)buf.Slice(0, 8)),
                                      Vector256.Create((ReadOnlySpan<float>)buf.Slice(8, 8)), logTarget, masked);
            Avx2Math.CanonicalNaN(l).CopyTo(buf);
            buf.Slice(0, x.Length).CopyTo(output);
        }

        public static void Pointwise(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Span<double> output,
                                     bool logTarget, bool masked)
        {
            int n = x.Length;
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double tr = ref MemoryMarshal.GetReference(t);
            ref double outr = ref MemoryMarshal.GetReference(output);
            int i = 0;
            for (; i + 4 <= n; i += 4)
                PointwiseTerm(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i), logTarget, masked)
                    .StoreUnsafe(ref outr, (nuint)i);
            if (i < n) PointwiseTail(x.Slice(i), t.Slice(i), output.Slice(i), logTarget, masked);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void PointwiseTail(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Span<double> output,
                                          bool logTarget, bool masked)
        {
            Span<double> buf = stackalloc double[8]; // x in [0, 4), t in [4, 8)
            buf.Clear();
            x.CopyTo(buf);
            t.CopyTo(buf.Slice(4));
            Vector256<double> l = Term(Vector256.Create((ReadOnlySpan<double>)buf.Slice(0, 4)),
                                       Vector256.Create((ReadOnlySpan<double>)buf.Slice(4, 4)), logTarget, masked);
            Avx2Math.CanonicalNaN(l).CopyTo(buf);
            buf.Slice(0, x.Length).CopyTo(output);
        }

        // -------------------------------------------------------------- chunks

        /// <summary>w[j] = L[j] + L[j + 8] (float) for the 16 elements at x, t.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Block(ref float x, ref float t, bool logTarget, bool masked) =>
            Avx.Add(Term(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t), logTarget, masked),
                    Term(Vector256.LoadUnsafe(ref x, 8), Vector256.LoadUnsafe(ref t, 8), logTarget, masked));

        /// <summary>8 float pair sums widened to double: lanes [0..3] into lo, [4..7] into hi.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddWidened(ref Vector256<double> lo, ref Vector256<double> hi, Vector256<float> w)
        {
            lo = Avx.Add(lo, Avx.ConvertToVector256Double(w.GetLower()));                // lo += (double)w[0..3]
            hi = Avx.Add(hi, Avx.ConvertToVector256Double(Avx.ExtractVector128(w, 1)));  // hi += (double)w[4..7]
        }

        /// <summary>float data: per block of 16, pairs added in float, then 8 double lanes, plain sums.</summary>
        public static KlPartial Chunk(ReadOnlySpan<float> x, ReadOnlySpan<float> t, bool logTarget, bool masked)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float tr = ref MemoryMarshal.GetReference(t);
            Vector256<double> lo = Vector256<double>.Zero, hi = lo; // lanes 0-3, 4-7
            int i = 0;
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
                AddWidened(ref lo, ref hi, Block(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), logTarget, masked));
            if (i < len)
            {
                // The last 1..15 elements, zero-filled to 16: x in [0, 16), t in [16, 32).
                Span<float> buf = stackalloc float[32];
                buf.Clear();
                x.Slice(i).CopyTo(buf);
                t.Slice(i).CopyTo(buf.Slice(16));
                ref float br = ref MemoryMarshal.GetReference(buf);
                AddWidened(ref lo, ref hi, Block(ref br, ref Unsafe.Add(ref br, 16), logTarget, masked));
            }
            Span<double> acc = stackalloc double[CanonicalSum.LanesF32];
            lo.CopyTo(acc);
            hi.CopyTo(acc.Slice(4));
            return CanonicalSum.FoldF32Lanes(acc);
        }

        /// <summary>CanonicalSum.TwoSum on 4 lanes: s += v, c += the rounding error.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void TwoSum(ref Vector256<double> s, ref Vector256<double> c, Vector256<double> v)
        {
            Vector256<double> sum = Avx.Add(s, v);                        // sum = s + v
            Vector256<double> vv = Avx.Subtract(sum, s);                   // vv = sum - s
            Vector256<double> err = Avx.Add(Avx.Subtract(s, Avx.Subtract(sum, vv)),
                                            Avx.Subtract(v, vv));          // err = (s - (sum - vv)) + (v - vv)
            s = sum;
            c = Avx.Add(c, err);                                           // c += err
        }

        /// <summary>w[j] = (L[j] + L[j + 4]) + (L[j + 8] + L[j + 12]) for the 16 elements at x, t.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> Block(ref double x, ref double t, bool logTarget, bool masked)
        {
            Vector256<double> l0 = Term(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t), logTarget, masked);
            Vector256<double> l1 = Term(Vector256.LoadUnsafe(ref x, 4), Vector256.LoadUnsafe(ref t, 4), logTarget, masked);
            Vector256<double> l2 = Term(Vector256.LoadUnsafe(ref x, 8), Vector256.LoadUnsafe(ref t, 8), logTarget, masked);
            Vector256<double> l3 = Term(Vector256.LoadUnsafe(ref x, 12), Vector256.LoadUnsafe(ref t, 12), logTarget, masked);
            return Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
        }

        /// <summary>double data: per block of 16, quads pre-added, then 4 compensated lanes.</summary>
        public static KlPartial Chunk(ReadOnlySpan<double> x, ReadOnlySpan<double> t, bool logTarget, bool masked)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double tr = ref MemoryMarshal.GetReference(t);
            Vector256<double> s = Vector256<double>.Zero, c = s;
            int i = 0;
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
                TwoSum(ref s, ref c, Block(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), logTarget, masked));
            if (i < len)
            {
                // The last 1..15 elements, zero-filled to 16: x in [0, 16), t in [16, 32).
                Span<double> buf = stackalloc double[32];
                buf.Clear();
                x.Slice(i).CopyTo(buf);
                t.Slice(i).CopyTo(buf.Slice(16));
                ref double br = ref MemoryMarshal.GetReference(buf);
                TwoSum(ref s, ref c, Block(ref br, ref Unsafe.Add(ref br, 16), logTarget, masked));
            }
            Span<double> sum = stackalloc double[CanonicalSum.LanesF64];
            Span<double> comp = stackalloc double[CanonicalSum.LanesF64];
            s.CopyTo(sum);
            c.CopyTo(comp);
            return CanonicalSum.FoldLanes(sum, comp, CanonicalSum.LanesF64);
        }
        // ------------------------------------------------- forward and backward

        private const FloatComparisonMode Unordered = FloatComparisonMode.UnorderedNonSignaling;

        /// <summary>CanonicalNaN on the three vectors a gradient call stores.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void CanonicalNaN(ref Vector256<float> l, ref Vector256<float> gx, ref Vector256<float> gt)
        {
            l = Avx2Math.CanonicalNaN(l);
            gx = Avx2Math.CanonicalNaN(gx);
            gt = Avx2Math.CanonicalNaN(gt);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void CanonicalNaN(ref Vector256<double> l, ref Vector256<double> gx, ref Vector256<double> gt)
        {
            l = Avx2Math.CanonicalNaN(l);
            gx = Avx2Math.CanonicalNaN(gx);
            gt = Avx2Math.CanonicalNaN(gt);
        }

        /// <summary>logTarget off (xlogy_grads_ps): l = t lt - t x, gx = -(t s), gt = ((lt + q) - x) s, q = t / t.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> XlogyGrads(Vector256<float> x, Vector256<float> t, Vector256<float> s, Vector256<float> lt,
                                                   Vector256<float> q, out Vector256<float> gx, out Vector256<float> gt)
        {
            gx = Avx.Xor(Avx.Multiply(t, s), Vector256.Create(-0.0f));
            gt = Avx.Multiply(Avx.Subtract(Avx.Add(lt, q), x), s);
            return Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
        }

        /// <summary>logTarget on (exp_grads_ps): l = e (t - x), gx = -(e s), gt = (e ((t - x) + 1)) s.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ExpGrads(Vector256<float> x, Vector256<float> t, Vector256<float> s, Vector256<float> e,
                                                 out Vector256<float> gx, out Vector256<float> gt)
        {
            Vector256<float> d = Avx.Subtract(t, x);
            gx = Avx.Xor(Avx.Multiply(e, s), Vector256.Create(-0.0f));
            gt = Avx.Multiply(Avx.Multiply(e, Avx.Add(d, Vector256.Create(1.0f))), s);
            return Avx.Multiply(e, d);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> XlogyGrads(Vector256<double> x, Vector256<double> t, Vector256<double> s, Vector256<double> lt,
                                                    Vector256<double> q, out Vector256<double> gx, out Vector256<double> gt)
        {
            gx = Avx.Xor(Avx.Multiply(t, s), Vector256.Create(-0.0));
            gt = Avx.Multiply(Avx.Subtract(Avx.Add(lt, q), x), s);
            return Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> ExpGrads(Vector256<double> x, Vector256<double> t, Vector256<double> s, Vector256<double> e,
                                                  out Vector256<double> gx, out Vector256<double> gt)
        {
            Vector256<double> d = Avx.Subtract(t, x);
            gx = Avx.Xor(Avx.Multiply(e, s), Vector256.Create(-0.0));
            gt = Avx.Multiply(Avx.Multiply(e, Avx.Add(d, Vector256.Create(1.0))), s);
            return Avx.Multiply(e, d);
        }

        /// <summary>
        /// The term and its gradients on 8 lanes (term_grad_ps): ScalarKernels.TermGrad lane by lane.
        /// Returns the terms (for the sum); lc, dx and dt are what is stored, a NaN as the library's.
        /// The fast path (targets positive and normal, or in [-86, 88] with logTarget, and no NaN
        /// input) can give no NaN while s is finite and not 0, so it skips the NaN fix-up unless
        /// canonAll; the other path always has it.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> TermGrad(Vector256<float> x, Vector256<float> t, Vector256<float> s, bool logTarget, bool masked,
                                                 bool canonAll, out Vector256<float> lc, out Vector256<float> dx, out Vector256<float> dt)
        {
            Vector256<float> l, xNaN = Avx.Compare(x, x, Unordered);
            if (!logTarget)
            {
                Vector256<float> odd = Avx.Or(Avx2Math.NotNormal(t), xNaN);
                if (Avx.TestZ(odd, odd))
                {
                    // no zero, subnormal or non-finite target: t / t = 1, nothing masked
                    l = XlogyGrads(x, t, s, Avx2Math.LogNormal(t), Vector256.Create(1.0f), out dx, out dt);
                    lc = l;
                    if (canonAll) CanonicalNaN(ref lc, ref dx, ref dt);
                }
                else
                {
                    Vector256<float> zeroTarget = Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
                    l = XlogyGrads(x, t, s, Avx.BlendVariable(Avx2Math.Log(t), t, zeroTarget), Avx.Divide(t, t), out dx, out dt);
                    if (masked)
                    {
                        l = Avx.AndNot(zeroTarget, l);
                        dx = Avx.AndNot(zeroTarget, dx);
                        dt = Avx.AndNot(zeroTarget, dt);
                    }
                    lc = l;
                    CanonicalNaN(ref lc, ref dx, ref dt);
                }
            }
            else
            {
                // Avx2Math.Exp's fast range (no -inf: nothing masked), and no NaN input
                Vector256<float> inRange = Avx.AndNot(xNaN, Avx.And(
                    Avx.Compare(t, Vector256.Create(KlConstants.ExpFastLoF32), FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling),
                    Avx.Compare(t, Vector256.Create(KlConstants.ExpFastHiF32), FloatComparisonMode.OrderedLessThanOrEqualNonSignaling)));
                if (Avx.MoveMask(inRange) == 0xff)
                {
                    l = ExpGrads(x, t, s, Avx2Math.ExpInRange(t), out dx, out dt);
                    lc = l;
                    if (canonAll) CanonicalNaN(ref lc, ref dx, ref dt);
                }
                else
                {
                    l = ExpGrads(x, t, s, Avx2Math.Exp(t), out dx, out dt);
                    if (masked)
                    {
                        Vector256<float> zeroTarget = Avx.Compare(t, Vector256.Create(float.NegativeInfinity),
                                                                  FloatComparisonMode.OrderedEqualNonSignaling);
                        l = Avx.AndNot(zeroTarget, l);
                        dx = Avx.AndNot(zeroTarget, dx);
                        dt = Avx.AndNot(zeroTarget, dt);
                    }
                    lc = l;
                    CanonicalNaN(ref lc, ref dx, ref dt);
                }
            }
            return l;
        }

        /// <summary>The term and its gradients on 4 lanes (term_grad_pd; see the float overload).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> TermGrad(Vector256<double> x, Vector256<double> t, Vector256<double> s, bool logTarget, bool masked,
                                                  bool canonAll, out Vector256<double> lc, out Vector256<double> dx, out Vector256<double> dt)
        {
            Vector256<double> l, xNaN = Avx.Compare(x, x, Unordered);
            if (!logTarget)
            {
                Vector256<double> odd = Avx.Or(Avx2Math.NotNormal(t), xNaN);
                if (Avx.TestZ(odd, odd))
                {
                    l = XlogyGrads(x, t, s, Avx2Math.LogNormal(t), Vector256.Create(1.0), out dx, out dt);
                    lc = l;
                    if (canonAll) CanonicalNaN(ref lc, ref dx, ref dt);
                }
                else
                {
                    Vector256<double> zeroTarget = Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
                    l = XlogyGrads(x, t, s, Avx.BlendVariable(Avx2Math.Log(t), t, zeroTarget), Avx.Divide(t, t), out dx, out dt);
                    if (masked)
                    {
                        l = Avx.AndNot(zeroTarget, l);
                        dx = Avx.AndNot(zeroTarget, dx);
                        dt = Avx.AndNot(zeroTarget, dt);
                    }
                    lc = l;
                    CanonicalNaN(ref lc, ref dx, ref dt);
                }
            }
            else
            {
                Vector256<double> inRange = Avx.AndNot(xNaN, Avx.And(
                    Avx.Compare(t, Vector256.Create(KlConstants.ExpFastLoF64), FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling),
                    Avx.Compare(t, Vector256.Create(KlConstants.ExpFastHiF64), FloatComparisonMode.OrderedLessThanOrEqualNonSignaling)));
                if (Avx.MoveMask(inRange) == 0xf)
                {
                    l = ExpGrads(x, t, s, Avx2Math.ExpInRange(t), out dx, out dt);
                    lc = l;
                    if (canonAll) CanonicalNaN(ref lc, ref dx, ref dt);
                }
                else
                {
                    l = ExpGrads(x, t, s, Avx2Math.Exp(t), out dx, out dt);
                    if (masked)
                    {
                        Vector256<double> zeroTarget = Avx.Compare(t, Vector256.Create(double.NegativeInfinity),
                                                                   FloatComparisonMode.OrderedEqualNonSignaling);
                        l = Avx.AndNot(zeroTarget, l);
                        dx = Avx.AndNot(zeroTarget, dx);
                        dt = Avx.AndNot(zeroTarget, dt);
                    }
                    lc = l;
                    CanonicalNaN(ref lc, ref dx, ref dt);
                }
            }
            return l;
        }

        /// <summary>One vector of 8 at x, t (grad_vector_ps, full): stores gx (gt, lo where wanted), returns the terms.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> GradVector(ref float x, ref float t, Vector256<float> s, bool logTarget, bool masked, bool canonAll,
                                                   bool hasLo, ref float lo, ref float gx, bool hasGt, ref float gt)
        {
            Vector256<float> l = TermGrad(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t), s, logTarget, masked, canonAll,
                                          out Vector256<float> lc, out Vector256<float> dx, out Vector256<float> dt);
            dx.StoreUnsafe(ref gx);
            if (hasGt) dt.StoreUnsafe(ref gt);
            if (hasLo) lc.StoreUnsafe(ref lo);
            return l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> GradVector(ref double x, ref double t, Vector256<double> s, bool logTarget, bool masked, bool canonAll,
                                                    bool hasLo, ref double lo, ref double gx, bool hasGt, ref double gt)
        {
            Vector256<double> l = TermGrad(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t), s, logTarget, masked, canonAll,
                                           out Vector256<double> lc, out Vector256<double> dx, out Vector256<double> dt);
            dx.StoreUnsafe(ref gx);
            if (hasGt) dt.StoreUnsafe(ref gt);
            if (hasLo) lc.StoreUnsafe(ref lo);
            return l;
        }

        /// <summary>
        /// A whole block of 16 on TermGrad's fast path, one check for its two vectors
        /// (grad_block_fast_ps): every target positive and normal (|t| &lt; 86 with logTarget) and no
        /// NaN input, so with an ordinary s no result is NaN. Stores the block and returns true, or
        /// returns false having stored nothing.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool GradBlockFast(ref float x, ref float t, Vector256<float> s, bool logTarget, bool canonAll,
                                          bool hasLo, ref float lo, ref float gx, bool hasGt, ref float gt,
                                          out Vector256<float> l0, out Vector256<float> l1)
        {
            Vector256<float> x0 = Vector256.LoadUnsafe(ref x), x1 = Vector256.LoadUnsafe(ref x, 8);
            Vector256<float> t0 = Vector256.LoadUnsafe(ref t), t1 = Vector256.LoadUnsafe(ref t, 8);
            Vector256<float> odd = Avx.Compare(x0, x1, Unordered), g0, g1, d0, d1;
            if (!logTarget)
            {
                odd = Avx.Or(odd, Avx.Or(Avx2Math.NotNormal(t0), Avx2Math.NotNormal(t1)));
                if (!Avx.TestZ(odd, odd)) { l0 = l1 = default; return false; }
                l0 = XlogyGrads(x0, t0, s, Avx2Math.LogNormal(t0), Vector256.Create(1.0f), out g0, out d0);
                l1 = XlogyGrads(x1, t1, s, Avx2Math.LogNormal(t1), Vector256.Create(1.0f), out g1, out d1);
            }
            else
            {
                // exp_fast_range2_ps: the unsigned maximum of |t|'s bits (NaNs above +inf) below 86's
                Vector256<uint> abs = Vector256.Create(0x7fffffffu);
                Vector256<uint> m = Avx2.Max(Avx2.And(t0.AsUInt32(), abs), Avx2.And(t1.AsUInt32(), abs));
                odd = Avx.Or(odd, Avx2.CompareGreaterThan(m.AsInt32(), Vector256.Create(0x42abffff)).AsSingle()); // 86.0f
                if (!Avx.TestZ(odd, odd)) { l0 = l1 = default; return false; }
                l0 = ExpGrads(x0, t0, s, Avx2Math.ExpInRange(t0), out g0, out d0);
                l1 = ExpGrads(x1, t1, s, Avx2Math.ExpInRange(t1), out g1, out d1);
            }
            Vector256<float> c0 = l0, c1 = l1;
            if (canonAll)
            {
                CanonicalNaN(ref c0, ref g0, ref d0);
                CanonicalNaN(ref c1, ref g1, ref d1);
            }
            g0.StoreUnsafe(ref gx);
            g1.StoreUnsafe(ref gx, 8);
            if (hasGt) { d0.StoreUnsafe(ref gt); d1.StoreUnsafe(ref gt, 8); }
            if (hasLo) { c0.StoreUnsafe(ref lo); c1.StoreUnsafe(ref lo, 8); }
            return true;
        }

        /// <summary>GradBlockFast for double data: four vectors (exp_fast_range4_pd's |t| &lt; 700); returns the terms pre-added.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool GradBlockFast(ref double x, ref double t, Vector256<double> s, bool logTarget, bool canonAll,
                                          bool hasLo, ref double lo, ref double gx, bool hasGt, ref double gt,
                                          out Vector256<double> terms)
        {
            Vector256<double> x0 = Vector256.LoadUnsafe(ref x), x1 = Vector256.LoadUnsafe(ref x, 4);
            Vector256<double> x2 = Vector256.LoadUnsafe(ref x, 8), x3 = Vector256.LoadUnsafe(ref x, 12);
            Vector256<double> t0 = Vector256.LoadUnsafe(ref t), t1 = Vector256.LoadUnsafe(ref t, 4);
            Vector256<double> t2 = Vector256.LoadUnsafe(ref t, 8), t3 = Vector256.LoadUnsafe(ref t, 12);
            Vector256<double> odd = Avx.Or(Avx.Compare(x0, x1, Unordered), Avx.Compare(x2, x3, Unordered));
            Vector256<double> l0, l1, l2, l3, g0, g1, g2, g3, d0, d1, d2, d3;
            if (!logTarget)
            {
                odd = Avx.Or(odd, Avx.Or(Avx.Or(Avx2Math.NotNormal(t0), Avx2Math.NotNormal(t1)),
                                         Avx.Or(Avx2Math.NotNormal(t2), Avx2Math.NotNormal(t3))));
                if (!Avx.TestZ(odd, odd)) { terms = default; return false; }
                l0 = XlogyGrads(x0, t0, s, Avx2Math.LogNormal(t0), Vector256.Create(1.0), out g0, out d0);
                l1 = XlogyGrads(x1, t1, s, Avx2Math.LogNormal(t1), Vector256.Create(1.0), out g1, out d1);
                l2 = XlogyGrads(x2, t2, s, Avx2Math.LogNormal(t2), Vector256.Create(1.0), out g2, out d2);
                l3 = XlogyGrads(x3, t3, s, Avx2Math.LogNormal(t3), Vector256.Create(1.0), out g3, out d3);
            }
            else
            {
                // exp_fast_range4_pd: the high dwords of |t|'s bits decide (|t| < 700)
                Vector256<uint> hiAbs = Vector256.Create(0x7fffffff00000000ul).AsUInt32();
                Vector256<uint> m = Avx2.Max(
                    Avx2.Max(Avx2.And(t0.AsUInt32(), hiAbs), Avx2.And(t1.AsUInt32(), hiAbs)),
                    Avx2.Max(Avx2.And(t2.AsUInt32(), hiAbs), Avx2.And(t3.AsUInt32(), hiAbs)));
                odd = Avx.Or(odd, Avx2.CompareGreaterThan(m.AsInt32(), Vector256.Create(0x4085dfff)).AsDouble());
                if (!Avx.TestZ(odd, odd)) { terms = default; return false; }
                l0 = ExpGrads(x0, t0, s, Avx2Math.ExpInRange(t0), out g0, out d0);
                l1 = ExpGrads(x1, t1, s, Avx2Math.ExpInRange(t1), out g1, out d1);
                l2 = ExpGrads(x2, t2, s, Avx2Math.ExpInRange(t2), out g2, out d2);
                l3 = ExpGrads(x3, t3, s, Avx2Math.ExpInRange(t3), out g3, out d3);
            }
            terms = Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
            if (canonAll)
            {
                CanonicalNaN(ref l0, ref g0, ref d0);
                CanonicalNaN(ref l1, ref g1, ref d1);
                CanonicalNaN(ref l2, ref g2, ref d2);
                CanonicalNaN(ref l3, ref g3, ref d3);
            }
            g0.StoreUnsafe(ref gx); g1.StoreUnsafe(ref gx, 4); g2.StoreUnsafe(ref gx, 8); g3.StoreUnsafe(ref gx, 12);
            if (hasGt) { d0.StoreUnsafe(ref gt); d1.StoreUnsafe(ref gt, 4); d2.StoreUnsafe(ref gt, 8); d3.StoreUnsafe(ref gt, 12); }
            if (hasLo) { l0.StoreUnsafe(ref lo); l1.StoreUnsafe(ref lo, 4); l2.StoreUnsafe(ref lo, 8); l3.StoreUnsafe(ref lo, 12); }
            return true;
        }

        /// <summary>s NaN, infinite or 0 can make a NaN on TermGrad's fast path too (0 inf).</summary>
        private static bool CanonAll(float s) => !(Math.Abs(s) <= float.MaxValue && s != 0.0f);
        private static bool CanonAll(double s) => !(Math.Abs(s) <= double.MaxValue && s != 0.0);

        /// <summary>
        /// Forward and backward for one chunk of float data (grad_f32 of kernels_avx2.c): per block of
        /// 16, two vectors of terms added in float and widened into 8 double lanes. The last 1..15
        /// elements go through stack buffers, in place of masked loads and stores: missing lanes hold
        /// x = 0 and t = 1 (t = 0 with logTarget), as the C tail, and give +0 terms.
        /// </summary>
        public static KlPartial Grad(ReadOnlySpan<float> x, ReadOnlySpan<float> t, bool logTarget, bool masked, float s,
                                     Span<float> lo, Span<float> gx, Span<float> gt)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements && gx.Length >= len);
            bool hasLo = !lo.IsEmpty, hasGt = !gt.IsEmpty;
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float tr = ref MemoryMarshal.GetReference(t);
            ref float lor = ref MemoryMarshal.GetReference(lo);
            ref float gxr = ref MemoryMarshal.GetReference(gx);
            ref float gtr = ref MemoryMarshal.GetReference(gt);
            Vector256<float> sv = Vector256.Create(s);
            bool canonAll = CanonAll(s);
            Vector256<double> acc0 = Vector256<double>.Zero, acc1 = acc0; // lanes 0-3, 4-7
            int i = 0;
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
            {
                if (!GradBlockFast(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, logTarget, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i),
                        out Vector256<float> l0, out Vector256<float> l1))
                {
                    l0 = GradVector(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, logTarget, masked, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i));
                    l1 = GradVector(ref Unsafe.Add(ref xr, i + 8), ref Unsafe.Add(ref tr, i + 8), sv, logTarget, masked, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i + 8), ref Unsafe.Add(ref gxr, i + 8), hasGt, ref Unsafe.Add(ref gtr, i + 8));
                }
                AddWidened(ref acc0, ref acc1, Avx.Add(l0, l1));
            }
            if (i < len) AddWidened(ref acc0, ref acc1, GradTail(x.Slice(i), t.Slice(i), sv, logTarget, masked, canonAll,
                hasLo ? lo.Slice(i) : default, gx.Slice(i), hasGt ? gt.Slice(i) : default));
            Span<double> acc = stackalloc double[CanonicalSum.LanesF32];
            acc0.CopyTo(acc);
            acc1.CopyTo(acc.Slice(4));
            return CanonicalSum.FoldF32Lanes(acc);
        }

        // The last 1..15 elements of a chunk, zero-padded to a block (t padded with 1 without logTarget).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> GradTail(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Vector256<float> s, bool logTarget, bool masked,
                                                 bool canonAll, Span<float> lo, Span<float> gx, Span<float> gt)
        {
            int r = x.Length;
            Span<float> buf = stackalloc float[5 * CanonicalSum.Block]; // x, t, lo, gx, gt
            buf.Clear();
            Span<float> bx = buf.Slice(0, 16), bt = buf.Slice(16, 16), blo = buf.Slice(32, 16), bgx = buf.Slice(48, 16), bgt = buf.Slice(64, 16);
            x.CopyTo(bx);
            if (!logTarget) bt.Fill(1.0f);
            t.CopyTo(bt);
            ref float bxr = ref MemoryMarshal.GetReference(bx);
            ref float btr = ref MemoryMarshal.GetReference(bt);
            ref float blor = ref MemoryMarshal.GetReference(blo);
            ref float bgxr = ref MemoryMarshal.GetReference(bgx);
            ref float bgtr = ref MemoryMarshal.GetReference(bgt);
            Vector256<float> l0 = GradVector(ref bxr, ref btr, s, logTarget, masked, canonAll, true, ref blor, ref bgxr, true, ref bgtr);
            // a tail of <= 8 has only +0 terms in the second half (C: a zero vector, not computed)
            Vector256<float> l1 = r > 8
                ? GradVector(ref Unsafe.Add(ref bxr, 8), ref Unsafe.Add(ref btr, 8), s, logTarget, masked, canonAll,
                             true, ref Unsafe.Add(ref blor, 8), ref Unsafe.Add(ref bgxr, 8), true, ref Unsafe.Add(ref bgtr, 8))
                : Vector256<float>.Zero;
            bgx.Slice(0, r).CopyTo(gx);
            if (!gt.IsEmpty) bgt.Slice(0, r).CopyTo(gt);
            if (!lo.IsEmpty) blo.Slice(0, r).CopyTo(lo);
            return Avx.Add(l0, l1);
        }

        /// <summary>
        /// Forward and backward for one chunk of double data (grad_f64 of kernels_avx2.c): per block
        /// of 16, four vectors of terms pre-added, then 4 compensated lanes. The tail as the float one.
        /// </summary>
        public static KlPartial Grad(ReadOnlySpan<double> x, ReadOnlySpan<double> t, bool logTarget, bool masked, double s,
                                     Span<double> lo, Span<double> gx, Span<double> gt)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements && gx.Length >= len);
            bool hasLo = !lo.IsEmpty, hasGt = !gt.IsEmpty;
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double tr = ref MemoryMarshal.GetReference(t);
            ref double lor = ref MemoryMarshal.GetReference(lo);
            ref double gxr = ref MemoryMarshal.GetReference(gx);
            ref double gtr = ref MemoryMarshal.GetReference(gt);
            Vector256<double> sv = Vector256.Create(s);
            bool canonAll = CanonAll(s);
            Vector256<double> sum = Vector256<double>.Zero, comp = sum;
            int i = 0;
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
            {
                if (!GradBlockFast(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, logTarget, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i),
                        out Vector256<double> terms))
                {
                    Vector256<double> l0 = GradVector(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, logTarget, masked, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i));
                    Vector256<double> l1 = GradVector(ref Unsafe.Add(ref xr, i + 4), ref Unsafe.Add(ref tr, i + 4), sv, logTarget, masked, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i + 4), ref Unsafe.Add(ref gxr, i + 4), hasGt, ref Unsafe.Add(ref gtr, i + 4));
                    Vector256<double> l2 = GradVector(ref Unsafe.Add(ref xr, i + 8), ref Unsafe.Add(ref tr, i + 8), sv, logTarget, masked, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i + 8), ref Unsafe.Add(ref gxr, i + 8), hasGt, ref Unsafe.Add(ref gtr, i + 8));
                    Vector256<double> l3 = GradVector(ref Unsafe.Add(ref xr, i + 12), ref Unsafe.Add(ref tr, i + 12), sv, logTarget, masked, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i + 12), ref Unsafe.Add(ref gxr, i + 12), hasGt, ref Unsafe.Add(ref gtr, i + 12));
                    terms = Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
                }
                TwoSum(ref sum, ref comp, terms);
            }
            if (i < len) TwoSum(ref sum, ref comp, GradTail(x.Slice(i), t.Slice(i), sv, logTarget, masked, canonAll,
                hasLo ? lo.Slice(i) : default, gx.Slice(i), hasGt ? gt.Slice(i) : default));
            Span<double> sums = stackalloc double[CanonicalSum.LanesF64];
            Span<double> comps = stackalloc double[CanonicalSum.LanesF64];
            sum.CopyTo(sums);
            comp.CopyTo(comps);
            return CanonicalSum.FoldLanes(sums, comps, CanonicalSum.LanesF64);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<double> GradTail(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Vector256<double> s, bool logTarget, bool masked,
                                                  bool canonAll, Span<double> lo, Span<double> gx, Span<double> gt)
        {
            int r = x.Length;
            Span<double> buf = stackalloc double[5 * CanonicalSum.Block]; // x, t, lo, gx, gt
            buf.Clear();
            Span<double> bx = buf.Slice(0, 16), bt = buf.Slice(16, 16), blo = buf.Slice(32, 16), bgx = buf.Slice(48, 16), bgt = buf.Slice(64, 16);
            x.CopyTo(bx);
            if (!logTarget) bt.Fill(1.0);
            t.CopyTo(bt);
            ref double bxr = ref MemoryMarshal.GetReference(bx);
            ref double btr = ref MemoryMarshal.GetReference(bt);
            ref double blor = ref MemoryMarshal.GetReference(blo);
            ref double bgxr = ref MemoryMarshal.GetReference(bgx);
            ref double bgtr = ref MemoryMarshal.GetReference(bgt);
            // quarters with no element left hold only +0 terms (C: zero vectors, not computed)
            Vector256<double> l0 = GradVector(ref bxr, ref btr, s, logTarget, masked, canonAll, true, ref blor, ref bgxr, true, ref bgtr);
            Vector256<double> l1 = r > 4 ? GradVector(ref Unsafe.Add(ref bxr, 4), ref Unsafe.Add(ref btr, 4), s, logTarget, masked, canonAll,
                true, ref Unsafe.Add(ref blor, 4), ref Unsafe.Add(ref bgxr, 4), true, ref Unsafe.Add(ref bgtr, 4)) : Vector256<double>.Zero;
            Vector256<double> l2 = r > 8 ? GradVector(ref Unsafe.Add(ref bxr, 8), ref Unsafe.Add(ref btr, 8), s, logTarget, masked, canonAll,
                true, ref Unsafe.Add(ref blor, 8), ref Unsafe.Add(ref bgxr, 8), true, ref Unsafe.Add(ref bgtr, 8)) : Vector256<double>.Zero;
            Vector256<double> l3 = r > 12 ? GradVector(ref Unsafe.Add(ref bxr, 12), ref Unsafe.Add(ref btr, 12), s, logTarget, masked, canonAll,
                true, ref Unsafe.Add(ref blor, 12), ref Unsafe.Add(ref bgxr, 12), true, ref Unsafe.Add(ref bgtr, 12)) : Vector256<double>.Zero;
            bgx.Slice(0, r).CopyTo(gx);
            if (!gt.IsEmpty) bgt.Slice(0, r).CopyTo(gt);
            if (!lo.IsEmpty) blo.Slice(0, r).CopyTo(lo);
            return Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
        }
    }
}
#endif
