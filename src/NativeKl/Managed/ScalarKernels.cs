// ScalarKernels.cs - the kernels one element at a time: native/src/kernels_scalar.c.
// Generic over the element type (TF: F32Ops, F64Ops) and the op (TOp: KlTerm),
// which gives the term; here are the loops, the canonical blocks and lanes
// (CanonicalSum) and the NaN fix-up. This is the managed path wherever no
// vector kernels run (KlIsa.Scalar, CPUs without them, netstandard2.0), and
// the specification the vector kernels match.

using System;
using System.Diagnostics;

namespace NativeKl.Managed
{
    internal static class ScalarKernels
    {
        // Element i is read before out[i] is written: exact aliasing is fine.
        public static void Pointwise<T, TF, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> t, Span<T> output)
            where T : unmanaged where TF : struct, IFloatOps<T> where TOp : struct, IElementwiseOp
        {
            TF f = default;
            for (int i = 0; i < x.Length; i++) output[i] = f.CanonicalNaN(default(TOp).Term<T, TF>(x[i], t[i]));
        }

        /// <summary>The partial of one chunk: per block of 16, the terms into the type's lanes
        /// (<see cref="IFloatOps{T}.AddBlock"/>); missing terms of a short last block are +0.</summary>
        public static KlPartial Chunk<T, TF, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> t)
            where T : unmanaged where TF : struct, IFloatOps<T> where TOp : struct, IElementwiseOp
        {
            TF f = default;
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements);
            Span<double> sum = stackalloc double[CanonicalSum.LanesF32];
            Span<double> comp = stackalloc double[CanonicalSum.LanesF64];
            Span<T> l = stackalloc T[CanonicalSum.Block];
            sum.Clear();
            comp.Clear();
            for (int i = 0; i < len; i += CanonicalSum.Block)
            {
                for (int j = 0; j < CanonicalSum.Block; j++)
                    l[j] = i + j < len ? default(TOp).Term<T, TF>(x[i + j], t[i + j]) : f.Zero;
                f.AddBlock(sum, comp, l);
            }
            return f.Fold(sum, comp);
        }

        /// <summary>
        /// Forward and backward for one chunk (grad_f32/_f64 of kernels_scalar.c): writes gx (and gt,
        /// and the terms into lo, where those are not empty) and returns the terms' partial, summed
        /// in the blocks and lanes of <see cref="Chunk{T, TF, TOp}"/>.
        /// </summary>
        public static KlPartial Grad<T, TF, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> t, T s, Span<T> lo, Span<T> gx, Span<T> gt)
            where T : unmanaged where TF : struct, IFloatOps<T> where TOp : struct, IElementwiseOp
        {
            TF f = default;
            int len = x.Length;
            Debug.Assert(len <= ManagedKl.ChunkElements && gx.Length >= len);
            bool hasLo = !lo.IsEmpty, hasGt = !gt.IsEmpty;
            Span<double> sum = stackalloc double[CanonicalSum.LanesF32];
            Span<double> comp = stackalloc double[CanonicalSum.LanesF64];
            Span<T> l = stackalloc T[CanonicalSum.Block];
            sum.Clear();
            comp.Clear();
            for (int i = 0; i < len; i += CanonicalSum.Block)
            {
                for (int j = 0; j < CanonicalSum.Block; j++)
                {
                    if (i + j >= len) { l[j] = f.Zero; continue; }
                    l[j] = default(TOp).TermGrad<T, TF>(x[i + j], t[i + j], s, out T dx, out T dt);
                    gx[i + j] = f.CanonicalNaN(dx);
                    if (hasGt) gt[i + j] = f.CanonicalNaN(dt);
                    if (hasLo) lo[i + j] = f.CanonicalNaN(l[j]);
                }
                f.AddBlock(sum, comp, l);
            }
            return f.Fold(sum, comp);
        }
    }
}
