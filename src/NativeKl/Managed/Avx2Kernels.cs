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
                Avx2Math.CanonicalNaN(Term(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i), logTarget, masked))
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
                Avx2Math.CanonicalNaN(Term(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i), logTarget, masked))
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

        /// <summary>The term and its gradients on 8 lanes (term_grad_ps): ScalarKernels.TermGrad lane by lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> TermGrad(Vector256<float> x, Vector256<float> t, Vector256<float> s, bool logTarget, bool masked,
                                                 out Vector256<float> dx, out Vector256<float> dt)
        {
            Vector256<float> sign = Vector256.Create(-0.0f);
            Vector256<float> l, gx, gt, zeroTarget;
            if (!logTarget)
            {
                Vector256<float> lt, q;
                if (Avx2Math.AllNormal(t))
                {
                    // no zero, subnormal or non-finite target: t / t = 1
                    lt = Avx2Math.LogNormal(t);
                    q = Vector256.Create(1.0f);
                    masked = false;
                    zeroTarget = Vector256<float>.Zero;
                }
                else
                {
                    zeroTarget = Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
                    lt = Avx.BlendVariable(Avx2Math.Log(t), t, zeroTarget);
                    q = Avx.Divide(t, t);
                }
                l = Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));                 // t lt - t x
                gx = Avx.Xor(Avx.Multiply(t, s), sign);                              // -(t s)
                gt = Avx.Multiply(Avx.Subtract(Avx.Add(lt, q), x), s);               // ((lt + t/t) - x) s
            }
            else
            {
                Vector256<float> e = Avx2Math.Exp(t), d = Avx.Subtract(t, x);
                l = Avx.Multiply(e, d);                                              // e (t - x)
                gx = Avx.Xor(Avx.Multiply(e, s), sign);                              // -(e s)
                gt = Avx.Multiply(Avx.Multiply(e, Avx.Add(d, Vector256.Create(1.0f))), s); // (e ((t - x) + 1)) s
                zeroTarget = masked
                    ? Avx.Compare(t, Vector256.Create(float.NegativeInfinity), FloatComparisonMode.OrderedEqualNonSignaling)
                    : Vector256<float>.Zero;
            }
            if (masked)
            {
                l = Avx.AndNot(zeroTarget, l);
                gx = Avx.AndNot(zeroTarget, gx);
                gt = Avx.AndNot(zeroTarget, gt);
            }
            dx = gx;
            dt = gt;
            return l;
        }

        /// <summary>The term and its gradients on 4 lanes (term_grad_pd).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> TermGrad(Vector256<double> x, Vector256<double> t, Vector256<double> s, bool logTarget, bool masked,
                                                  out Vector256<double> dx, out Vector256<double> dt)
        {
            Vector256<double> sign = Vector256.Create(-0.0);
            Vector256<double> l, gx, gt, zeroTarget;
            if (!logTarget)
            {
                Vector256<double> lt, q;
                if (Avx2Math.AllNormal(t))
                {
                    lt = Avx2Math.LogNormal(t);
                    q = Vector256.Create(1.0);
                    masked = false;
                    zeroTarget = Vector256<double>.Zero;
                }
                else
                {
                    zeroTarget = Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
                    lt = Avx.BlendVariable(Avx2Math.Log(t), t, zeroTarget);
                    q = Avx.Divide(t, t);
                }
                l = Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
                gx = Avx.Xor(Avx.Multiply(t, s), sign);
                gt = Avx.Multiply(Avx.Subtract(Avx.Add(lt, q), x), s);
            }
            else
            {
                Vector256<double> e = Avx2Math.Exp(t), d = Avx.Subtract(t, x);
                l = Avx.Multiply(e, d);
                gx = Avx.Xor(Avx.Multiply(e, s), sign);
                gt = Avx.Multiply(Avx.Multiply(e, Avx.Add(d, Vector256.Create(1.0))), s);
                zeroTarget = masked
                    ? Avx.Compare(t, Vector256.Create(double.NegativeInfinity), FloatComparisonMode.OrderedEqualNonSignaling)
                    : Vector256<double>.Zero;
            }
            if (masked)
            {
                l = Avx.AndNot(zeroTarget, l);
                gx = Avx.AndNot(zeroTarget, gx);
                gt = Avx.AndNot(zeroTarget, gt);
            }
            dx = gx;
            dt = gt;
            return l;
        }

        /// <summary>One vector of 8 at x, t (grad_vector_ps, full): stores gx (gt, lo where wanted), returns the terms.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> GradVector(ref float x, ref float t, Vector256<float> s, bool logTarget, bool masked,
                                                   bool hasLo, ref float lo, ref float gx, bool hasGt, ref float gt)
        {
            Vector256<float> l = TermGrad(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t), s, logTarget, masked,
                                          out Vector256<float> dx, out Vector256<float> dt);
            Avx2Math.CanonicalNaN(dx).StoreUnsafe(ref gx);
            if (hasGt) Avx2Math.CanonicalNaN(dt).StoreUnsafe(ref gt);
            if (hasLo) Avx2Math.CanonicalNaN(l).StoreUnsafe(ref lo);
            return l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> GradVector(ref double x, ref double t, Vector256<double> s, bool logTarget, bool masked,
                                                    bool hasLo, ref double lo, ref double gx, bool hasGt, ref double gt)
        {
            Vector256<double> l = TermGrad(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t), s, logTarget, masked,
                                           out Vector256<double> dx, out Vector256<double> dt);
            Avx2Math.CanonicalNaN(dx).StoreUnsafe(ref gx);
            if (hasGt) Avx2Math.CanonicalNaN(dt).StoreUnsafe(ref gt);
            if (hasLo) Avx2Math.CanonicalNaN(l).StoreUnsafe(ref lo);
            return l;
        }

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
            Vector256<double> acc0 = Vector256<double>.Zero, acc1 = acc0; // lanes 0-3, 4-7
            int i = 0;
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
            {
                Vector256<float> l0 = GradVector(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, logTarget, masked,
                    hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i));
                Vector256<float> l1 = GradVector(ref Unsafe.Add(ref xr, i + 8), ref Unsafe.Add(ref tr, i + 8), sv, logTarget, masked,
                    hasLo, ref Unsafe.Add(ref lor, i + 8), ref Unsafe.Add(ref gxr, i + 8), hasGt, ref Unsafe.Add(ref gtr, i + 8));
                AddWidened(ref acc0, ref acc1, Avx.Add(l0, l1));
            }
            if (i < len) AddWidened(ref acc0, ref acc1, GradTail(x.Slice(i), t.Slice(i), sv, logTarget, masked,
                hasLo ? lo.Slice(i) : default, gx.Slice(i), hasGt ? gt.Slice(i) : default));
            Span<double> acc = stackalloc double[CanonicalSum.LanesF32];
            acc0.CopyTo(acc);
            acc1.CopyTo(acc.Slice(4));
            return CanonicalSum.FoldF32Lanes(acc);
        }

        // The last 1..15 elements of a chunk, zero-padded to a block (t padded with 1 without logTarget).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> GradTail(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Vector256<float> s, bool logTarget, bool masked,
                                                 Span<float> lo, Span<float> gx, Span<float> gt)
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
            Vector256<float> l0 = GradVector(ref bxr, ref btr, s, logTarget, masked, true, ref blor, ref bgxr, true, ref bgtr);
            // a tail of <= 8 has only +0 terms in the second half (C: a zero vector, not computed)
            Vector256<float> l1 = r > 8
                ? GradVector(ref Unsafe.Add(ref bxr, 8), ref Unsafe.Add(ref btr, 8), s, logTarget, masked,
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
            Vector256<double> sum = Vector256<double>.Zero, comp = sum;
            int i = 0;
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
            {
                Vector256<double> l0 = GradVector(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, logTarget, masked,
                    hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i));
                Vector256<double> l1 = GradVector(ref Unsafe.Add(ref xr, i + 4), ref Unsafe.Add(ref tr, i + 4), sv, logTarget, masked,
                    hasLo, ref Unsafe.Add(ref lor, i + 4), ref Unsafe.Add(ref gxr, i + 4), hasGt, ref Unsafe.Add(ref gtr, i + 4));
                Vector256<double> l2 = GradVector(ref Unsafe.Add(ref xr, i + 8), ref Unsafe.Add(ref tr, i + 8), sv, logTarget, masked,
                    hasLo, ref Unsafe.Add(ref lor, i + 8), ref Unsafe.Add(ref gxr, i + 8), hasGt, ref Unsafe.Add(ref gtr, i + 8));
                Vector256<double> l3 = GradVector(ref Unsafe.Add(ref xr, i + 12), ref Unsafe.Add(ref tr, i + 12), sv, logTarget, masked,
                    hasLo, ref Unsafe.Add(ref lor, i + 12), ref Unsafe.Add(ref gxr, i + 12), hasGt, ref Unsafe.Add(ref gtr, i + 12));
                TwoSum(ref sum, ref comp, Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3)));
            }
            if (i < len) TwoSum(ref sum, ref comp, GradTail(x.Slice(i), t.Slice(i), sv, logTarget, masked,
                hasLo ? lo.Slice(i) : default, gx.Slice(i), hasGt ? gt.Slice(i) : default));
            Span<double> sums = stackalloc double[CanonicalSum.LanesF64];
            Span<double> comps = stackalloc double[CanonicalSum.LanesF64];
            sum.CopyTo(sums);
            comp.CopyTo(comps);
            return CanonicalSum.FoldLanes(sums, comps, CanonicalSum.LanesF64);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<double> GradTail(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Vector256<double> s, bool logTarget, bool masked,
                                                  Span<double> lo, Span<double> gx, Span<double> gt)
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
            Vector256<double> l0 = GradVector(ref bxr, ref btr, s, logTarget, masked, true, ref blor, ref bgxr, true, ref bgtr);
            Vector256<double> l1 = r > 4 ? GradVector(ref Unsafe.Add(ref bxr, 4), ref Unsafe.Add(ref btr, 4), s, logTarget, masked,
                true, ref Unsafe.Add(ref blor, 4), ref Unsafe.Add(ref bgxr, 4), true, ref Unsafe.Add(ref bgtr, 4)) : Vector256<double>.Zero;
            Vector256<double> l2 = r > 8 ? GradVector(ref Unsafe.Add(ref bxr, 8), ref Unsafe.Add(ref btr, 8), s, logTarget, masked,
                true, ref Unsafe.Add(ref blor, 8), ref Unsafe.Add(ref bgxr, 8), true, ref Unsafe.Add(ref bgtr, 8)) : Vector256<double>.Zero;
            Vector256<double> l3 = r > 12 ? GradVector(ref Unsafe.Add(ref bxr, 12), ref Unsafe.Add(ref btr, 12), s, logTarget, masked,
                true, ref Unsafe.Add(ref blor, 12), ref Unsafe.Add(ref bgxr, 12), true, ref Unsafe.Add(ref bgtr, 12)) : Vector256<double>.Zero;
            bgx.Slice(0, r).CopyTo(gx);
            if (!gt.IsEmpty) bgt.Slice(0, r).CopyTo(gt);
            if (!lo.IsEmpty) blo.Slice(0, r).CopyTo(lo);
            return Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
        }
    }
}
#endif
