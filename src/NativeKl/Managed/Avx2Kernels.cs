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
                Term(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i), logTarget, masked)
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
            l.CopyTo(buf);
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
                Term(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref tr, (nuint)i), logTarget, masked)
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
            l.CopyTo(buf);
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
    }
}
#endif
