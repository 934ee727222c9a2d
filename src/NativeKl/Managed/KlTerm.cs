// KlTerm.cs - the KL divergence op: PyTorch's F.kl_div term and its
// gradients, for the four semantics (TSemantics), as the scalar specification
// (native/src/kl_terms_scalar.h), on AVX2+FMA vectors (the term parts of
// native/src/x86/kernels_avx2.c, intrinsic for intrinsic) and on portable
// 128-bit vectors (AdvSimd on arm64, FMA on x64). The loops, sums,
// tails and NaN fix-ups around it are the kernels' (ScalarKernels, Avx2Kernels).
//
// Adding an elementwise op means a file like this one: the kernels take any
// IElementwiseOp.

using System.Runtime.CompilerServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
#endif

namespace NativeKl.Managed
{
    /// <summary>The KL op's kernels for a call's semantics: the one place the flags become a type.</summary>
    internal static class KlTerm
    {
        internal static ManagedKernels<T> Kernels<T>(bool logTarget, bool masked) where T : unmanaged =>
            KlSemantics.Of(logTarget, masked) switch
            {
                KlSemantics.Probability => ManagedKernels<T, KlTerm<ProbabilityTarget>>.Instance,
                KlSemantics.MaskedProbability => ManagedKernels<T, KlTerm<MaskedProbabilityTarget>>.Instance,
                KlSemantics.LogProbability => ManagedKernels<T, KlTerm<LogProbabilityTarget>>.Instance,
                _ => ManagedKernels<T, KlTerm<MaskedLogProbabilityTarget>>.Instance,
            };
    }

    internal readonly struct KlTerm<TSemantics> : IElementwiseOp where TSemantics : struct, IKlSemantics
    {
        // Constants once the JIT specialises KlTerm for a semantics struct.
        private static bool LogTarget
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => default(TSemantics).LogTarget;
        }

        private static bool Masked
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => default(TSemantics).Masked;
        }

        /// <summary>
        /// The pointwise KL term.
        ///   probabilities:     L = xlogy(t, t) - t x, as fma(t, log t, -(t x)) with
        ///                      log t replaced by t where t == +-0, so that t log t = t t = +0
        ///                      (xlogy(0, y) = +0, even for t = -0); then t == 0 gives
        ///                      +0 - (0 x): +0 for finite x, NaN for x = +-inf or NaN (as PyTorch).
        ///   log-probabilities: L = exp(t) (t - x).
        ///   masked:            L = +0 where t == 0 (t == -inf with log-probabilities).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Term<T, TF>(T x, T t) where T : unmanaged where TF : struct, IFloatOps<T>
        {
            TF f = default;
            T l;
            if (!LogTarget)
            {
                T lt = f.IsZero(t) ? t : f.Log(t);
                l = f.Fma(t, lt, f.Negate(f.Multiply(t, x)));
                if (Masked && f.IsZero(t)) l = f.Zero;
            }
            else
            {
                l = f.Multiply(f.Exp(t), f.Subtract(t, x));
                if (Masked && f.IsNegativeInfinity(t)) l = f.Zero;
            }
            return l;
        }

        /// <summary>
        /// The term and its gradients (nkl_term_grad_f32/_f64): l has the bits of <see cref="Term{T, TF}"/>;
        ///   probabilities:     dx = -(t s), dt = ((log t + t/t) - x) s  (t/t: NaN at t = 0 and +-inf, as autograd);
        ///   log-probabilities: dx = -(exp(t) s), dt = (exp(t) ((t - x) + 1)) s;
        ///   masked:            l = dx = dt = +0 where t == 0 (t == -inf with log-probabilities).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T TermGrad<T, TF>(T x, T t, T s, out T dx, out T dt) where T : unmanaged where TF : struct, IFloatOps<T>
        {
            TF f = default;
            T l, gx, gt;
            if (!LogTarget)
            {
                T lt = f.IsZero(t) ? t : f.Log(t);
                l = f.Fma(t, lt, f.Negate(f.Multiply(t, x)));
                gx = f.Negate(f.Multiply(t, s));
                gt = f.Multiply(f.Subtract(f.Add(lt, f.Divide(t, t)), x), s);
                if (Masked && f.IsZero(t)) l = gx = gt = f.Zero;
            }
            else
            {
                T e = f.Exp(t), d = f.Subtract(t, x);
                l = f.Multiply(e, d);
                gx = f.Negate(f.Multiply(e, s));
                gt = f.Multiply(f.Multiply(e, f.Add(d, f.One)), s);
                if (Masked && f.IsNegativeInfinity(t)) l = gx = gt = f.Zero;
            }
            dx = gx;
            dt = gt;
            return l;
        }

        /// <summary>x = 0 and t = 1 (t = 0 with log-probabilities) give +0 terms and finite gradients, as the C tail pads.</summary>
        public double GradTailTarget
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => LogTarget ? 0.0 : 1.0;
        }

#if NET8_0_OR_GREATER
        // ------------------------------------------------------- AVX2 vectors

        private const FloatComparisonMode Unordered = FloatComparisonMode.UnorderedNonSignaling;

        /// <summary>Lanes where t is zero, negative, subnormal, infinite or NaN.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private Vector256<float> TermSlow(Vector256<float> x, Vector256<float> t)
        {
            // lt = t == 0 ? t : log t;  l = t lt - (t x), one rounding
            Vector256<float> t0 = Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
            Vector256<float> lt = Avx.BlendVariable(Avx2Math.Log(t), t, t0);
            Vector256<float> l = Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
            return Masked ? Avx.AndNot(t0, l) : l; // +0 where t == 0
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Vector256<double> TermSlow(Vector256<double> x, Vector256<double> t)
        {
            Vector256<double> t0 = Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
            Vector256<double> lt = Avx.BlendVariable(Avx2Math.Log(t), t, t0);
            Vector256<double> l = Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
            return Masked ? Avx.AndNot(t0, l) : l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Term(Vector256<float> x, Vector256<float> t)
        {
            if (!LogTarget)
            {
                // all t positive normal: no zero to mask, log needs no fix-up
                if (Avx2Math.AllNormal(t))
                    return Fma.MultiplySubtract(t, Avx2Math.LogNormal(t), Avx.Multiply(t, x));
                return TermSlow(x, t);
            }
            // l = exp(t) (t - x)
            Vector256<float> l = Avx.Multiply(Avx2Math.Exp(t), Avx.Subtract(t, x));
            if (Masked) // +0 where t == -inf
                l = Avx.AndNot(Avx.Compare(t, Vector256.Create(float.NegativeInfinity),
                                           FloatComparisonMode.OrderedEqualNonSignaling), l);
            return l;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<double> Term(Vector256<double> x, Vector256<double> t)
        {
            if (!LogTarget)
            {
                if (Avx2Math.AllNormal(t))
                    return Fma.MultiplySubtract(t, Avx2Math.LogNormal(t), Avx.Multiply(t, x));
                return TermSlow(x, t);
            }
            Vector256<double> l = Avx.Multiply(Avx2Math.Exp(t), Avx.Subtract(t, x));
            if (Masked)
                l = Avx.AndNot(Avx.Compare(t, Vector256.Create(double.NegativeInfinity),
                                           FloatComparisonMode.OrderedEqualNonSignaling), l);
            return l;
        }

        /// <summary>Term's other lanes for the pointwise output: the term as Term computes it, a NaN as the library's.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private Vector256<float> PointwiseTermSlow(Vector256<float> x, Vector256<float> t) =>
            Avx2Math.CanonicalNaN(LogTarget ? Term(x, t) : TermSlow(x, t));

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Vector256<double> PointwiseTermSlow(Vector256<double> x, Vector256<double> t) =>
            Avx2Math.CanonicalNaN(LogTarget ? Term(x, t) : TermSlow(x, t));

        /// <summary>
        /// Term for the pointwise output, a NaN as the library's. Term's fast path with no NaN input
        /// (targets positive and normal, or in Exp's fast range with LogTarget) gives no NaN, so the
        /// fix-up goes with the slow path only: a check of the result per vector cost 17 % of the
        /// double pointwise call (the JIT keeps the result in memory across the slow path's call).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> PointwiseTerm(Vector256<float> x, Vector256<float> t)
        {
            Vector256<float> xNaN = Avx.Compare(x, x, FloatComparisonMode.UnorderedNonSignaling);
            if (!LogTarget)
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
            return PointwiseTermSlow(x, t);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<double> PointwiseTerm(Vector256<double> x, Vector256<double> t)
        {
            Vector256<double> xNaN = Avx.Compare(x, x, FloatComparisonMode.UnorderedNonSignaling);
            if (!LogTarget)
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
            return PointwiseTermSlow(x, t);
        }


        /// <summary>Probabilities (xlogy_grads_ps): l = t lt - t x, gx = -(t s), gt = ((lt + q) - x) s, q = t / t.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<float> XlogyGrads(Vector256<float> x, Vector256<float> t, Vector256<float> s, Vector256<float> lt,
                                                   Vector256<float> q, out Vector256<float> gx, out Vector256<float> gt)
        {
            gx = Avx.Xor(Avx.Multiply(t, s), Vector256.Create(-0.0f));
            gt = Avx.Multiply(Avx.Subtract(Avx.Add(lt, q), x), s);
            return Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
        }

        /// <summary>Log-probabilities (exp_grads_ps): l = e (t - x), gx = -(e s), gt = (e ((t - x) + 1)) s.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<float> ExpGrads(Vector256<float> x, Vector256<float> t, Vector256<float> s, Vector256<float> e,
                                                 out Vector256<float> gx, out Vector256<float> gt)
        {
            Vector256<float> d = Avx.Subtract(t, x);
            gx = Avx.Xor(Avx.Multiply(e, s), Vector256.Create(-0.0f));
            gt = Avx.Multiply(Avx.Multiply(e, Avx.Add(d, Vector256.Create(1.0f))), s);
            return Avx.Multiply(e, d);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<double> XlogyGrads(Vector256<double> x, Vector256<double> t, Vector256<double> s, Vector256<double> lt,
                                                    Vector256<double> q, out Vector256<double> gx, out Vector256<double> gt)
        {
            gx = Avx.Xor(Avx.Multiply(t, s), Vector256.Create(-0.0));
            gt = Avx.Multiply(Avx.Subtract(Avx.Add(lt, q), x), s);
            return Fma.MultiplySubtract(t, lt, Avx.Multiply(t, x));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<double> ExpGrads(Vector256<double> x, Vector256<double> t, Vector256<double> s, Vector256<double> e,
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
        /// The fast path (targets positive and normal, or in [-86, 88] with LogTarget, and no NaN
        /// input) can give no NaN while s is finite and not 0, so it skips the NaN fix-up unless
        /// canonAll; the other path always has it.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> TermGrad(Vector256<float> x, Vector256<float> t, Vector256<float> s, bool canonAll,
                                                  out Vector256<float> lc, out Vector256<float> dx, out Vector256<float> dt)
        {
            Vector256<float> l, xNaN = Avx.Compare(x, x, Unordered);
            if (!LogTarget)
            {
                Vector256<float> odd = Avx.Or(Avx2Math.NotNormal(t), xNaN);
                if (Avx.TestZ(odd, odd))
                {
                    // no zero, subnormal or non-finite target: t / t = 1, nothing masked
                    l = XlogyGrads(x, t, s, Avx2Math.LogNormal(t), Vector256.Create(1.0f), out dx, out dt);
                    lc = l;
                    if (canonAll) Avx2Math.CanonicalNaN(ref lc, ref dx, ref dt);
                }
                else
                {
                    Vector256<float> zeroTarget = Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
                    l = XlogyGrads(x, t, s, Avx.BlendVariable(Avx2Math.Log(t), t, zeroTarget), Avx.Divide(t, t), out dx, out dt);
                    if (Masked)
                    {
                        l = Avx.AndNot(zeroTarget, l);
                        dx = Avx.AndNot(zeroTarget, dx);
                        dt = Avx.AndNot(zeroTarget, dt);
                    }
                    lc = l;
                    Avx2Math.CanonicalNaN(ref lc, ref dx, ref dt);
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
                    if (canonAll) Avx2Math.CanonicalNaN(ref lc, ref dx, ref dt);
                }
                else
                {
                    l = ExpGrads(x, t, s, Avx2Math.Exp(t), out dx, out dt);
                    if (Masked)
                    {
                        Vector256<float> zeroTarget = Avx.Compare(t, Vector256.Create(float.NegativeInfinity),
                                                                  FloatComparisonMode.OrderedEqualNonSignaling);
                        l = Avx.AndNot(zeroTarget, l);
                        dx = Avx.AndNot(zeroTarget, dx);
                        dt = Avx.AndNot(zeroTarget, dt);
                    }
                    lc = l;
                    Avx2Math.CanonicalNaN(ref lc, ref dx, ref dt);
                }
            }
            return l;
        }

        /// <summary>The term and its gradients on 4 lanes (term_grad_pd; see the float overload).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<double> TermGrad(Vector256<double> x, Vector256<double> t, Vector256<double> s, bool canonAll,
                                                   out Vector256<double> lc, out Vector256<double> dx, out Vector256<double> dt)
        {
            Vector256<double> l, xNaN = Avx.Compare(x, x, Unordered);
            if (!LogTarget)
            {
                Vector256<double> odd = Avx.Or(Avx2Math.NotNormal(t), xNaN);
                if (Avx.TestZ(odd, odd))
                {
                    l = XlogyGrads(x, t, s, Avx2Math.LogNormal(t), Vector256.Create(1.0), out dx, out dt);
                    lc = l;
                    if (canonAll) Avx2Math.CanonicalNaN(ref lc, ref dx, ref dt);
                }
                else
                {
                    Vector256<double> zeroTarget = Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.OrderedEqualNonSignaling);
                    l = XlogyGrads(x, t, s, Avx.BlendVariable(Avx2Math.Log(t), t, zeroTarget), Avx.Divide(t, t), out dx, out dt);
                    if (Masked)
                    {
                        l = Avx.AndNot(zeroTarget, l);
                        dx = Avx.AndNot(zeroTarget, dx);
                        dt = Avx.AndNot(zeroTarget, dt);
                    }
                    lc = l;
                    Avx2Math.CanonicalNaN(ref lc, ref dx, ref dt);
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
                    if (canonAll) Avx2Math.CanonicalNaN(ref lc, ref dx, ref dt);
                }
                else
                {
                    l = ExpGrads(x, t, s, Avx2Math.Exp(t), out dx, out dt);
                    if (Masked)
                    {
                        Vector256<double> zeroTarget = Avx.Compare(t, Vector256.Create(double.NegativeInfinity),
                                                                   FloatComparisonMode.OrderedEqualNonSignaling);
                        l = Avx.AndNot(zeroTarget, l);
                        dx = Avx.AndNot(zeroTarget, dx);
                        dt = Avx.AndNot(zeroTarget, dt);
                    }
                    lc = l;
                    Avx2Math.CanonicalNaN(ref lc, ref dx, ref dt);
                }
            }
            return l;
        }


        /// <summary>
        /// A whole block of 16 on TermGrad's fast path, one check for its two vectors
        /// (grad_block_fast_ps): every target positive and normal (|t| &lt; 86 with LogTarget) and no
        /// NaN input, so with an ordinary s no result is NaN. Stores the block and returns true, or
        /// returns false having stored nothing.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool GradBlockFast(ref float x, ref float t, Vector256<float> s, bool canonAll,
                                          bool hasLo, ref float lo, ref float gx, bool hasGt, ref float gt,
                                          out Vector256<float> l0, out Vector256<float> l1)
        {
            Vector256<float> x0 = Vector256.LoadUnsafe(ref x), x1 = Vector256.LoadUnsafe(ref x, 8);
            Vector256<float> t0 = Vector256.LoadUnsafe(ref t), t1 = Vector256.LoadUnsafe(ref t, 8);
            Vector256<float> odd = Avx.Compare(x0, x1, Unordered), g0, g1, d0, d1;
            if (!LogTarget)
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
                Avx2Math.CanonicalNaN(ref c0, ref g0, ref d0);
                Avx2Math.CanonicalNaN(ref c1, ref g1, ref d1);
            }
            g0.StoreUnsafe(ref gx);
            g1.StoreUnsafe(ref gx, 8);
            if (hasGt) { d0.StoreUnsafe(ref gt); d1.StoreUnsafe(ref gt, 8); }
            if (hasLo) { c0.StoreUnsafe(ref lo); c1.StoreUnsafe(ref lo, 8); }
            return true;
        }

        /// <summary>GradBlockFast for double data: four vectors (exp_fast_range4_pd's |t| &lt; 700); returns the terms pre-added.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool GradBlockFast(ref double x, ref double t, Vector256<double> s, bool canonAll,
                                          bool hasLo, ref double lo, ref double gx, bool hasGt, ref double gt,
                                          out Vector256<double> terms)
        {
            Vector256<double> x0 = Vector256.LoadUnsafe(ref x), x1 = Vector256.LoadUnsafe(ref x, 4);
            Vector256<double> x2 = Vector256.LoadUnsafe(ref x, 8), x3 = Vector256.LoadUnsafe(ref x, 12);
            Vector256<double> t0 = Vector256.LoadUnsafe(ref t), t1 = Vector256.LoadUnsafe(ref t, 4);
            Vector256<double> t2 = Vector256.LoadUnsafe(ref t, 8), t3 = Vector256.LoadUnsafe(ref t, 12);
            Vector256<double> odd = Avx.Or(Avx.Compare(x0, x1, Unordered), Avx.Compare(x2, x3, Unordered));
            Vector256<double> l0, l1, l2, l3, g0, g1, g2, g3, d0, d1, d2, d3;
            if (!LogTarget)
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
                Avx2Math.CanonicalNaN(ref l0, ref g0, ref d0);
                Avx2Math.CanonicalNaN(ref l1, ref g1, ref d1);
                Avx2Math.CanonicalNaN(ref l2, ref g2, ref d2);
                Avx2Math.CanonicalNaN(ref l3, ref g3, ref d3);
            }
            g0.StoreUnsafe(ref gx); g1.StoreUnsafe(ref gx, 4); g2.StoreUnsafe(ref gx, 8); g3.StoreUnsafe(ref gx, 12);
            if (hasGt) { d0.StoreUnsafe(ref gt); d1.StoreUnsafe(ref gt, 4); d2.StoreUnsafe(ref gt, 8); d3.StoreUnsafe(ref gt, 12); }
            if (hasLo) { l0.StoreUnsafe(ref lo); l1.StoreUnsafe(ref lo, 4); l2.StoreUnsafe(ref lo, 8); l3.StoreUnsafe(ref lo, 12); }
            return true;
        }
        // ----------------------------------------------- 128-bit vectors (portable)

        // The general paths only (the AVX2 fast paths are shortcuts to the same bits).
        public Vector128<float> Term(Vector128<float> x, Vector128<float> t)
        {
            if (!LogTarget)
            {
                // lt = t == 0 ? t : log t;  l = t lt - (t x), one rounding
                Vector128<float> t0 = Vector128.Equals(t, Vector128<float>.Zero);
                Vector128<float> lt = Vector128.ConditionalSelect(t0, t, Vector128Math.Log(t));
                Vector128<float> l = Vector128Math.Fms(t, lt, t * x);
                return Masked ? Vector128Math.ZeroWhere(t0, l) : l; // +0 where t == 0
            }
            Vector128<float> e = Vector128Math.Exp(t) * (t - x); // exp(t) (t - x)
            return Masked ? Vector128Math.ZeroWhere(Vector128.Equals(t, Vector128.Create(float.NegativeInfinity)), e) : e;
        }

        public Vector128<double> Term(Vector128<double> x, Vector128<double> t)
        {
            if (!LogTarget)
            {
                Vector128<double> t0 = Vector128.Equals(t, Vector128<double>.Zero);
                Vector128<double> lt = Vector128.ConditionalSelect(t0, t, Vector128Math.Log(t));
                Vector128<double> l = Vector128Math.Fms(t, lt, t * x);
                return Masked ? Vector128Math.ZeroWhere(t0, l) : l;
            }
            Vector128<double> e = Vector128Math.Exp(t) * (t - x);
            return Masked ? Vector128Math.ZeroWhere(Vector128.Equals(t, Vector128.Create(double.NegativeInfinity)), e) : e;
        }

        public Vector128<float> TermGrad(Vector128<float> x, Vector128<float> t, Vector128<float> s,
                                         out Vector128<float> lc, out Vector128<float> dx, out Vector128<float> dt)
        {
            Vector128<float> l, zeroTarget;
            if (!LogTarget)
            {
                // l = t lt - t x, dx = -(t s), dt = ((lt + t / t) - x) s
                zeroTarget = Vector128.Equals(t, Vector128<float>.Zero);
                Vector128<float> lt = Vector128.ConditionalSelect(zeroTarget, t, Vector128Math.Log(t));
                dx = Vector128Math.Negate(t * s);
                dt = ((lt + t / t) - x) * s;
                l = Vector128Math.Fms(t, lt, t * x);
            }
            else
            {
                // l = e (t - x), dx = -(e s), dt = (e ((t - x) + 1)) s
                zeroTarget = Vector128.Equals(t, Vector128.Create(float.NegativeInfinity));
                Vector128<float> e = Vector128Math.Exp(t), d = t - x;
                dx = Vector128Math.Negate(e * s);
                dt = (e * (d + Vector128.Create(1.0f))) * s;
                l = e * d;
            }
            if (Masked)
            {
                l = Vector128Math.ZeroWhere(zeroTarget, l);
                dx = Vector128Math.ZeroWhere(zeroTarget, dx);
                dt = Vector128Math.ZeroWhere(zeroTarget, dt);
            }
            lc = l;
            Vector128Math.CanonicalNaN(ref lc, ref dx, ref dt);
            return l;
        }

        public Vector128<double> TermGrad(Vector128<double> x, Vector128<double> t, Vector128<double> s,
                                          out Vector128<double> lc, out Vector128<double> dx, out Vector128<double> dt)
        {
            Vector128<double> l, zeroTarget;
            if (!LogTarget)
            {
                zeroTarget = Vector128.Equals(t, Vector128<double>.Zero);
                Vector128<double> lt = Vector128.ConditionalSelect(zeroTarget, t, Vector128Math.Log(t));
                dx = Vector128Math.Negate(t * s);
                dt = ((lt + t / t) - x) * s;
                l = Vector128Math.Fms(t, lt, t * x);
            }
            else
            {
                zeroTarget = Vector128.Equals(t, Vector128.Create(double.NegativeInfinity));
                Vector128<double> e = Vector128Math.Exp(t), d = t - x;
                dx = Vector128Math.Negate(e * s);
                dt = (e * (d + Vector128.Create(1.0))) * s;
                l = e * d;
            }
            if (Masked)
            {
                l = Vector128Math.ZeroWhere(zeroTarget, l);
                dx = Vector128Math.ZeroWhere(zeroTarget, dx);
                dt = Vector128Math.ZeroWhere(zeroTarget, dt);
            }
            lc = l;
            Vector128Math.CanonicalNaN(ref lc, ref dx, ref dt);
            return l;
        }
#endif
    }
}
