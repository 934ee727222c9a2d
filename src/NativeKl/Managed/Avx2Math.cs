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

        // ------------------------------------------------------------ log f32

        /// <summary>log of lanes already scaled into the normal range; kadd = -25
        /// for lanes that were subnormal (scaled by 2^25), else 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> LogCore(Vector256<float> ts, Vector256<float> kadd)
        {
            // u = bits(ts) + (bits(1.0) - bits(sqrt(1/2))): m moves into [sqrt(1/2), sqrt(2))
            Vector256<int> u = Avx2.Add(ts.AsInt32(), I32(0x3f800000u - SqrtHalfBitsF32));
            // kf = (float)((u >> 23) - 127) + kadd
            Vector256<float> kf = Avx.Add(
                Avx.ConvertToVector256Single(Avx2.Subtract(Avx2.ShiftRightLogical(u, 23), I32(127))), kadd);
            // m = bits((u & mantissa) + bits(sqrt(1/2))); f = m - 1
            Vector256<float> m = Avx2.Add(Avx2.And(u, I32(0x007fffffu)), I32(SqrtHalfBitsF32)).AsSingle();
            Vector256<float> f = Avx.Subtract(m, F32(1.0f));
            // s = f / (2 + f); z = s * s
            Vector256<float> s = Avx.Divide(f, Avx.Add(F32(2.0f), f));
            Vector256<float> z = Avx.Multiply(s, s);
            // p = L1 + z (L2 + z (L3 + z L4)); r = z p
            Vector256<float> p = Fma.MultiplyAdd(z, F32(LogL4F32), F32(LogL3F32));
            p = Fma.MultiplyAdd(z, p, F32(LogL2F32));
            p = Fma.MultiplyAdd(z, p, F32(LogL1F32));
            Vector256<float> r = Avx.Multiply(z, p);
            // hfsq = (0.5 f) f; w = s (hfsq + r) + kf ln2_lo
            Vector256<float> hfsq = Avx.Multiply(Avx.Multiply(F32(0.5f), f), f);
            Vector256<float> w = Avx.Multiply(s, Avx.Add(hfsq, r));
            w = Fma.MultiplyAdd(kf, F32(Ln2LoF32), w);
            // y = kf ln2_hi + (f - (hfsq - w))
            return Fma.MultiplyAdd(kf, F32(Ln2HiF32), Avx.Subtract(f, Avx.Subtract(hfsq, w)));
        }

        /// <summary>Lanes that are subnormal, zero, negative, infinite or NaN: rare,
        /// so they take a branch; the result bits are the same either way.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Vector256<float> LogSlow(Vector256<float> t)
        {
            // subnormal = t < 2^-126: scale by 2^25 and take 25 off the exponent
            Vector256<float> sub = Avx.Compare(t, F32(MinNormalF32), FloatComparisonMode.OrderedLessThanNonSignaling);
            Vector256<float> ts = Avx.BlendVariable(t, Avx.Multiply(t, F32(SubnormalScaleF32)), sub);
            Vector256<float> kadd = Avx.And(sub, F32(SubnormalExponentF32));
            Vector256<float> y = LogCore(ts, kadd);
            // t == inf -> inf; !(t >= 0) -> NaN; t == 0 -> -inf (the last match wins)
            y = Avx.BlendVariable(y, F32(float.PositiveInfinity),
                Avx.Compare(t, F32(float.PositiveInfinity), FloatComparisonMode.OrderedEqualNonSignaling));
            y = Avx.BlendVariable(y, F32(ManagedMath.NaNF32),
                Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.UnorderedNotGreaterThanOrEqualNonSignaling));
            y = Avx.BlendVariable(y, F32(float.NegativeInfinity),
                Avx.Compare(t, Vector256<float>.Zero, FloatComparisonMode.OrderedEqualNonSignaling));
            return y;
        }

        /// <summary>log t lane by lane, as ManagedMath.Log(float).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Log(Vector256<float> t)
        {
            // any lane not in [2^-126, FLT_MAX]?
            Vector256<float> odd = Avx.Or(
                Avx.Compare(t, F32(MinNormalF32), FloatComparisonMode.UnorderedNotGreaterThanOrEqualNonSignaling),
                Avx.Compare(t, F32(float.MaxValue), FloatComparisonMode.OrderedGreaterThanNonSignaling));
            if (Avx.TestZ(odd, odd)) return LogCore(t, Vector256<float>.Zero);
            return LogSlow(t);
        }

        // ------------------------------------------------------------ log f64

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> LogCore(Vector256<double> ts, Vector256<double> kadd)
        {
            // u = bits(ts) + (bits(1.0) - bits(sqrt(1/2)))
            Vector256<long> u = Avx2.Add(ts.AsInt64(), I64(0x3ff0000000000000UL - SqrtHalfBitsF64));
            // e = (double)(u >> 52), exactly, via the 2^52 bit trick
            Vector256<double> e = Avx.Subtract(
                Avx2.Or(Avx2.ShiftRightLogical(u, 52), I64(0x4330000000000000UL)).AsDouble(), F64(4503599627370496.0));
            // kf = (e - 1023) + kadd
            Vector256<double> kf = Avx.Add(Avx.Subtract(e, F64(1023.0)), kadd);
            // m = bits((u & mantissa) + bits(sqrt(1/2))); f = m - 1
            Vector256<double> m = Avx2.Add(Avx2.And(u, I64(0x000fffffffffffffUL)), I64(SqrtHalfBitsF64)).AsDouble();
            Vector256<double> f = Avx.Subtract(m, F64(1.0));
            // s = f / (2 + f); z = s * s
            Vector256<double> s = Avx.Divide(f, Avx.Add(F64(2.0), f));
            Vector256<double> z = Avx.Multiply(s, s);
            // p = L1 + z (L2 + ... z L9); r = z p
            Vector256<double> p = Fma.MultiplyAdd(z, F64(LogL9F64), F64(LogL8F64));
            p = Fma.MultiplyAdd(z, p, F64(LogL7F64));
            p = Fma.MultiplyAdd(z, p, F64(LogL6F64));
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
            Vector256<double> y = LogCore(ts, kadd);
            // t == inf -> inf; !(t >= 0) -> NaN; t == 0 -> -inf
            y = Avx.BlendVariable(y, F64(double.PositiveInfinity),
                Avx.Compare(t, F64(double.PositiveInfinity), FloatComparisonMode.OrderedEqualNonSignaling));
            y = Avx.BlendVariable(y, F64(ManagedMath.NaNF64),
                Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.UnorderedNotGreaterThanOrEqualNonSignaling));
            y = Avx.BlendVariable(y, F64(double.NegativeInfinity),
                Avx.Compare(t, Vector256<double>.Zero, FloatComparisonMode.OrderedEqualNonSignaling));
            return y;
        }

        /// <summary>log t lane by lane, as ManagedMath.Log(double).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<double> Log(Vector256<double> t)
        {
            // any lane not in [2^-1022, DBL_MAX]?
            Vector256<double> odd = Avx.Or(
                Avx.Compare(t, F64(MinNormalF64), FloatComparisonMode.UnorderedNotGreaterThanOrEqualNonSignaling),
                Avx.Compare(t, F64(double.MaxValue), FloatComparisonMode.OrderedGreaterThanNonSignaling));
            if (Avx.TestZ(odd, odd)) return LogCore(t, Vector256<double>.Zero);
            return LogSlow(t);
        }

        // ------------------------------------------------------------ exp f32

        /// <summary>exp x lane by lane, as ManagedMath.Exp(float).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Exp(Vector256<float> x)
        {
            // clamp; vmaxps/vminps return their second operand on NaN, so NaN stays
            Vector256<float> xc = Avx.Max(F32(ExpLoF32), x);
            xc = Avx.Min(F32(ExpHiF32), xc);
            // kr = x log2e + Round (k in its low bits); kf = kr - Round
            Vector256<float> kr = Fma.MultiplyAdd(xc, F32(Log2EF32), F32(RoundF32));
            Vector256<float> kf = Avx.Subtract(kr, F32(RoundF32));
            Vector256<int> k = Avx2.Subtract(kr.AsInt32(), I32(RoundBitsF32));
            // r = x - kf ln2 (hi, then lo)
            Vector256<float> r = Fma.MultiplyAdd(kf, F32(-Ln2HiF32), xc);
            r = Fma.MultiplyAdd(kf, F32(-Ln2LoF32), r);
            // p = 1 + r (1 + r (E2 + ... r E7))
            Vector256<float> p = Fma.MultiplyAdd(F32(ExpE7F32), r, F32(ExpE6F32));
            p = Fma.MultiplyAdd(p, r, F32(ExpE5F32));
            p = Fma.MultiplyAdd(p, r, F32(ExpE4F32));
            p = Fma.MultiplyAdd(p, r, F32(ExpE3F32));
            p = Fma.MultiplyAdd(p, r, F32(ExpE2F32));
            p = Fma.MultiplyAdd(p, r, F32(1.0f));
            p = Fma.MultiplyAdd(p, r, F32(1.0f));
            // k1 = floor(k / 2), k2 = k - k1; y = (p 2^k1) 2^k2
            Vector256<int> k1 = Avx2.Subtract(Avx2.ShiftRightLogical(Avx2.Add(k, I32(256)), 1), I32(128));
            Vector256<int> k2 = Avx2.Subtract(k, k1);
            Vector256<float> s1 = Avx2.ShiftLeftLogical(Avx2.Add(k1, I32(127)), 23).AsSingle();
            Vector256<float> s2 = Avx2.ShiftLeftLogical(Avx2.Add(k2, I32(127)), 23).AsSingle();
            return Avx.Multiply(Avx.Multiply(p, s1), s2);
        }

        // ------------------------------------------------------------ exp f64

        /// <summary>exp x lane by lane, as ManagedMath.Exp(double).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<double> Exp(Vector256<double> x)
        {
            // clamp; NaN stays (second operand)
            Vector256<double> xc = Avx.Max(F64(ExpLoF64), x);
            xc = Avx.Min(F64(ExpHiF64), xc);
            // kr = x log2e + Round; kf = kr - Round; k = bits(kr) - bits(Round)
            Vector256<double> kr = Fma.MultiplyAdd(xc, F64(Log2EF64), F64(RoundF64));
            Vector256<double> kf = Avx.Subtract(kr, F64(RoundF64));
            Vector256<long> k = Avx2.Subtract(kr.AsInt64(), I64(RoundBitsF64));
            // r = x - kf ln2 (hi, then lo)
            Vector256<double> r = Fma.MultiplyAdd(kf, F64(-Ln2HiF64), xc);
            r = Fma.MultiplyAdd(kf, F64(-Ln2LoF64), r);
            // p = 1 + r (1 + r (E2 + ... r E13))
            Vector256<double> p = Fma.MultiplyAdd(F64(ExpE13F64), r, F64(ExpE12F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE11F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE10F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE9F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE8F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE7F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE6F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE5F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE4F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE3F64));
            p = Fma.MultiplyAdd(p, r, F64(ExpE2F64));
            p = Fma.MultiplyAdd(p, r, F64(1.0));
            p = Fma.MultiplyAdd(p, r, F64(1.0));
            // k1 = floor(k / 2), k2 = k - k1; y = (p 2^k1) 2^k2
            Vector256<long> k1 = Avx2.Subtract(Avx2.ShiftRightLogical(Avx2.Add(k, I64(2048)), 1), I64(1024));
            Vector256<long> k2 = Avx2.Subtract(k, k1);
            Vector256<double> s1 = Avx2.ShiftLeftLogical(Avx2.Add(k1, I64(1023)), 52).AsDouble();
            Vector256<double> s2 = Avx2.ShiftLeftLogical(Avx2.Add(k2, I64(1023)), 52).AsDouble();
            return Avx.Multiply(Avx.Multiply(p, s1), s2);
        }
    }
}
#endif
