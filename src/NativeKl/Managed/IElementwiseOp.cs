// IElementwiseOp.cs - what an elementwise loss op gives the kernels: its term
// (and gradients) one element at a time, generic over the element type, and
// on vectors for each SIMD path. The loops, the canonical sum, the chunking,
// the tails and the NaN fix-up are the kernels' (ScalarKernels, Avx2Kernels),
// written once for every op; an op is one file (KlTerm.cs).
// Vector256 members serve Avx2Kernels, Vector128 members Vector128Kernels.
//
// Ops are empty structs: a kernel generic over TOp calls default(TOp).Term,
// which the JIT specialises and inlines, as TensorPrimitives' operators.

#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
#endif

namespace NativeKl.Managed
{
    internal interface IElementwiseOp
    {
        /// <summary>The pointwise term, the scalar specification (kl_terms_scalar.h).</summary>
        T Term<T, TF>(T x, T t) where T : unmanaged where TF : struct, IFloatOps<T>;

        /// <summary>The term and its gradients dx = ∂L/∂x · s and dt = ∂L/∂t · s (nkl_term_grad).</summary>
        T TermGrad<T, TF>(T x, T t, T s, out T dx, out T dt) where T : unmanaged where TF : struct, IFloatOps<T>;

        /// <summary>The target that fills the missing lanes of a gradient tail (their results are dropped; C pads the same).</summary>
        double GradTailTarget { get; }

#if NET8_0_OR_GREATER
        /// <summary>Term on 8 lanes, lane by lane the scalar term's bits (a NaN as the hardware makes it).</summary>
        Vector256<float> Term(Vector256<float> x, Vector256<float> t);
        Vector256<double> Term(Vector256<double> x, Vector256<double> t);

        /// <summary>Term for the pointwise output: a NaN as the library's.</summary>
        Vector256<float> PointwiseTerm(Vector256<float> x, Vector256<float> t);
        Vector256<double> PointwiseTerm(Vector256<double> x, Vector256<double> t);

        /// <summary>
        /// The term and its gradients: returns the terms (for the sum); lc, dx and dt are what is
        /// stored, a NaN as the library's where canonAll or the lanes took a slow path.
        /// </summary>
        Vector256<float> TermGrad(Vector256<float> x, Vector256<float> t, Vector256<float> s, bool canonAll,
                                  out Vector256<float> lc, out Vector256<float> dx, out Vector256<float> dt);
        Vector256<double> TermGrad(Vector256<double> x, Vector256<double> t, Vector256<double> s, bool canonAll,
                                   out Vector256<double> lc, out Vector256<double> dx, out Vector256<double> dt);

        /// <summary>
        /// A whole block of 16 with one check where the op has a fast path: stores gx (gt, lo where
        /// wanted) and returns true with the two vectors of terms, or returns false having stored nothing.
        /// </summary>
        bool GradBlockFast(ref float x, ref float t, Vector256<float> s, bool canonAll, bool hasLo, ref float lo,
                           ref float gx, bool hasGt, ref float gt, out Vector256<float> l0, out Vector256<float> l1);

        /// <summary>The same for double data: returns the block's terms pre-added ((l0 + l1) + (l2 + l3)).</summary>
        bool GradBlockFast(ref double x, ref double t, Vector256<double> s, bool canonAll, bool hasLo, ref double lo,
                           ref double gx, bool hasGt, ref double gt, out Vector256<double> terms);

        /// <summary>Term on 4 floats / 2 doubles (Vector128Kernels: AdvSimd on arm64, FMA on x64), the scalar term's bits.</summary>
        Vector128<float> Term(Vector128<float> x, Vector128<float> t);
        Vector128<double> Term(Vector128<double> x, Vector128<double> t);

        /// <summary>The term and its gradients on 128-bit vectors; lc, dx and dt (what is stored) a NaN as the library's.</summary>
        Vector128<float> TermGrad(Vector128<float> x, Vector128<float> t, Vector128<float> s,
                                  out Vector128<float> lc, out Vector128<float> dx, out Vector128<float> dt);
        Vector128<double> TermGrad(Vector128<double> x, Vector128<double> t, Vector128<double> s,
                                   out Vector128<double> lc, out Vector128<double> dx, out Vector128<double> dt);
#endif
    }
}
