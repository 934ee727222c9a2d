// Vector128Math.cs - log and exp on 4 floats / 2 doubles with the portable
// Vector128 operations and an explicit fused multiply-add (FMA on x64,
// AdvSimd on arm64): the general paths of Avx2Math (vmath_avx2.h's slow paths,
// which handle every input), operation for operation, hence ManagedMath lane
// by lane. Never a separate multiply and add where the spec fuses; the
// comparisons are IEEE (false on NaN) on both ISAs, and min/max are written as
// selects with x86's operand order, so a NaN input stays NaN on arm64 too.

#if NET8_0_OR_GREATER
using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using X86Fma = System.Runtime.Intrinsics.X86.Fma;
using static NativeKl.Managed.KlConstants;

namespace NativeKl.Managed
{
    internal static class Vector128Math
    {
        /// <summary>True where the runtime has a 128-bit fused multiply-add: FMA on x64, AdvSimd (Arm64 for double) on arm64.</summary>
        public static bool IsSupported => X86Fma.IsSupported || AdvSimd.Arm64.IsSupported;

        /// <summary>a b + c, one rounding.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> c)
        {
            if (X86Fma.IsSupported) return X86Fma.MultiplyAdd(a, b, c);
            if (AdvSimd.IsSupported) return AdvSimd.FusedMultiplyAdd(c, a, b);
            throw new PlatformNotSupportedException();
        }

        /// <summary>a b + c, one rounding.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<double> Fma(Vector128<double> a, Vector128<double> b, Vector128<double> c)
        {
            if (X86Fma.IsSupported) return X86Fma.MultiplyAdd(a, b, c);
            if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.FusedMultiplyAdd(c, a, b);
            throw new PlatformNotSupportedException();
        }

        /// <summary>a b − c, one rounding (fma(a, b, −c)).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Fms(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
            Fma(a, b, Vector128.Xor(c, Vector128.Create(-0.0f)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<double> Fms(Vector128<double> a, Vector128<double> b, Vector128<double> c) =>
            Fma(a, b, Vector128.Xor(c, Vector128.Create(-0.0)));

        /// <summary>−v by the sign bit (as C's unary minus and XOR with −0; 0 − v would give +0 for +0).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Negate(Vector128<float> v) => Vector128.Xor(v, Vector128.Create(-0.0f));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<double> Negate(Vector128<double> v) => Vector128.Xor(v, Vector128.Create(-0.0));

        /// <summary>v where mask is clear, +0 where it is set (AVX's andnot(mask, v)).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<T> ZeroWhere<T>(Vector128<T> mask, Vector128<T> v) where T : struct => Vector128.AndNot(v, mask);

        /// <summary>ManagedMath.CanonicalNaN lane by lane: NaN lanes become the positive quiet NaN.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> CanonicalNaN(Vector128<float> v) =>
            Vector128.ConditionalSelect(Vector128.Equals(v, v), v, Vector128.Create(QuietNaNBitsF32).AsSingle());

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<double> CanonicalNaN(Vector128<double> v) =>
            Vector128.ConditionalSelect(Vector128.Equals(v, v), v, Vector128.Create(QuietNaNBitsF64).AsDouble());

        /// <summary>CanonicalNaN on the three vectors a gradient call stores.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void CanonicalNaN(ref Vector128<float> l, ref Vector128<float> gx, ref Vector128<float> gt)
        {
            l = CanonicalNaN(l);
            gx = CanonicalNaN(gx);
            gt = CanonicalNaN(gt);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void CanonicalNaN(ref Vector128<double> l, ref Vector128<double> gx, ref Vector128<double> gt)
        {
            l = CanonicalNaN(l);
            gx = CanonicalNaN(gx);
            gt = CanonicalNaN(gt);
        }

        /// <summary>maxps(a, x): a if a &gt; x, else x (x when either is NaN).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<T> MaxX86<T>(Vector128<T> a, Vector128<T> x) where T : struct =>
            Vector128.ConditionalSelect(Vector128.GreaterThan(a, x), a, x);

        /// <summary>minps(a, x): a if a &lt; x, else x (x when either is NaN).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<T> MinX86<T>(Vector128<T> a, Vector128<T> x) where T : struct =>
            Vector128.ConditionalSelect(Vector128.LessThan(a, x), a, x);

        // ------------------------------------------------------------ log f32

        /// <summary>log t lane by lane, as ManagedMath.Log(float) (vmath_avx2.h log_ps_slow).</summary>
        public static Vector128<float> Log(Vector128<float> t)
        {
            // subnormal = t < 2^-126: scale by 2^25 and take 25 off the exponent
            Vector128<float> sub = Vector128.LessThan(t, Vector128.Create(MinNormalF32));
            Vector128<float> ts = Vector128.ConditionalSelect(sub, t * Vector128.Create(SubnormalScaleF32), t);
            Vector128<float> kadd = Vector128.BitwiseAnd(sub, Vector128.Create(SubnormalExponentF32));
            // tmp = bits(t) - bits(OFF): k = tmp >> 23, the bucket its top 3 mantissa bits, z = t / 2^k
            Vector128<int> ix = ts.AsInt32();
            Vector128<int> tmp = ix - Vector128.Create(unchecked((int)LogOffBitsF32));
            Vector128<float> kf = Vector128.ConvertToSingle(Vector128.ShiftRightArithmetic(tmp, 23)) + kadd;
            Vector128<int> bucket = Vector128.ShiftRightLogical(tmp, 20) & Vector128.Create(7);
            Vector128<float> invc = Vector128.Create(LogInvcF32[bucket.GetElement(0)], LogInvcF32[bucket.GetElement(1)],
                                                     LogInvcF32[bucket.GetElement(2)], LogInvcF32[bucket.GetElement(3)]);
            Vector128<float> logc = Vector128.Create(LogLogcF32[bucket.GetElement(0)], LogLogcF32[bucket.GetElement(1)],
                                                     LogLogcF32[bucket.GetElement(2)], LogLogcF32[bucket.GetElement(3)]);
            Vector128<float> z = (ix - (tmp & Vector128.Create(unchecked((int)0xff800000u)))).AsSingle();
            // r = z / c - 1; log t = (k ln2 + logc) + (r + r^2 P(r))
            Vector128<float> r = Fms(z, invc, Vector128.Create(1.0f));
            Vector128<float> r2 = r * r;
            Vector128<float> p = Fma(r, Vector128.Create(LogC5F32), Vector128.Create(LogC4F32));
            p = Fma(r, p, Vector128.Create(LogC3F32));
            p = Fma(r, p, Vector128.Create(LogC2F32));
            Vector128<float> q = Fma(r2, p, r);
            Vector128<float> y = Fma(kf, Vector128.Create(Ln2HiF32), logc) + q;
            // t == inf -> inf; !(t >= 0) -> NaN; t == 0 -> -inf (the last match wins)
            y = Vector128.ConditionalSelect(Vector128.Equals(t, Vector128.Create(float.PositiveInfinity)), Vector128.Create(float.PositiveInfinity), y);
            y = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(t, Vector128<float>.Zero), y, Vector128.Create(ManagedMath.NaNF32));
            y = Vector128.ConditionalSelect(Vector128.Equals(t, Vector128<float>.Zero), Vector128.Create(float.NegativeInfinity), y);
            return y;
        }

        // ------------------------------------------------------------ log f64

        /// <summary>log t lane by lane, as ManagedMath.Log(double) (vmath_avx2.h log_pd_slow).</summary>
        public static Vector128<double> Log(Vector128<double> t)
        {
            // subnormal = t < 2^-1022: scale by 2^54 and take 54 off the exponent
            Vector128<double> sub = Vector128.LessThan(t, Vector128.Create(MinNormalF64));
            Vector128<double> ts = Vector128.ConditionalSelect(sub, t * Vector128.Create(SubnormalScaleF64), t);
            Vector128<double> kadd = Vector128.BitwiseAnd(sub, Vector128.Create(SubnormalExponentF64));
            // u = bits(ts) + (bits(1.0) - bits(sqrt(1/2)))
            Vector128<long> u = ts.AsInt64() + Vector128.Create(unchecked((long)(0x3ff0000000000000UL - SqrtHalfBitsF64)));
            // kf = ((double)(u >> 52) - 1023) + kadd: (2^52 + e) - (2^52 + 1023) = e - 1023, exactly
            Vector128<double> kf = (Vector128.ShiftRightLogical(u, 52) | Vector128.Create(0x4330000000000000L)).AsDouble()
                                   - Vector128.Create(4503599627370496.0 + 1023.0);
            kf += kadd;
            // m = bits((u & mantissa) + bits(sqrt(1/2))); f = m - 1
            Vector128<double> m = ((u & Vector128.Create(0x000fffffffffffffL)) + Vector128.Create(unchecked((long)SqrtHalfBitsF64))).AsDouble();
            Vector128<double> f = m - Vector128.Create(1.0);
            Vector128<double> s = f / (Vector128.Create(2.0) + f);
            Vector128<double> z = s * s;
            Vector128<double> p = Fma(z, Vector128.Create(LogL7F64), Vector128.Create(LogL6F64));
            p = Fma(z, p, Vector128.Create(LogL5F64));
            p = Fma(z, p, Vector128.Create(LogL4F64));
            p = Fma(z, p, Vector128.Create(LogL3F64));
            p = Fma(z, p, Vector128.Create(LogL2F64));
            p = Fma(z, p, Vector128.Create(LogL1F64));
            Vector128<double> r = z * p;
            Vector128<double> hfsq = (Vector128.Create(0.5) * f) * f;
            Vector128<double> w = s * (hfsq + r);
            w = Fma(kf, Vector128.Create(Ln2LoF64), w);
            Vector128<double> y = Fma(kf, Vector128.Create(Ln2HiF64), f - (hfsq - w));
            y = Vector128.ConditionalSelect(Vector128.Equals(t, Vector128.Create(double.PositiveInfinity)), Vector128.Create(double.PositiveInfinity), y);
            y = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(t, Vector128<double>.Zero), y, Vector128.Create(ManagedMath.NaNF64));
            y = Vector128.ConditionalSelect(Vector128.Equals(t, Vector128<double>.Zero), Vector128.Create(double.NegativeInfinity), y);
            return y;
        }

        // ------------------------------------------------------------ exp f32

        /// <summary>exp x lane by lane, as ManagedMath.Exp(float) (vmath_avx2.h exp_ps_slow): the spec's
        /// two-factor scaling; lanes at the low clamp set to +0.</summary>
        public static Vector128<float> Exp(Vector128<float> x)
        {
            Vector128<float> xc = MaxX86(Vector128.Create(ExpLoF32), x);
            xc = MinX86(Vector128.Create(ExpHiF32), xc);
            Vector128<float> zero = Vector128.Equals(xc, Vector128.Create(ExpLoF32));
            xc = ZeroWhere(zero, xc);
            // kr = x log2e + Round (k in its low bits); kf = kr - Round
            Vector128<float> kr = Fma(xc, Vector128.Create(Log2EF32), Vector128.Create(RoundF32));
            Vector128<float> kf = kr - Vector128.Create(RoundF32);
            Vector128<float> r = Fma(kf, Vector128.Create(-Ln2HiF32), xc);
            r = Fma(kf, Vector128.Create(-Ln2LoF32), r);
            Vector128<float> p = Fma(Vector128.Create(ExpE6F32), r, Vector128.Create(ExpE5F32));
            p = Fma(p, r, Vector128.Create(ExpE4F32));
            p = Fma(p, r, Vector128.Create(ExpE3F32));
            p = Fma(p, r, Vector128.Create(ExpE2F32));
            p = Fma(p, r, Vector128.Create(1.0f));
            p = Fma(p, r, Vector128.Create(1.0f));
            // p 2^k as (p 2^k1) 2^k2, k1 = floor(k / 2), k = bits(kr) - bits(Round)
            Vector128<int> k = kr.AsInt32() - Vector128.Create(unchecked((int)RoundBitsF32));
            Vector128<int> k1 = Vector128.ShiftRightLogical(k + Vector128.Create(256), 1) - Vector128.Create(128);
            Vector128<int> k2 = k - k1;
            Vector128<float> s1 = Vector128.ShiftLeft(k1 + Vector128.Create(127), 23).AsSingle();
            Vector128<float> s2 = Vector128.ShiftLeft(k2 + Vector128.Create(127), 23).AsSingle();
            return ZeroWhere(zero, (p * s1) * s2);
        }

        // ------------------------------------------------------------ exp2 f32

        /// <summary>2^x lane by lane, as ManagedMath.Exp2(float) (vmath_neon.h nkl_exp2_f32x4): the spec's
        /// clamp (NaN stays NaN) and two-factor scaling, so a subnormal result rounds once.</summary>
        public static Vector128<float> Exp2(Vector128<float> x)
        {
            Vector128<float> xc = MaxX86(Vector128.Create(Exp2LoF32), x);
            xc = MinX86(Vector128.Create(Exp2HiF32), xc);
            // kr = x + Round: k = round(x) in the low mantissa bits; r = x - k exactly
            Vector128<float> kr = xc + Vector128.Create(RoundF32);
            Vector128<float> kf = kr - Vector128.Create(RoundF32);
            Vector128<int> k = kr.AsInt32() - Vector128.Create(unchecked((int)RoundBitsF32));
            Vector128<float> r = xc - kf;
            Vector128<float> p = Fma(Vector128.Create(Exp2C5F32), r, Vector128.Create(Exp2C4F32));
            p = Fma(p, r, Vector128.Create(Exp2C3F32));
            p = Fma(p, r, Vector128.Create(Exp2C2F32));
            p = Fma(p, r, Vector128.Create(Exp2C1F32));
            p = Fma(p, r, Vector128.Create(1.0f));
            Vector128<int> k1 = Vector128.ShiftRightLogical(k + Vector128.Create(256), 1) - Vector128.Create(128);
            Vector128<int> k2 = k - k1;
            Vector128<float> s1 = Vector128.ShiftLeft(k1 + Vector128.Create(127), 23).AsSingle();
            Vector128<float> s2 = Vector128.ShiftLeft(k2 + Vector128.Create(127), 23).AsSingle();
            return (p * s1) * s2;
        }

        // ------------------------------------------------------------ exp f64

        /// <summary>exp x lane by lane, as ManagedMath.Exp(double) (vmath_avx2.h exp_pd_slow).</summary>
        public static Vector128<double> Exp(Vector128<double> x)
        {
            Vector128<double> xc = MaxX86(Vector128.Create(ExpLoF64), x);
            xc = MinX86(Vector128.Create(ExpHiF64), xc);
            Vector128<double> zero = Vector128.Equals(xc, Vector128.Create(ExpLoF64));
            xc = ZeroWhere(zero, xc);
            // kr = 8x/ln2 + Round holds 8k + j in its low bits
            Vector128<double> kr = Fma(xc, Vector128.Create(Exp8Log2EF64), Vector128.Create(RoundF64));
            Vector128<double> kf = kr - Vector128.Create(RoundF64);
            Vector128<double> r = Fma(kf, Vector128.Create(-ExpLn2Over8HiF64), xc);
            r = Fma(kf, Vector128.Create(-ExpLn2Over8LoF64), r);
            Vector128<double> p = Fma(Vector128.Create(ExpC7F64), r, Vector128.Create(ExpC6F64));
            p = Fma(p, r, Vector128.Create(ExpC5F64));
            p = Fma(p, r, Vector128.Create(ExpC4F64));
            p = Fma(p, r, Vector128.Create(ExpC3F64));
            p = Fma(p, r, Vector128.Create(ExpC2F64));
            Vector128<double> q = Fma(r * r, p, r);
            Vector128<long> kj = kr.AsInt64() - Vector128.Create(unchecked((long)RoundBitsF64)); // 8k + j
            Vector128<double> s = Vector128.Create(ExpSBitsF64[(int)(kj.GetElement(0) & 7)], ExpSBitsF64[(int)(kj.GetElement(1) & 7)]).AsDouble();
            Vector128<double> e = Fma(s, q, s);
            // k = (8k + j) >> 3 (arithmetic); k1 = floor(k / 2), k2 = k - k1; y = (e 2^k1) 2^k2
            Vector128<long> k = Vector128.ShiftRightLogical(kj + Vector128.Create(0x100000L), 3) - Vector128.Create(0x20000L);
            Vector128<long> k1 = Vector128.ShiftRightLogical(k + Vector128.Create(2048L), 1) - Vector128.Create(1024L);
            Vector128<long> k2 = k - k1;
            Vector128<double> s1 = Vector128.ShiftLeft(k1 + Vector128.Create(1023L), 52).AsDouble();
            Vector128<double> s2 = Vector128.ShiftLeft(k2 + Vector128.Create(1023L), 52).AsDouble();
            return ZeroWhere(zero, (e * s1) * s2);
        }
    }
}
#endif
