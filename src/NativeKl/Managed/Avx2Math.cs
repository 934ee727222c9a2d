// Avx2Math.cs - log and exp on 8 floats / 4 doubles: native/src/x86/vmath_avx2.h
// intrinsic for intrinsic, hence ManagedMath lane by lane. Callers check
// Avx2Kernels.IsSupported (AVX2 and FMA) first.
//
// Only the x86 intrinsics are used, not the portable Vector256 operators:
// their semantics are fixed (Avx.AndNot is ~a & b as _mm256_andnot_ps,
// Avx.Max returns its second operand on NaN as vmaxps), and the JIT emits
// one instruction for each, so nothing is fused, reordered or emulated.

#if NET8_0_OR_GREATER
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static NativeKl.Managed.KlConstants;

namespace NativeKl.Managed
{
    internal static class Avx2Math
    {
        // Broadcast constants (the JIT materialises them once per loop).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> F32(float c) => Vector256.Create(c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> F64(double c) => Vector256.Create(c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> I32(uint c) => Vector256.Create(unchecked((int)c));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<long> I64(ulong c) => Vector256.Create(unchecked((long)c));

        /// <summary>ManagedMath.CanonicalNaN lane by lane (nkl_canon_nan_ps): NaN lanes become the
        /// positive quiet NaN, the others keep their bits. For the store path.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> CanonicalNaN(Vector256<float> v) =>
            Avx.BlendVariable(v, I32(QuietNaNBitsF32).AsSingle(), Avx.Compare(v, v, FloatComparisonMode.UnorderedNonSignaling));

        /// <summary>ManagedMath.CanonicalNaN lane by lane (nkl_canon_nan_pd).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<double> CanonicalNaN(Vector256<double> v) =>
            Avx.BlendVariable(v, I64(QuietNaNBitsF64).AsDouble(), Avx.Compare(v, v, FloatComparisonMode.UnorderedNonSignaling));

        /// <summary>CanonicalNaN on the three vectors a gradient call stores.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void CanonicalNaN(ref Vector256<float> l, ref Vector256<float> gx, ref Vector256<float> gt)
        {
            l = CanonicalNaN(l);
            gx = CanonicalNaN(gx);
            gt = CanonicalNaN(gt);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void CanonicalNaN(ref Vector256<double> l, ref Vector256<double> gx, ref Vector256<double> gt)
        {
            l = CanonicalNaN(l);
            gx = CanonicalNaN(gx);
            gt = CanonicalNaN(gt);
        }

        // ------------------------------------------------------------ log f32

        /// <summary>log of lanes in the normal range. scaled: some lanes were
        /// subnormal, scaled by 2^25, and kadd holds -25 for them (0 elsewhere).
        /// Adding a zero kadd changes no bit, so the unscaled form skips it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> LogCore(Vector256<float> ts, Vector256<float> kadd, bool scaled)
        {
            // tmp = bits(t) - bits(OFF): k = tmp >> 23, the bucket (VPERMPS reads the low 3
            // bits of tmp >> 20), z = t / 2^k
            Vector256<int> ix = ts.AsInt32();
            Vector256<int> tmp = Avx2.Subtract(ix, I32(LogOffBitsF32));
            Vector256<float> kf = Avx.ConvertToVector256Single(Avx2.ShiftRightArithmetic(tmp, 23));
            if (scaled) kf = Avx.Add(kf, kadd);
            Vector256<int> bucket = Avx2.ShiftRightLogical(tmp, 20);
            Vector256<float> invc = Avx2.PermuteVar8x32(LogInvcTable, bucket);
            Vector256<float> logc = Avx2.PermuteVar8x32(LogLogcTable, bucket);
            Vector256<float> z = Avx2.Subtract(ix, Avx2.And(tmp, I32(0xff800000u))).AsSingle();
            // r = z / c - 1; log t = (k ln2 + logc) + (r + r^2 P(r))
            Vector256<float> r = Fma.MultiplySubtract(z, invc, F32(1.0f));
            Vector256<float> r2 = Avx.Multiply(r, r);
            Vector256<float> p = Fma.MultiplyAdd(r, F32(LogC5F32), F32(LogC4F32));
            p = Fma.MultiplyAdd(r, p, F32(LogC3F32));
            p = Fma.MultiplyAdd(r, p, F32(LogC2F32));
            Vector256<float> q = Fma.MultiplyAdd(r2, p, r);
            return Avx.Add(Fma.MultiplyAdd(kf, F32(Ln2HiF32), logc), q);
        }

        private static readonly Vector256<float> LogInvcTable = Vector256.Create(
            LogInvcF32[0], LogInvcF32[1], LogInvcF32[2], LogInvcF32[3], LogInvcF32[4], LogInvcF32[5], LogInvcF32[6], LogInvcF32[7]);
        private static readonly Vector256<float> LogLogcTable = Vector256.Create(
            LogLogcF32[0], LogLogcF32[1], LogLogcF32[2], LogLogcF32[3], LogLogcF32[4], LogLogcF32[5], LogLogcF32[6], LogLogcF32[7]);

        /// <summary>Lanes that are subnormal, zero, negative, infinite or NaN: rare,
        /// so they take a branch; the result bits are the same either way.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> LogSlow(Vector256<float> t)
        {
            // subnormal = t < 2^-126: scale by 2^25 and take 25 off the exponent
            Vector256<float> sub = Avx.Compare(t, F32(MinNormalF32), FloatComparisonMode.OrderedLessThanNonSignaling);
            Vector256<float> ts = Avx.BlendVariable(t, Avx.Multiply(t, F32(SubnormalScaleF32)), sub);
            Vector256<float> kadd = Avx.And(sub, F32(SubnormalExponentF32));
            Vector256<float> y = LogCore(ts, kadd, true);
            // t == inf -> inf; !(t >= 0) -> NaN; t == 0 -> -inf (the last match wins)
            y = Avx.BlendVariable(y, F32(float.PositiveInfinity),
                Avx.Compare(t, F32(float.PositiveInfinity), FloatComparisonMode.OrderedEqualNonSignaling));
            y = Avx.BlendVariable(y, F32(ManagedMath.NaNF32),
                Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.UnorderedNotGreaterThanOrEqualNonSignaling));
            y = Avx.BlendVariable(y, F32(float.NegativeInfinity),
                Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.OrderedEqualNonSignaling));
            return y;
        }

        /// <summary>Lanes not in [2^-126, FLT_MAX]: zero, negative, subnormal, infinite, NaN.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> NotNormal(Vector256<float> t) => Avx.Or(
            Avx.Compare(t, F32(MinNormalF32), FloatComparisonMode.UnorderedNotGreaterThanOrEqualNonSignaling),
            Avx.Compare(t, F32(float.MaxValue), FloatComparisonMode.OrderedGreaterThanNonSignaling));

        /// <summary>Is every lane in [2^-126, FLT_MAX] (positive, normal, finite)?</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool AllNormal(Vector256<float> t)
        {
            Vector256<float> odd = NotNormal(t);
            return Avx.TestZ(odd, odd);
        }

        /// <summary>log of lanes known to be positive, normal and finite (see AllNormal).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> LogNormal(Vector256<float> t) => LogCore(t, Vector256<float>.Zero, false);

        /// <summary>log t lane by lane, as ManagedMath.Log(float).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Log(Vector256<float> t)
        {
            if (AllNormal(t)) return LogNormal(t);
            return LogSlow(t);
        }

        // ------------------------------------------------------------ log f64

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> LogCore(Vector256<double> ts, Vector256<double> kadd, bool scaled)
        {
            // u = bits(ts) + (bits(1.0) - bits(sqrt(1/2)))
            Vector256<long> u = Avx2.Add(ts.AsInt64(), I64(0x3ff0000000000000UL - SqrtHalfBitsF64));
            // kf = ((double)(u >> 52) - 1023) + kadd: (2^52 + e) - (2^52 + 1023) = e - 1023, exactly
            Vector256<double> kf = Avx.Subtract(
                Avx2.Or(Avx2.ShiftRightLogical(u, 52), I64(0x4330000000000000UL)).AsDouble(),
                F64(4503599627370496.0 + 1023.0));
            if (scaled) kf = Avx.Add(kf, kadd);
            // m = bits((u & mantissa) + bits(sqrt(1/2))); f = m - 1
            Vector256<double> m = Avx2.Add(Avx2.And(u, I64(0x000fffffffffffffUL)), I64(SqrtHalfBitsF64)).AsDouble();
            Vector256<double> f = Avx.Subtract(m, F64(1.0));
            // s = f / (2 + f); z = s * s
            Vector256<double> s = Avx.Divide(f, Avx.Add(F64(2.0), f));
            Vector256<double> z = Avx.Multiply(s, s);
            // p = L1 + z (L2 + ... z L7); r = z p
            Vector256<double> p = Fma.MultiplyAdd(z, F64(LogL7F64), F64(LogL6F64));
            p = Fma.MultiplyAdd(z, p, F64(LogL5F64));
            p = Fma.MultiplyAdd(z, p, F64(LogL4F64));
            p = Fma.MultiplyAdd(z, p, F64(LogL3F64));
            p = Fma.MultiplyAdd(z, p, F64(LogL2F64));
            p = Fma.MultiplyAdd(z, p, F64(LogL1F64));
            Vector256<double> r = Avx.Multiply(z, p);
            // hfsq = (0.5 f) f; w = s (hfsq + r) + kf ln2_lo
            Vector256<double> hfsq = Avx.Multiply(Avx.Multiply(F64(0.5), f), f);
            Vector256<double> w = Avx.Multiply(s, Avx.Add(hfsq, r));
            w = Fma.MultiplyAdd(kf, F64(Ln2LoF64), w);
            // y = kf ln2_hi + (f - (hfsq - w))
            return Fma.MultiplyAdd(kf, F64(Ln2HiF64), Avx.Subtract(f, Avx.Subtract(hfsq, w)));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<double> LogSlow(Vector256<double> t)
        {
            // subnormal = t < 2^-1022: scale by 2^54 and take 54 off the exponent
            Vector256<double> sub = Avx.Compare(t, F64(MinNormalF64), FloatComparisonMode.OrderedLessThanNonSignaling);
            Vector256<double> ts = Avx.BlendVariable(t, Avx.Multiply(t, F64(SubnormalScaleF64)), sub);
            Vector256<double> kadd = Avx.And(sub, F64(SubnormalExponentF64));
            Vector256<double> y = LogCore(ts, kadd, true);
            // t == inf -> inf; !(t >= 0) -> NaN; t == 0 -> -inf
            y = Avx.BlendVariable(y, F64(double.PositiveInfinity),
                Avx.Compare(t, F64(double.PositiveInfinity), FloatComparisonMode.OrderedEqualNonSignaling));
            y = Avx.BlendVariable(y, F64(ManagedMath.NaNF64),
                Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.UnorderedNotGreaterThanOrEqualNonSignaling));
            y = Avx.BlendVariable(y, F64(double.NegativeInfinity),
                Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.OrderedEqualNonSignaling));
            return y;
        }

        /// <summary>Lanes not in [2^-1022, DBL_MAX]: zero, negative, subnormal, infinite, NaN.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<double> NotNormal(Vector256<double> t) => Avx.Or(
            Avx.Compare(t, F64(MinNormalF64), FloatComparisonMode.UnorderedNotGreaterThanOrEqualNonSignaling),
            Avx.Compare(t, F64(double.MaxValue), FloatComparisonMode.OrderedGreaterThanNonSignaling));

        /// <summary>Is every lane in [2^-1022, DBL_MAX] (positive, normal, finite)?</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool AllNormal(Vector256<double> t)
        {
            Vector256<double> odd = NotNormal(t);
            return Avx.TestZ(odd, odd);
        }

        /// <summary>log of lanes known to be positive, normal and finite (see AllNormal).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<double> LogNormal(Vector256<double> t) => LogCore(t, Vector256<double>.Zero, false);

        /// <summary>log t lane by lane, as ManagedMath.Log(double).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<double> Log(Vector256<double> t)
        {
            if (AllNormal(t)) return LogNormal(t);
            return LogSlow(t);
        }

        // ------------------------------------------------------------ exp f32

        /// <summary>vmath_avx2.h scale2_ps: p 2^k as the spec's two factors, (p 2^k1) 2^k2 with
        /// k1 = floor(k / 2), k = bits(kr) - bits(Round); lanes in zero set to +0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Scale2(Vector256<float> p, Vector256<float> kr, Vector256<float> zero)
        {
            Vector256<int> k = Avx2.Subtract(kr.AsInt32(), I32(RoundBitsF32));
            Vector256<int> k1 = Avx2.Subtract(Avx2.ShiftRightLogical(Avx2.Add(k, I32(256)), 1), I32(128));
            Vector256<int> k2 = Avx2.Subtract(k, k1);
            Vector256<float> s1 = Avx2.ShiftLeftLogical(Avx2.Add(k1, I32(127)), 23).AsSingle();
            Vector256<float> s2 = Avx2.ShiftLeftLogical(Avx2.Add(k2, I32(127)), 23).AsSingle();
            return Avx.AndNot(zero, Avx.Multiply(Avx.Multiply(p, s1), s2));
        }

        /// <summary>vmath_avx2.h scale_normal_ps: p 2^k by one multiply, exact where p 2^k is normal.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ScaleNormal(Vector256<float> p, Vector256<float> kr)
        {
            // 2^k = bits (k + 127) << 23, k = bits(kr) - bits(Round)
            Vector256<int> e = Avx2.Add(kr.AsInt32(), I32(unchecked(127u - RoundBitsF32)));
            return Avx.Multiply(p, Avx2.ShiftLeftLogical(e, 23).AsSingle());
        }

        /// <summary>vmath_avx2.h scale_inrange_ps: k added to p's exponent field (bits(kr) &lt;&lt; 23 is
        /// k &lt;&lt; 23), for lanes where p 2^k is normal and not NaN.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ScaleInRange(Vector256<float> p, Vector256<float> kr) =>
            Avx2.Add(p.AsInt32(), Avx2.ShiftLeftLogical(kr.AsInt32(), 23)).AsSingle();

        /// <summary>exp(x) = 2^k p for x already clamped: kr holds k in its low bits, p = exp(r).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> ExpPoly(Vector256<float> xc, out Vector256<float> kr)
        {
            // kr = x log2e + Round (k in its low bits); kf = kr - Round
            kr = Fma.MultiplyAdd(xc, F32(Log2EF32), F32(RoundF32));
            Vector256<float> kf = Avx.Subtract(kr, F32(RoundF32));
            // r = x - kf ln2 (hi, then lo)
            Vector256<float> r = Fma.MultiplyAdd(kf, F32(-Ln2HiF32), xc);
            r = Fma.MultiplyAdd(kf, F32(-Ln2LoF32), r);
            // p = 1 + r (1 + r (E2 + ... r E6))
            Vector256<float> p = Fma.MultiplyAdd(F32(ExpE6F32), r, F32(ExpE5F32));
            p = Fma.MultiplyAdd(p, r, F32(ExpE4F32));
            p = Fma.MultiplyAdd(p, r, F32(ExpE3F32));
            p = Fma.MultiplyAdd(p, r, F32(ExpE2F32));
            p = Fma.MultiplyAdd(p, r, F32(1.0f));
            return Fma.MultiplyAdd(p, r, F32(1.0f));
        }

        /// <summary>Lanes whose result is not a normal number, or whose input is NaN:
        /// the spec's two-factor scaling. Lanes at the low clamp give +0 there; they
        /// are set to +0 directly, so no multiply produces a subnormal.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> ExpSlow(Vector256<float> x)
        {
            // clamp; vmaxps/vminps return their second operand on NaN, so NaN stays
            Vector256<float> xc = Avx.Max(F32(ExpLoF32), x);
            xc = Avx.Min(F32(ExpHiF32), xc);
            Vector256<float> zero = Avx.Compare(xc, F32(ExpLoF32), FloatComparisonMode.OrderedEqualNonSignaling);
            xc = Avx.AndNot(zero, xc);
            Vector256<float> p = ExpPoly(xc, out Vector256<float> kr);
            return Scale2(p, kr, zero);
        }

        /// <summary>exp x lane by lane, as ManagedMath.Exp(float). For x in [-86, 88],
        /// k is in [-124, 127] and p 2^k is normal, so one exact multiply by 2^k gives
        /// the spec's (p 2^k1) 2^k2 bit for bit.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp(Vector256<float> x)
        {
            Vector256<float> inRange = Avx.And(
                Avx.Compare(x, F32(ExpFastLoF32), FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling),
                Avx.Compare(x, F32(ExpFastHiF32), FloatComparisonMode.OrderedLessThanOrEqualNonSignaling));
            return Avx.MoveMask(inRange) == 0xff ? ExpInRange(x) : ExpSlow(x);
        }

        /// <summary>
        /// vmath_avx2.h exp_inrange_ps: exp x for x in [-86, 88] and not NaN, lane by lane (the
        /// caller has checked every lane): the scaling by 2^k as an integer add to p's exponent
        /// field (bits(kr) &lt;&lt; 23 is k &lt;&lt; 23), the same bits as <see cref="ExpNormal(Vector256{float})"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> ExpInRange(Vector256<float> x)
        {
            Vector256<float> p = ExpPoly(x, out Vector256<float> kr);
            return ScaleInRange(p, kr);
        }

        /// <summary>exp x for x in [-86, 88] only (the spec's bits there; NaN gives NaN).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> ExpNormal(Vector256<float> x)
        {
            Vector256<float> p = ExpPoly(x, out Vector256<float> kr);
            return ScaleNormal(p, kr);
        }

        // ----------------------------------------------------------- exp2 f32

        /// <summary>2^x = 2^k p for x already clamped: kr holds k = round(x) in its low bits, p = 2^r.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Exp2Poly(Vector256<float> xc, out Vector256<float> kr)
        {
            kr = Avx.Add(xc, F32(RoundF32));
            Vector256<float> r = Avx.Subtract(xc, Avx.Subtract(kr, F32(RoundF32))); // exact
            Vector256<float> p = Fma.MultiplyAdd(F32(Exp2C5F32), r, F32(Exp2C4F32));
            p = Fma.MultiplyAdd(p, r, F32(Exp2C3F32));
            p = Fma.MultiplyAdd(p, r, F32(Exp2C2F32));
            p = Fma.MultiplyAdd(p, r, F32(Exp2C1F32));
            return Fma.MultiplyAdd(p, r, F32(1.0f));
        }

        /// <summary>vmath_avx2.h exp2_ps_slow: the spec's two-factor scaling; lanes at the low clamp set to +0.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> Exp2Slow(Vector256<float> x)
        {
            Vector256<float> xc = Avx.Max(F32(Exp2LoF32), x);
            xc = Avx.Min(F32(Exp2HiF32), xc);
            Vector256<float> zero = Avx.Compare(xc, F32(Exp2LoF32), FloatComparisonMode.OrderedEqualNonSignaling);
            xc = Avx.AndNot(zero, xc);
            Vector256<float> p = Exp2Poly(xc, out Vector256<float> kr);
            return Scale2(p, kr, zero);
        }

        /// <summary>2^x lane by lane, as ManagedMath.Exp2(float).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp2(Vector256<float> x)
        {
            Vector256<float> inRange = Avx.And(
                Avx.Compare(x, F32(Exp2FastLoF32), FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling),
                Avx.Compare(x, F32(Exp2FastHiF32), FloatComparisonMode.OrderedLessThanOrEqualNonSignaling));
            return Avx.MoveMask(inRange) == 0xff ? Exp2InRange(x) : Exp2Slow(x);
        }

        /// <summary>vmath_avx2.h exp2_inrange_ps: 2^x for x in [-125, 127] and not NaN (the scaling as
        /// an integer add to p's exponent field), the same bits as <see cref="Exp2Normal"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp2InRange(Vector256<float> x)
        {
            Vector256<float> p = Exp2Poly(x, out Vector256<float> kr);
            return ScaleInRange(p, kr);
        }

        /// <summary>2^x for x in [-125, 127] only (the spec's bits there; NaN gives NaN).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp2Normal(Vector256<float> x)
        {
            Vector256<float> p = Exp2Poly(x, out Vector256<float> kr);
            return ScaleNormal(p, kr);
        }

        // ------------------------------------------------------------ exp f64

        /// <summary>kr = 8x/ln2 + Round holds 8k + j in its low bits; returns q(r), e^r = 1 + q(r).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> ExpPoly(Vector256<double> xc, out Vector256<double> kr)
        {
            kr = Fma.MultiplyAdd(xc, F64(Exp8Log2EF64), F64(RoundF64));
            Vector256<double> kf = Avx.Subtract(kr, F64(RoundF64));
            // r = x - kf ln2/8 (hi, then lo)
            Vector256<double> r = Fma.MultiplyAdd(kf, F64(-ExpLn2Over8HiF64), xc);
            r = Fma.MultiplyAdd(kf, F64(-ExpLn2Over8LoF64), r);
            // q = r + r^2 (C2 + r (C3 + ... r C7))
            Vector256<double> p = Fma.MultiplyAdd(F64(ExpC7F64), r, F64(ExpC6F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpC5F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpC4F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpC3F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpC2F64));
            return Fma.MultiplyAdd(Avx.Multiply(r, r), p, r);
        }

        /// <summary>vmath_avx2.h exp_table_pd: the bits of S[j], j = the low 3 bits of kr (two
        /// VPERMD on the table's low and high dwords, indexed by kr's low dword); biased: less
        /// j &lt;&lt; 49, so that adding bits(kr) &lt;&lt; 49 = (8k + j) &lt;&lt; 49 makes them S[j] 2^k.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<long> ExpTable(Vector256<double> kr, bool biased)
        {
            Vector256<int> idx = Avx2.Shuffle(kr.AsInt32(), 0xa0); // the low dword, twice
            Vector256<int> lo = Avx2.PermuteVar8x32(ExpSLo, idx);
            Vector256<int> hi = Avx2.PermuteVar8x32(biased ? ExpSHiBiased : ExpSHi, idx);
            return Avx2.Blend(lo, hi, 0xaa).AsInt64();
        }

        private static readonly Vector256<int> ExpSLo = ExpSDwords(0, false);
        private static readonly Vector256<int> ExpSHi = ExpSDwords(32, false);
        private static readonly Vector256<int> ExpSHiBiased = ExpSDwords(32, true);

        private static Vector256<int> ExpSDwords(int shift, bool biased)
        {
            var d = new int[8];
            for (int j = 0; j < 8; j++)
                d[j] = unchecked((int)(uint)((ExpSBitsF64[j] >> shift) - (biased ? (ulong)j << 17 : 0UL)));
            return Vector256.Create(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<double> ExpSlow(Vector256<double> x)
        {
            // clamp; NaN stays (second operand); lanes at the low clamp give +0
            Vector256<double> xc = Avx.Max(F64(ExpLoF64), x);
            xc = Avx.Min(F64(ExpHiF64), xc);
            Vector256<double> zero = Avx.Compare(xc, F64(ExpLoF64), FloatComparisonMode.OrderedEqualNonSignaling);
            xc = Avx.AndNot(zero, xc);
            Vector256<double> q = ExpPoly(xc, out Vector256<double> kr);
            Vector256<double> s = ExpTable(kr, false).AsDouble();
            Vector256<double> e = Fma.MultiplyAdd(s, q, s);
            // k = (8k + j) >> 3 (arithmetic); k1 = floor(k / 2), k2 = k - k1; y = (e 2^k1) 2^k2
            Vector256<long> kj = Avx2.Subtract(kr.AsInt64(), I64(RoundBitsF64));
            Vector256<long> k = Avx2.Subtract(Avx2.ShiftRightLogical(Avx2.Add(kj, I64(0x100000)), 3), I64(0x20000));
            Vector256<long> k1 = Avx2.Subtract(Avx2.ShiftRightLogical(Avx2.Add(k, I64(2048)), 1), I64(1024));
            Vector256<long> k2 = Avx2.Subtract(k, k1);
            Vector256<double> s1 = Avx2.ShiftLeftLogical(Avx2.Add(k1, I64(1023)), 52).AsDouble();
            Vector256<double> s2 = Avx2.ShiftLeftLogical(Avx2.Add(k2, I64(1023)), 52).AsDouble();
            return Avx.AndNot(zero, Avx.Multiply(Avx.Multiply(e, s1), s2));
        }

        /// <summary>exp x lane by lane, as ManagedMath.Exp(double).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<double> Exp(Vector256<double> x)
        {
            Vector256<double> inRange = Avx.And(
                Avx.Compare(x, F64(ExpFastLoF64), FloatComparisonMode.OrderedGreaterThanOrEqualNonSignaling),
                Avx.Compare(x, F64(ExpFastHiF64), FloatComparisonMode.OrderedLessThanOrEqualNonSignaling));
            return Avx.MoveMask(inRange) == 0xf ? ExpInRange(x) : ExpSlow(x);
        }

        /// <summary>vmath_avx2.h exp_inrange_pd, for x in [-700, 700] (or NaN, which gives NaN): k is
        /// in [-1010, 1010] and S[j] 2^k is normal, built by an integer add to the biased table
        /// bits, so fma(S[j] 2^k, q, S[j] 2^k) is the spec's e scaled exactly.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<double> ExpInRange(Vector256<double> x)
        {
            Vector256<double> q = ExpPoly(x, out Vector256<double> kr);
            Vector256<double> s = Avx2.Add(ExpTable(kr, true), Avx2.ShiftLeftLogical(kr.AsInt64(), 49)).AsDouble();
            return Fma.MultiplyAdd(s, q, s);
        }
    }
}
#endif
