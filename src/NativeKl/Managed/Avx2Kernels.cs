// Avx2Kernels.cs - the AVX2+FMA kernels: native/src/x86/kernels_avx2.c.
//
// The same term as ScalarKernels.Term, the same lanes (element i adds into
// lane i % 16), unaligned loads. Where C uses masked loads for a tail, this
// copies the tail into a zero-filled stack buffer: the missing lanes hold
// +0 either way, so they compute a +0 term and add +0, as the scalar tail.

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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Term(Vector256<float> x, Vector256<float> t, bool logTarget, bool masked)
        {
            Vector256<float> l;
            if (!logTarget)
            {
                // lt = t == 0 ? 0 : log t;  l = t lt - (t x), one rounding
                Vector256<float> t0 = Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
                Vector256<float> lt = Avx.AndNot(t0, Avx2Math.Log(t));
                l = Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
                if (masked) l = Avx.AndNot(t0, l); // +0 where t == 0
            }
            else
            {
                // l = exp(t) (t - x)
                l = Avx.Multiply(Avx2Math.Exp(t), Avx.Subtract(t, x));
                if (masked) // +0 where t == -inf
                    l = Avx.AndNot(Avx.Compare(t, Vector256.Create(float.NegativeInfinity),
                                               FloatComparisonMode.OrderedEqualNonSignaling), l);
            }
            return l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> Term(Vector256<double> x, Vector256<double> t, bool logTarget, bool masked)
        {
            Vector256<double> l;
            if (!logTarget)
            {
                // lt = t == 0 ? 0 : log t;  l = t lt - (t x), one rounding
                Vector256<double> t0 = Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
                Vector256<double> lt = Avx.AndNot(t0, Avx2Math.Log(t));
                l = Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
                if (masked) l = Avx.AndNot(t0, l); // +0 where t == 0
            }
            else
            {
                // l = exp(t) (t - x)
                l = Avx.Multiply(Avx2Math.Exp(t), Avx.Subtract(t, x));
                if (masked) // +0 where t == -inf
                    l = Avx.AndNot(Avx.Compare(t, Vector256.Create(double.NegativeInfinity),
                                               FloatComparisonMode.OrderedEqualNonSignaling), l);
            }
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

        /// <summary>8 float terms widened to double: lanes [0..3] into lo, [4..7] into hi.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddWidened(ref Vector256<double> lo, ref Vector256<double> hi, Vector256<float> l)
        {
            lo = Avx.Add(lo, Avx.ConvertToVector256Double(l.GetLower()));                // lo += (double)l[0..3]
            hi = Avx.Add(hi, Avx.ConvertToVector256Double(Avx.ExtractVector128(l, 1)));  // hi += (double)l[4..7]
        }

        /// <summary>float data: 16 double lanes in four vectors, plain sums.</summary>
        public static KlPartial Chunk(ReadOnlySpan<float> x, ReadOnlySpan<float> t, bool logTarget, bool masked)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float tr = ref MemoryMarshal.GetReference(t);
            // lanes 0-3, 4-7, 8-11, 12-15
            Vector256<double> a0 = Vector256<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + 16 <= len; i += 16)
            {
                AddWidened(ref a0, ref a1, Term(Vector256.LoadUnsafe(ref xr, (nuint)i),
                                                Vector256.LoadUnsafe(ref tr, (nuint)i), logTarget, masked));
                AddWidened(ref a2, ref a3, Term(Vector256.LoadUnsafe(ref xr, (nuint)(i + 8)),
                                                Vector256.LoadUnsafe(ref tr, (nuint)(i + 8)), logTarget, masked));
            }
            Span<double> acc = stackalloc double[CanonicalSum.Lanes];
            if (i < len)
            {
                // The tail of 1..15 elements, zero-filled to 16: x in [0, 16), t in [16, 32).
                Span<float> buf = stackalloc float[32];
                buf.Clear();
                x.Slice(i).CopyTo(buf);
                t.Slice(i).CopyTo(buf.Slice(16));
                ref float br = ref MemoryMarshal.GetReference(buf);
                AddWidened(ref a0, ref a1, Term(Vector256.LoadUnsafe(ref br, 0),
                                                Vector256.LoadUnsafe(ref br, 16), logTarget, masked));
                AddWidened(ref a2, ref a3, Term(Vector256.LoadUnsafe(ref br, 8),
                                                Vector256.LoadUnsafe(ref br, 24), logTarget, masked));
            }
            a0.CopyTo(acc);
            a1.CopyTo(acc.Slice(4));
            a2.CopyTo(acc.Slice(8));
            a3.CopyTo(acc.Slice(12));
            return CanonicalSum.FoldLanes(acc, ReadOnlySpan<double>.Empty);
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

        /// <summary>double data: 16 compensated lanes in four vector pairs.</summary>
        public static KlPartial Chunk(ReadOnlySpan<double> x, ReadOnlySpan<double> t, bool logTarget, bool masked)
        {
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            ref double xr = ref MemoryMarshal.GetReference(x);
            ref double tr = ref MemoryMarshal.GetReference(t);
            Vector256<double> s0 = Vector256<double>.Zero, s1 = s0, s2 = s0, s3 = s0;
            Vector256<double> c0 = s0, c1 = s0, c2 = s0, c3 = s0;
            int i = 0;
            for (; i + 16 <= len; i += 16)
            {
                TwoSum(ref s0, ref c0, Term(Vector256.LoadUnsafe(ref xr, (nuint)i),
                                            Vector256.LoadUnsafe(ref tr, (nuint)i), logTarget, masked));
                TwoSum(ref s1, ref c1, Term(Vector256.LoadUnsafe(ref xr, (nuint)(i + 4)),
                                            Vector256.LoadUnsafe(ref tr, (nuint)(i + 4)), logTarget, masked));
                TwoSum(ref s2, ref c2, Term(Vector256.LoadUnsafe(ref xr, (nuint)(i + 8)),
                                            Vector256.LoadUnsafe(ref tr, (nuint)(i + 8)), logTarget, masked));
                TwoSum(ref s3, ref c3, Term(Vector256.LoadUnsafe(ref xr, (nuint)(i + 12)),
                                            Vector256.LoadUnsafe(ref tr, (nuint)(i + 12)), logTarget, masked));
            }
            Span<double> sum = stackalloc double[CanonicalSum.Lanes];
            Span<double> comp = stackalloc double[CanonicalSum.Lanes];
            if (i < len)
            {
                // The tail of 1..15 elements, zero-filled to 16: x in [0, 16), t in [16, 32).
                Span<double> buf = stackalloc double[32];
                buf.Clear();
                x.Slice(i).CopyTo(buf);
                t.Slice(i).CopyTo(buf.Slice(16));
                ref double br = ref MemoryMarshal.GetReference(buf);
                TwoSum(ref s0, ref c0, Term(Vector256.LoadUnsafe(ref br, 0), Vector256.LoadUnsafe(ref br, 16), logTarget, masked));
                TwoSum(ref s1, ref c1, Term(Vector256.LoadUnsafe(ref br, 4), Vector256.LoadUnsafe(ref br, 20), logTarget, masked));
                TwoSum(ref s2, ref c2, Term(Vector256.LoadUnsafe(ref br, 8), Vector256.LoadUnsafe(ref br, 24), logTarget, masked));
                TwoSum(ref s3, ref c3, Term(Vector256.LoadUnsafe(ref br, 12), Vector256.LoadUnsafe(ref br, 28), logTarget, masked));
            }
            s0.CopyTo(sum);
            s1.CopyTo(sum.Slice(4));
            s2.CopyTo(sum.Slice(8));
            s3.CopyTo(sum.Slice(12));
            c0.CopyTo(comp);
            c1.CopyTo(comp.Slice(4));
            c2.CopyTo(comp.Slice(8));
            c3.CopyTo(comp.Slice(12));
            return CanonicalSum.FoldLanes(sum, comp);
        }
    }
}
#endif
