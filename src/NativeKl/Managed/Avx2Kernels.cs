// Avx2Kernels.cs - the AVX2+FMA kernels: native/src/x86/kernels_avx2.c.
//
// Generic over the op (IElementwiseOp: KlTerm), which gives the term on 8
// floats or 4 doubles; here are the loops, the same blocks and lanes as
// ScalarKernels (CanonicalSum), unaligned loads. Where C uses masked loads for a tail, this
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

        // ---------------------------------------------------------- pointwise

        // Each vector is loaded before its output is stored: exact aliasing is fine.
        public static void Pointwise<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Span<float> output) where TOp : struct, IElementwiseOp
        {
            int n = x.Length;
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float tr = ref MemoryMarshal.GetReference(t);
            ref float outr = ref MemoryMarshal.GetReference(output);
            int i = 0;
            for (; i + 8 <= n; i += 8)
                default(TOp).PointwiseTerm(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i))
                    .StoreUnsafe(ref outr, (nuint)i);
            if (i < n) PointwiseTail<TOp>(x.Slice(i), t.Slice(i), output.Slice(i));
        }

        // Fewer than 8 elements: through a zero-filled buffer, in place of masked loads/stores.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void PointwiseTail<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Span<float> output) where TOp : struct, IElementwiseOp
        {
            Span<float> buf = stackalloc float[16]; // x in [0, 8), t in [8, 16)
            buf.Clear();
            x.CopyTo(buf);
            t.CopyTo(buf.Slice(8));
            Vector256<float> l = default(TOp).Term(Vector256.Create((ReadOnlySpan<float>)buf.Slice(0, 8)),
                                      Vector256.Create((ReadOnlySpan<float>)buf.Slice(8, 8)));
            Avx2Math.CanonicalNaN(l).CopyTo(buf);
            buf.Slice(0, x.Length).CopyTo(output);
        }

        public static void Pointwise<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Span<double> output) where TOp : struct, IElementwiseOp
        {
            int n = x.Length;
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double tr = ref MemoryMarshal.GetReference(t);
            ref double outr = ref MemoryMarshal.GetReference(output);
            int i = 0;
            for (; i + 4 <= n; i += 4)
                default(TOp).PointwiseTerm(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i))
                    .StoreUnsafe(ref outr, (nuint)i);
            if (i < n) PointwiseTail<TOp>(x.Slice(i), t.Slice(i), output.Slice(i));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void PointwiseTail<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Span<double> output) where TOp : struct, IElementwiseOp
        {
            Span<double> buf = stackalloc double[8]; // x in [0, 4), t in [4, 8)
            buf.Clear();
            x.CopyTo(buf);
            t.CopyTo(buf.Slice(4));
            Vector256<double> l = default(TOp).Term(Vector256.Create((ReadOnlySpan<double>)buf.Slice(0, 4)),
                                       Vector256.Create((ReadOnlySpan<double>)buf.Slice(4, 4)));
            Avx2Math.CanonicalNaN(l).CopyTo(buf);
            buf.Slice(0, x.Length).CopyTo(output);
        }

        // -------------------------------------------------------------- chunks

        /// <summary>w[j] = L[j] + L[j + 8] (float) for the 16 elements at x, t.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Block<TOp>(ref float x, ref float t) where TOp : struct, IElementwiseOp =>
            Avx.Add(default(TOp).Term(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t)),
                    default(TOp).Term(Vector256.LoadUnsafe(ref x, 8), Vector256.LoadUnsafe(ref t, 8)));

        /// <summary>8 float pair sums widened to double: lanes [0..3] into lo, [4..7] into hi.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddWidened(ref Vector256<double> lo, ref Vector256<double> hi, Vector256<float> w)
        {
            lo = Avx.Add(lo, Avx.ConvertToVector256Double(w.GetLower()));                // lo += (double)w[0..3]
            hi = Avx.Add(hi, Avx.ConvertToVector256Double(Avx.ExtractVector128(w, 1)));  // hi += (double)w[4..7]
        }

        /// <summary>float data: per block of 16, pairs added in float, then 8 double lanes, plain sums.</summary>
        public static KlPartial Chunk<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> t) where TOp : struct, IElementwiseOp
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float tr = ref MemoryMarshal.GetReference(t);
            Vector256<double> lo = Vector256<double>.Zero, hi = lo; // lanes 0-3, 4-7
            int i = 0;
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
                AddWidened(ref lo, ref hi, Block<TOp>(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i)));
            if (i < len) AddWidened(ref lo, ref hi, TailBlock<TOp>(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), len - i));
            // CanonicalSum.FoldF32Lanes on the registers: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))
            Vector256<double> v = Avx.Add(lo, hi);                        // v[j] = a[j] + a[j + 4]
            Vector128<double> w = Sse2.Add(v.GetLower(), v.GetUpper());  // (v0 + v2, v1 + v3)
            return new KlPartial { Sum = w.ToScalar() + w.GetElement(1), Compensation = 0.0 };
        }

        /// <summary>
        /// Block's w for the last 1..15 elements of a chunk. The spec pads a short block with +0
        /// terms; here the missing lanes load x = 0 and the op's GradTailTarget (a positive normal t,
        /// so Term stays on its fast path, where zero padding took the slow one for every call with
        /// a tail) and their terms are then cleared to +0 by a lane mask: the same bits as the
        /// zero-padded block, for the lanes that exist too (Term is lane-wise). A half with no
        /// element is the +0 vector, added as the spec adds it (so a -0 term still becomes +0).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> TailBlock<TOp>(ref float x, ref float t, int r) where TOp : struct, IElementwiseOp
        {
            Debug.Assert(r > 0 && r < CanonicalSum.Block);
            Vector256<float> pad = Vector256.Create((float)default(TOp).GradTailTarget);
            Vector256<float> lanes = Vector256.Create(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f);
            Vector256<float> l0 = Half<TOp>(ref x, ref t, Math.Min(r, 8), pad, lanes);
            Vector256<float> l1 = r > 8 ? Half<TOp>(ref Unsafe.Add(ref x, 8), ref Unsafe.Add(ref t, 8), r - 8, pad, lanes)
                                        : Vector256<float>.Zero;
            return Avx.Add(l0, l1);
        }

        /// <summary>The terms of the first 1..8 elements at x, t: lanes from r on hold +0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Half<TOp>(ref float x, ref float t, int r, Vector256<float> pad, Vector256<float> lanes)
            where TOp : struct, IElementwiseOp
        {
            Vector256<float> xv, tv;
            Vector256<float> live = Avx.Compare(lanes, Vector256.Create((float)r), FloatComparisonMode.OrderedLessThanNonSignaling);
            if (r == 8)
            {
                xv = Vector256.LoadUnsafe(ref x);
                tv = Vector256.LoadUnsafe(ref t);
            }
            else
            {
                unsafe
                {
                    // masked loads: no read past the r elements (the spans may end at a page)
                    fixed (float* px = &x)
                    fixed (float* pt = &t)
                    {
                        xv = Avx.MaskLoad(px, live);
                        tv = Avx.BlendVariable(pad, Avx.MaskLoad(pt, live), live);
                    }
                }
            }
            return Avx.And(default(TOp).Term(xv, tv), live);
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
        private static Vector256<double> Block<TOp>(ref double x, ref double t) where TOp : struct, IElementwiseOp
        {
            Vector256<double> l0 = default(TOp).Term(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t));
            Vector256<double> l1 = default(TOp).Term(Vector256.LoadUnsafe(ref x, 4), Vector256.LoadUnsafe(ref t, 4));
            Vector256<double> l2 = default(TOp).Term(Vector256.LoadUnsafe(ref x, 8), Vector256.LoadUnsafe(ref t, 8));
            Vector256<double> l3 = default(TOp).Term(Vector256.LoadUnsafe(ref x, 12), Vector256.LoadUnsafe(ref t, 12));
            return Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
        }

        /// <summary>double data: per block of 16, quads pre-added, then 4 compensated lanes.</summary>
        public static KlPartial Chunk<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> t) where TOp : struct, IElementwiseOp
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double tr = ref MemoryMarshal.GetReference(t);
            Vector256<double> s = Vector256<double>.Zero, c = s;
            int i = 0;
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
                TwoSum(ref s, ref c, Block<TOp>(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i)));
            if (i < len) TwoSum(ref s, ref c, TailBlock<TOp>(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), len - i));
            Span<double> sum = stackalloc double[CanonicalSum.LanesF64];
            Span<double> comp = stackalloc double[CanonicalSum.LanesF64];
            s.CopyTo(sum);
            c.CopyTo(comp);
            return CanonicalSum.FoldLanes(sum, comp, CanonicalSum.LanesF64);
        }
        /// <summary>Block's w for the last 1..15 elements (as the float TailBlock): quarters with no element are +0 vectors.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> TailBlock<TOp>(ref double x, ref double t, int r) where TOp : struct, IElementwiseOp
        {
            Debug.Assert(r > 0 && r < CanonicalSum.Block);
            Vector256<double> pad = Vector256.Create(default(TOp).GradTailTarget);
            Vector256<double> lanes = Vector256.Create(0.0, 1.0, 2.0, 3.0);
            Vector256<double> l0 = Quarter<TOp>(ref x, ref t, Math.Min(r, 4), pad, lanes);
            Vector256<double> l1 = r > 4 ? Quarter<TOp>(ref Unsafe.Add(ref x, 4), ref Unsafe.Add(ref t, 4), Math.Min(r - 4, 4), pad, lanes)
                                         : Vector256<double>.Zero;
            Vector256<double> l2 = r > 8 ? Quarter<TOp>(ref Unsafe.Add(ref x, 8), ref Unsafe.Add(ref t, 8), Math.Min(r - 8, 4), pad, lanes)
                                         : Vector256<double>.Zero;
            Vector256<double> l3 = r > 12 ? Quarter<TOp>(ref Unsafe.Add(ref x, 12), ref Unsafe.Add(ref t, 12), r - 12, pad, lanes)
                                          : Vector256<double>.Zero;
            return Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> Quarter<TOp>(ref double x, ref double t, int r, Vector256<double> pad, Vector256<double> lanes)
            where TOp : struct, IElementwiseOp
        {
            Vector256<double> xv, tv;
            Vector256<double> live = Avx.Compare(lanes, Vector256.Create((double)r), FloatComparisonMode.OrderedLessThanNonSignaling);
            if (r == 4)
            {
                xv = Vector256.LoadUnsafe(ref x);
                tv = Vector256.LoadUnsafe(ref t);
            }
            else
            {
                unsafe
                {
                    fixed (double* px = &x)
                    fixed (double* pt = &t)
                    {
                        xv = Avx.MaskLoad(px, live);
                        tv = Avx.BlendVariable(pad, Avx.MaskLoad(pt, live), live);
                    }
                }
            }
            return Avx.And(default(TOp).Term(xv, tv), live);
        }

        // ------------------------------------------------- forward and backward


        /// <summary>One vector of 8 at x, t (grad_vector_ps, full): stores gx (gt, lo where wanted), returns the terms.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> GradVector<TOp>(ref float x, ref float t, Vector256<float> s, bool canonAll,
                                                   bool hasLo, ref float lo, ref float gx, bool hasGt, ref float gt) where TOp : struct, IElementwiseOp
        {
            Vector256<float> l = default(TOp).TermGrad(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t), s, canonAll,
                                          out Vector256<float> lc, out Vector256<float> dx, out Vector256<float> dt);
            dx.StoreUnsafe(ref gx);
            if (hasGt) dt.StoreUnsafe(ref gt);
            if (hasLo) lc.StoreUnsafe(ref lo);
            return l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> GradVector<TOp>(ref double x, ref double t, Vector256<double> s, bool canonAll,
                                                    bool hasLo, ref double lo, ref double gx, bool hasGt, ref double gt) where TOp : struct, IElementwiseOp
        {
            Vector256<double> l = default(TOp).TermGrad(Vector256.LoadUnsafe(ref x), Vector256.LoadUnsafe(ref t), s, canonAll,
                                           out Vector256<double> lc, out Vector256<double> dx, out Vector256<double> dt);
            dx.StoreUnsafe(ref gx);
            if (hasGt) dt.StoreUnsafe(ref gt);
            if (hasLo) lc.StoreUnsafe(ref lo);
            return l;
        }

        /// <summary>s NaN, infinite or 0 can make a NaN on TermGrad's fast path too (0 inf).</summary>
        private static bool CanonAll(float s) => !(Math.Abs(s) <= float.MaxValue && s != 0.0f);
        private static bool CanonAll(double s) => !(Math.Abs(s) <= double.MaxValue && s != 0.0);

        /// <summary>
        /// Forward and backward for one chunk of float data (grad_f32 of kernels_avx2.c): per block of
        /// 16, two vectors of terms added in float and widened into 8 double lanes. The last 1..15
        /// elements go through stack buffers, in place of masked loads and stores: missing lanes hold
        /// x = 0 and the op's GradTailTarget, as the C tail, and give +0 terms.
        /// </summary>
        public static KlPartial Grad<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> t, float s,
                                     Span<float> lo, Span<float> gx, Span<float> gt) where TOp : struct, IElementwiseOp
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
                if (!default(TOp).GradBlockFast(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i),
                        out Vector256<float> l0, out Vector256<float> l1))
                {
                    l0 = GradVector<TOp>(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i));
                    l1 = GradVector<TOp>(ref Unsafe.Add(ref xr, i + 8), ref Unsafe.Add(ref tr, i + 8), sv, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i + 8), ref Unsafe.Add(ref gxr, i + 8), hasGt, ref Unsafe.Add(ref gtr, i + 8));
                }
                AddWidened(ref acc0, ref acc1, Avx.Add(l0, l1));
            }
            if (i < len) AddWidened(ref acc0, ref acc1, GradTail<TOp>(x.Slice(i), t.Slice(i), sv, canonAll,
                hasLo ? lo.Slice(i) : default, gx.Slice(i), hasGt ? gt.Slice(i) : default));
            Span<double> acc = stackalloc double[CanonicalSum.LanesF32];
            acc0.CopyTo(acc);
            acc1.CopyTo(acc.Slice(4));
            return CanonicalSum.FoldF32Lanes(acc);
        }

        // The last 1..15 elements of a chunk, zero-padded to a block (t padded with the op's GradTailTarget).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> GradTail<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Vector256<float> s,
                                                 bool canonAll, Span<float> lo, Span<float> gx, Span<float> gt) where TOp : struct, IElementwiseOp
        {
            int r = x.Length;
            Span<float> buf = stackalloc float[5 * CanonicalSum.Block]; // x, t, lo, gx, gt
            buf.Clear();
            Span<float> bx = buf.Slice(0, 16), bt = buf.Slice(16, 16), blo = buf.Slice(32, 16), bgx = buf.Slice(48, 16), bgt = buf.Slice(64, 16);
            x.CopyTo(bx);
            bt.Fill((float)default(TOp).GradTailTarget);
            t.CopyTo(bt);
            ref float bxr = ref MemoryMarshal.GetReference(bx);
            ref float btr = ref MemoryMarshal.GetReference(bt);
            ref float blor = ref MemoryMarshal.GetReference(blo);
            ref float bgxr = ref MemoryMarshal.GetReference(bgx);
            ref float bgtr = ref MemoryMarshal.GetReference(bgt);
            Vector256<float> l0 = GradVector<TOp>(ref bxr, ref btr, s, canonAll, true, ref blor, ref bgxr, true, ref bgtr);
            // a tail of <= 8 has only +0 terms in the second half (C: a zero vector, not computed)
            Vector256<float> l1 = r > 8
                ? GradVector<TOp>(ref Unsafe.Add(ref bxr, 8), ref Unsafe.Add(ref btr, 8), s, canonAll,
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
        public static KlPartial Grad<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> t, double s,
                                     Span<double> lo, Span<double> gx, Span<double> gt) where TOp : struct, IElementwiseOp
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
                if (!default(TOp).GradBlockFast(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i),
                        out Vector256<double> terms))
                {
                    Vector256<double> l0 = GradVector<TOp>(ref Unsafe.Add(ref xr, i), ref Unsafe.Add(ref tr, i), sv, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i), ref Unsafe.Add(ref gxr, i), hasGt, ref Unsafe.Add(ref gtr, i));
                    Vector256<double> l1 = GradVector<TOp>(ref Unsafe.Add(ref xr, i + 4), ref Unsafe.Add(ref tr, i + 4), sv, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i + 4), ref Unsafe.Add(ref gxr, i + 4), hasGt, ref Unsafe.Add(ref gtr, i + 4));
                    Vector256<double> l2 = GradVector<TOp>(ref Unsafe.Add(ref xr, i + 8), ref Unsafe.Add(ref tr, i + 8), sv, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i + 8), ref Unsafe.Add(ref gxr, i + 8), hasGt, ref Unsafe.Add(ref gtr, i + 8));
                    Vector256<double> l3 = GradVector<TOp>(ref Unsafe.Add(ref xr, i + 12), ref Unsafe.Add(ref tr, i + 12), sv, canonAll,
                        hasLo, ref Unsafe.Add(ref lor, i + 12), ref Unsafe.Add(ref gxr, i + 12), hasGt, ref Unsafe.Add(ref gtr, i + 12));
                    terms = Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
                }
                TwoSum(ref sum, ref comp, terms);
            }
            if (i < len) TwoSum(ref sum, ref comp, GradTail<TOp>(x.Slice(i), t.Slice(i), sv, canonAll,
                hasLo ? lo.Slice(i) : default, gx.Slice(i), hasGt ? gt.Slice(i) : default));
            Span<double> sums = stackalloc double[CanonicalSum.LanesF64];
            Span<double> comps = stackalloc double[CanonicalSum.LanesF64];
            sum.CopyTo(sums);
            comp.CopyTo(comps);
            return CanonicalSum.FoldLanes(sums, comps, CanonicalSum.LanesF64);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<double> GradTail<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Vector256<double> s,
                                                  bool canonAll, Span<double> lo, Span<double> gx, Span<double> gt) where TOp : struct, IElementwiseOp
        {
            int r = x.Length;
            Span<double> buf = stackalloc double[5 * CanonicalSum.Block]; // x, t, lo, gx, gt
            buf.Clear();
            Span<double> bx = buf.Slice(0, 16), bt = buf.Slice(16, 16), blo = buf.Slice(32, 16), bgx = buf.Slice(48, 16), bgt = buf.Slice(64, 16);
            x.CopyTo(bx);
            bt.Fill(default(TOp).GradTailTarget);
            t.CopyTo(bt);
            ref double bxr = ref MemoryMarshal.GetReference(bx);
            ref double btr = ref MemoryMarshal.GetReference(bt);
            ref double blor = ref MemoryMarshal.GetReference(blo);
            ref double bgxr = ref MemoryMarshal.GetReference(bgx);
            ref double bgtr = ref MemoryMarshal.GetReference(bgt);
            // quarters with no element left hold only +0 terms (C: zero vectors, not computed)
            Vector256<double> l0 = GradVector<TOp>(ref bxr, ref btr, s, canonAll, true, ref blor, ref bgxr, true, ref bgtr);
            Vector256<double> l1 = r > 4 ? GradVector<TOp>(ref Unsafe.Add(ref bxr, 4), ref Unsafe.Add(ref btr, 4), s, canonAll,
                true, ref Unsafe.Add(ref blor, 4), ref Unsafe.Add(ref bgxr, 4), true, ref Unsafe.Add(ref bgtr, 4)) : Vector256<double>.Zero;
            Vector256<double> l2 = r > 8 ? GradVector<TOp>(ref Unsafe.Add(ref bxr, 8), ref Unsafe.Add(ref btr, 8), s, canonAll,
                true, ref Unsafe.Add(ref blor, 8), ref Unsafe.Add(ref bgxr, 8), true, ref Unsafe.Add(ref bgtr, 8)) : Vector256<double>.Zero;
            Vector256<double> l3 = r > 12 ? GradVector<TOp>(ref Unsafe.Add(ref bxr, 12), ref Unsafe.Add(ref btr, 12), s, canonAll,
                true, ref Unsafe.Add(ref blor, 12), ref Unsafe.Add(ref bgxr, 12), true, ref Unsafe.Add(ref bgtr, 12)) : Vector256<double>.Zero;
            bgx.Slice(0, r).CopyTo(gx);
            if (!gt.IsEmpty) bgt.Slice(0, r).CopyTo(gt);
            if (!lo.IsEmpty) blo.Slice(0, r).CopyTo(lo);
            return Avx.Add(Avx.Add(l0, l1), Avx.Add(l2, l3));
        }
    }
}
#endif
