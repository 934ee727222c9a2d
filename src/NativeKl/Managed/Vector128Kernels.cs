// Vector128Kernels.cs - the kernels on portable 128-bit vectors (AdvSimd on
// arm64, FMA on x64), generic over the op (IElementwiseOp: KlTerm): the
// loops of Avx2Kernels on 4 floats / 2 doubles, with the same canonical
// blocks and lanes (CanonicalSum), so they give the bits of the 256-bit and
// scalar kernels:
//   float:  16 elements = v0..v3 (4 each); lane j (0..7) += (double)(L[j] + L[j + 8]):
//           v0 + v2 are lanes 0..3, v1 + v3 lanes 4..7, widened into four double pairs.
//   double: 16 elements = v0..v7 (2 each); lane j (0..3) += (L[j] + L[j + 4]) + (L[j + 8] + L[j + 12]):
//           lanes 0..1 take (v0 + v2) + (v4 + v6), lanes 2..3 (v1 + v3) + (v5 + v7), TwoSum per lane.
// A tail goes through a zero-filled block (the op's GradTailTarget for a
// gradient's targets): missing lanes give +0 terms, as the scalar tail.

#if NET8_0_OR_GREATER
using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NativeKl.Managed
{
    internal static class Vector128Kernels
    {
        // ---------------------------------------------------------- pointwise

        // Each vector is loaded before its output is stored: exact aliasing is fine.
        public static void Pointwise<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> t, Span<float> output)
            where TOp : struct, IElementwiseOp
        {
            int n = x.Length, i = 0;
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float tr = ref MemoryMarshal.GetReference(t);
            ref float outr = ref MemoryMarshal.GetReference(output);
            for (; i + 4 <= n; i += 4)
                Vector128Math.CanonicalNaN(default(TOp).Term(Vector128.LoadUnsafe(ref xr, (nuint)i), Vector128.LoadUnsafe(ref tr, (nuint)i)))
                    .StoreUnsafe(ref outr, (nuint)i);
            if (i == n) return;
            Span<float> buf = stackalloc float[8]; // x in [0, 4), t in [4, 8)
            buf.Clear();
            x.Slice(i).CopyTo(buf);
            t.Slice(i).CopyTo(buf.Slice(4));
            ref float br = ref MemoryMarshal.GetReference(buf);
            Vector128Math.CanonicalNaN(default(TOp).Term(Vector128.LoadUnsafe(ref br), Vector128.LoadUnsafe(ref br, 4))).StoreUnsafe(ref br);
            buf.Slice(0, n - i).CopyTo(output.Slice(i));
        }

        public static void Pointwise<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> t, Span<double> output)
            where TOp : struct, IElementwiseOp
        {
            int n = x.Length, i = 0;
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double tr = ref MemoryMarshal.GetReference(t);
            ref double outr = ref MemoryMarshal.GetReference(output);
            for (; i + 2 <= n; i += 2)
                Vector128Math.CanonicalNaN(default(TOp).Term(Vector128.LoadUnsafe(ref xr, (nuint)i), Vector128.LoadUnsafe(ref tr, (nuint)i)))
                    .StoreUnsafe(ref outr, (nuint)i);
            if (i == n) return;
            Span<double> buf = stackalloc double[4]; // x in [0, 2), t in [2, 4)
            buf.Clear();
            x.Slice(i).CopyTo(buf);
            t.Slice(i).CopyTo(buf.Slice(2));
            ref double br = ref MemoryMarshal.GetReference(buf);
            Vector128Math.CanonicalNaN(default(TOp).Term(Vector128.LoadUnsafe(ref br), Vector128.LoadUnsafe(ref br, 2))).StoreUnsafe(ref br);
            buf.Slice(0, n - i).CopyTo(output.Slice(i));
        }

        // ------------------------------------------------------- float lanes

        /// <summary>The 8 double lanes of float data, as four pairs.</summary>
        private struct LanesF32
        {
            public Vector128<double> A0, A1, A2, A3; // lanes 0-1, 2-3, 4-5, 6-7

            /// <summary>Adds a block's terms: lanes 0..3 take v0 + v2, lanes 4..7 v1 + v3 (float adds), widened.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Add(Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3)
            {
                (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(v0 + v2);
                A0 += lo;
                A1 += hi;
                (lo, hi) = Vector128.Widen(v1 + v3);
                A2 += lo;
                A3 += hi;
            }

            public KlPartial Fold()
            {
                Span<double> acc = stackalloc double[CanonicalSum.LanesF32];
                A0.CopyTo(acc);
                A1.CopyTo(acc.Slice(2));
                A2.CopyTo(acc.Slice(4));
                A3.CopyTo(acc.Slice(6));
                return CanonicalSum.FoldF32Lanes(acc);
            }
        }

        /// <summary>The 4 compensated lanes of double data, as two pairs.</summary>
        private struct LanesF64
        {
            public Vector128<double> S0, C0, S1, C1; // lanes 0-1, 2-3: sums and compensations

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Add(Vector128<double> v0, Vector128<double> v1, Vector128<double> v2, Vector128<double> v3,
                            Vector128<double> v4, Vector128<double> v5, Vector128<double> v6, Vector128<double> v7)
            {
                TwoSum(ref S0, ref C0, (v0 + v2) + (v4 + v6));
                TwoSum(ref S1, ref C1, (v1 + v3) + (v5 + v7));
            }

            /// <summary>CanonicalSum.TwoSum on 2 lanes: s += v, c += the rounding error.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void TwoSum(ref Vector128<double> s, ref Vector128<double> c, Vector128<double> v)
            {
                Vector128<double> sum = s + v;
                Vector128<double> vv = sum - s;
                Vector128<double> err = (s - (sum - vv)) + (v - vv);
                s = sum;
                c += err;
            }

            public KlPartial Fold()
            {
                Span<double> sum = stackalloc double[CanonicalSum.LanesF64];
                Span<double> comp = stackalloc double[CanonicalSum.LanesF64];
                S0.CopyTo(sum);
                S1.CopyTo(sum.Slice(2));
                C0.CopyTo(comp);
                C1.CopyTo(comp.Slice(2));
                return CanonicalSum.FoldLanes(sum, comp, CanonicalSum.LanesF64);
            }
        }

        // -------------------------------------------------------------- chunks

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<float> TermAt<TOp>(ref float x, ref float t, int i) where TOp : struct, IElementwiseOp =>
            default(TOp).Term(Vector128.LoadUnsafe(ref x, (nuint)i), Vector128.LoadUnsafe(ref t, (nuint)i));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<double> TermAt<TOp>(ref double x, ref double t, int i) where TOp : struct, IElementwiseOp =>
            default(TOp).Term(Vector128.LoadUnsafe(ref x, (nuint)i), Vector128.LoadUnsafe(ref t, (nuint)i));

        public static KlPartial Chunk<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> t) where TOp : struct, IElementwiseOp
        {
            int len = x.Length, i = 0;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float tr = ref MemoryMarshal.GetReference(t);
            var lanes = new LanesF32();
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
                lanes.Add(TermAt<TOp>(ref xr, ref tr, i), TermAt<TOp>(ref xr, ref tr, i + 4),
                          TermAt<TOp>(ref xr, ref tr, i + 8), TermAt<TOp>(ref xr, ref tr, i + 12));
            if (i < len)
            {
                Span<float> buf = stackalloc float[32]; // x in [0, 16), t in [16, 32)
                buf.Clear();
                x.Slice(i).CopyTo(buf);
                t.Slice(i).CopyTo(buf.Slice(16));
                ref float bx = ref MemoryMarshal.GetReference(buf);
                ref float bt = ref Unsafe.Add(ref bx, 16);
                lanes.Add(TermAt<TOp>(ref bx, ref bt, 0), TermAt<TOp>(ref bx, ref bt, 4),
                          TermAt<TOp>(ref bx, ref bt, 8), TermAt<TOp>(ref bx, ref bt, 12));
            }
            return lanes.Fold();
        }

        public static KlPartial Chunk<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> t) where TOp : struct, IElementwiseOp
        {
            int len = x.Length, i = 0;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double tr = ref MemoryMarshal.GetReference(t);
            var lanes = new LanesF64();
            for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
                lanes.Add(TermAt<TOp>(ref xr, ref tr, i), TermAt<TOp>(ref xr, ref tr, i + 2),
                          TermAt<TOp>(ref xr, ref tr, i + 4), TermAt<TOp>(ref xr, ref tr, i + 6),
                          TermAt<TOp>(ref xr, ref tr, i + 8), TermAt<TOp>(ref xr, ref tr, i + 10),
                          TermAt<TOp>(ref xr, ref tr, i + 12), TermAt<TOp>(ref xr, ref tr, i + 14));
            if (i < len)
            {
                Span<double> buf = stackalloc double[32];
                buf.Clear();
                x.Slice(i).CopyTo(buf);
                t.Slice(i).CopyTo(buf.Slice(16));
                ref double bx = ref MemoryMarshal.GetReference(buf);
                ref double bt = ref Unsafe.Add(ref bx, 16);
                lanes.Add(TermAt<TOp>(ref bx, ref bt, 0), TermAt<TOp>(ref bx, ref bt, 2),
                          TermAt<TOp>(ref bx, ref bt, 4), TermAt<TOp>(ref bx, ref bt, 6),
                          TermAt<TOp>(ref bx, ref bt, 8), TermAt<TOp>(ref bx, ref bt, 10),
                          TermAt<TOp>(ref bx, ref bt, 12), TermAt<TOp>(ref bx, ref bt, 14));
            }
            return lanes.Fold();
        }

        // ------------------------------------------------- forward and backward

        /// <summary>One vector at offset i: stores gx (gt, lo where wanted), returns the terms.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<float> GradAt<TOp>(ref float x, ref float t, Vector128<float> s, int i,
                                                    bool hasLo, ref float lo, ref float gx, bool hasGt, ref float gt)
            where TOp : struct, IElementwiseOp
        {
            Vector128<float> l = default(TOp).TermGrad(Vector128.LoadUnsafe(ref x, (nuint)i), Vector128.LoadUnsafe(ref t, (nuint)i), s,
                                                       out Vector128<float> lc, out Vector128<float> dx, out Vector128<float> dt);
            dx.StoreUnsafe(ref gx, (nuint)i);
            if (hasGt) dt.StoreUnsafe(ref gt, (nuint)i);
            if (hasLo) lc.StoreUnsafe(ref lo, (nuint)i);
            return l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<double> GradAt<TOp>(ref double x, ref double t, Vector128<double> s, int i,
                                                     bool hasLo, ref double lo, ref double gx, bool hasGt, ref double gt)
            where TOp : struct, IElementwiseOp
        {
            Vector128<double> l = default(TOp).TermGrad(Vector128.LoadUnsafe(ref x, (nuint)i), Vector128.LoadUnsafe(ref t, (nuint)i), s,
                                                        out Vector128<double> lc, out Vector128<double> dx, out Vector128<double> dt);
            dx.StoreUnsafe(ref gx, (nuint)i);
            if (hasGt) dt.StoreUnsafe(ref gt, (nuint)i);
            if (hasLo) lc.StoreUnsafe(ref lo, (nuint)i);
            return l;
        }

        /// <summary>Forward and backward for one chunk of float data (the blocks and lanes of Chunk).</summary>
        public static KlPartial Grad<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> t, float s, Span<float> lo, Span<float> gx, Span<float> gt)
            where TOp : struct, IElementwiseOp
        {
            int len = x.Length, i = 0;
            Debug.Assert(len <= ManagedKl.ChunkElements && gx.Length >= len);
            bool hasLo = !lo.IsEmpty, hasGt = !gt.IsEmpty;
            Vector128<float> sv = Vector128.Create(s);
            var lanes = new LanesF32();
            {
                ref float xr = ref MemoryMarshal.GetReference(x);
                ref float tr = ref MemoryMarshal.GetReference(t);
                ref float lor = ref MemoryMarshal.GetReference(lo);
                ref float gxr = ref MemoryMarshal.GetReference(gx);
                ref float gtr = ref MemoryMarshal.GetReference(gt);
                for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
                    lanes.Add(GradAt<TOp>(ref xr, ref tr, sv, i, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 4, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 8, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 12, hasLo, ref lor, ref gxr, hasGt, ref gtr));
            }
            if (i < len)
            {
                int r = len - i;
                Span<float> buf = stackalloc float[5 * CanonicalSum.Block]; // x, t, lo, gx, gt
                buf.Clear();
                Span<float> bt = buf.Slice(16, 16);
                x.Slice(i).CopyTo(buf);
                bt.Fill((float)default(TOp).GradTailTarget);
                t.Slice(i).CopyTo(bt);
                ref float bx = ref MemoryMarshal.GetReference(buf);
                ref float btr = ref Unsafe.Add(ref bx, 16);
                ref float blo = ref Unsafe.Add(ref bx, 32);
                ref float bgx = ref Unsafe.Add(ref bx, 48);
                ref float bgt = ref Unsafe.Add(ref bx, 64);
                lanes.Add(GradAt<TOp>(ref bx, ref btr, sv, 0, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 4, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 8, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 12, true, ref blo, ref bgx, true, ref bgt));
                buf.Slice(48, r).CopyTo(gx.Slice(i));
                if (hasGt) buf.Slice(64, r).CopyTo(gt.Slice(i));
                if (hasLo) buf.Slice(32, r).CopyTo(lo.Slice(i));
            }
            return lanes.Fold();
        }

        /// <summary>Forward and backward for one chunk of double data (the blocks and lanes of Chunk).</summary>
        public static KlPartial Grad<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> t, double s, Span<double> lo, Span<double> gx, Span<double> gt)
            where TOp : struct, IElementwiseOp
        {
            int len = x.Length, i = 0;
            Debug.Assert(len <= ManagedKl.ChunkElements && gx.Length >= len);
            bool hasLo = !lo.IsEmpty, hasGt = !gt.IsEmpty;
            Vector128<double> sv = Vector128.Create(s);
            var lanes = new LanesF64();
            {
                ref double xr = ref MemoryMarshal.GetReference(x);
                ref double tr = ref MemoryMarshal.GetReference(t);
                ref double lor = ref MemoryMarshal.GetReference(lo);
                ref double gxr = ref MemoryMarshal.GetReference(gx);
                ref double gtr = ref MemoryMarshal.GetReference(gt);
                for (; i + CanonicalSum.Block <= len; i += CanonicalSum.Block)
                    lanes.Add(GradAt<TOp>(ref xr, ref tr, sv, i, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 2, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 4, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 6, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 8, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 10, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 12, hasLo, ref lor, ref gxr, hasGt, ref gtr),
                              GradAt<TOp>(ref xr, ref tr, sv, i + 14, hasLo, ref lor, ref gxr, hasGt, ref gtr));
            }
            if (i < len)
            {
                int r = len - i;
                Span<double> buf = stackalloc double[5 * CanonicalSum.Block]; // x, t, lo, gx, gt
                buf.Clear();
                Span<double> bt = buf.Slice(16, 16);
                x.Slice(i).CopyTo(buf);
                bt.Fill(default(TOp).GradTailTarget);
                t.Slice(i).CopyTo(bt);
                ref double bx = ref MemoryMarshal.GetReference(buf);
                ref double btr = ref Unsafe.Add(ref bx, 16);
                ref double blo = ref Unsafe.Add(ref bx, 32);
                ref double bgx = ref Unsafe.Add(ref bx, 48);
                ref double bgt = ref Unsafe.Add(ref bx, 64);
                lanes.Add(GradAt<TOp>(ref bx, ref btr, sv, 0, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 2, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 4, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 6, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 8, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 10, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 12, true, ref blo, ref bgx, true, ref bgt),
                          GradAt<TOp>(ref bx, ref btr, sv, 14, true, ref blo, ref bgx, true, ref bgt));
                buf.Slice(48, r).CopyTo(gx.Slice(i));
                if (hasGt) buf.Slice(64, r).CopyTo(gt.Slice(i));
                if (hasLo) buf.Slice(32, r).CopyTo(lo.Slice(i));
            }
            return lanes.Fold();
        }
    }
}
#endif
