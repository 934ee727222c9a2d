// ManagedMath.cs - log and exp, one element at a time: native/src/vmath_scalar.h
// line for line (same constants, same operations, same order).
//
// Bit identity with the native library needs a real fused multiply-add, so
// Fma() below is MathF/Math.FusedMultiplyAdd where the runtime has it
// (.NET Core 3.0+). netstandard2.0 has none: there Fma() is emulated
// (see the comments on it) and results may differ from native in the last
// bits. RyuJIT never fuses or reassociates a plain a * b + c, so every other
// operation rounds exactly as the C code compiled with -ffp-contract=off.

using System;
using System.Runtime.CompilerServices;
#if !NETCOREAPP2_0_OR_GREATER
using System.Runtime.InteropServices;
#endif
using static NativeKl.Managed.KlConstants;

namespace NativeKl.Managed
{
    internal static class ManagedMath
    {
        // ------------------------------------------------ fused multiply-add

        /// <summary>a * b + c with one rounding where the runtime offers it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Fma(float a, float b, float c)
        {
#if NETCOREAPP3_0_OR_GREATER
            return MathF.FusedMultiplyAdd(a, b, c);
#else
            // The product of two floats is exact in double, so this rounds
            // only the sum, twice (to double, then to float): the same as
            // fmaf except for rare double-rounding ties.
            return (float)((double)a * b + c);
#endif
        }

        /// <summary>a * b + c with one rounding where the runtime offers it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double Fma(double a, double b, double c)
        {
#if NETCOREAPP3_0_OR_GREATER
            return Math.FusedMultiplyAdd(a, b, c);
#else
            // No wider type to lean on: two roundings, not bit-identical.
            return a * b + c;
#endif
        }

        // ------------------------------------------------------------ bits

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint Bits(float f)
        {
#if NETCOREAPP2_0_OR_GREATER
            return unchecked((uint)BitConverter.SingleToInt32Bits(f));
#else
            return new FloatBits { Float = f }.Bits;
#endif
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float FloatFromBits(uint u)
        {
#if NETCOREAPP2_0_OR_GREATER
            return BitConverter.Int32BitsToSingle(unchecked((int)u));
#else
            return new FloatBits { Bits = u }.Float;
#endif
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Bits(double d) => unchecked((ulong)BitConverter.DoubleToInt64Bits(d));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double DoubleFromBits(ulong u) => BitConverter.Int64BitsToDouble(unchecked((long)u));

#if !NETCOREAPP2_0_OR_GREATER
        // netstandard2.0 lacks BitConverter.SingleToInt32Bits: overlay instead.
        [StructLayout(LayoutKind.Explicit)]
        private struct FloatBits
        {
            [FieldOffset(0)] public float Float;
            [FieldOffset(0)] public uint Bits;
        }
#endif

        /// <summary>C's NAN: a positive quiet NaN (float.NaN has the sign bit set).</summary>
        public static readonly float NaNF32 = FloatFromBits(QuietNaNBitsF32);
        public static readonly double NaNF64 = DoubleFromBits(QuietNaNBitsF64);

        /// <summary>
        /// v, or <see cref="NaNF32"/> where v is any NaN (nkl_canon_nan_f32): every value the library
        /// writes or returns goes through this (or Avx2Math.CanonicalNaN) last, so that a NaN has
        /// one bit pattern whichever operand the hardware propagated (an input's NaN, or x64's
        /// negative default NaN from 0 * inf or 0 / 0, as float.NaN itself).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float CanonicalNaN(float v) => float.IsNaN(v) ? NaNF32 : v;

        /// <summary>v, or <see cref="NaNF64"/> where v is any NaN (nkl_canon_nan_f64).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static double CanonicalNaN(double v) => double.IsNaN(v) ? NaNF64 : v;

        // ------------------------------------------------------------- log

        /// <summary>log t: +inf -> +inf, t &lt; 0 or NaN -> NaN, +-0 -> -inf, subnormals exact.</summary>
        public static float Log(float t)
        {
            // Subnormals are scaled into the normal range; the exponent is taken back in kf.
            bool subnormal = t < MinNormalF32;
            float ts = subnormal ? t * SubnormalScaleF32 : t;
            float kadd = subnormal ? SubnormalExponentF32 : 0.0f;
            // tmp = bits(t) - bits(OFF): k = tmp >> 23 (arithmetic), the bucket its top 3
            // mantissa bits, and z = t / 2^k in [OFF, 2 OFF)
            uint ix = Bits(ts), tmp = unchecked(ix - LogOffBitsF32);
            float kf = (float)(unchecked((int)tmp) >> 23) + kadd;
            int bucket = (int)((tmp >> 20) & 7);
            float invc = LogInvcF32[bucket], logc = LogLogcF32[bucket];
            float z = FloatFromBits(unchecked(ix - (tmp & 0xff800000u)));
            // r = z / c - 1; log t = (k ln2 + logc) + (r + r^2 P(r))
            float r = Fma(z, invc, -1.0f);
            float r2 = r * r;
            float p = Fma(r, LogC5F32, LogC4F32);
            p = Fma(r, p, LogC3F32);
            p = Fma(r, p, LogC2F32);
            float q = Fma(r2, p, r);
            float y = Fma(kf, Ln2HiF32, logc) + q;
            // Special values last, in the C order (the last match wins).
            if (t == float.PositiveInfinity) y = float.PositiveInfinity;
            if (!(t >= 0.0f)) y = NaNF32;
            if (t == 0.0f) y = float.NegativeInfinity;
            return y;
        }

        /// <summary>log t: +inf -> +inf, t &lt; 0 or NaN -> NaN, +-0 -> -inf, subnormals exact.</summary>
        public static double Log(double t)
        {
            bool subnormal = t < MinNormalF64;
            double ts = subnormal ? t * SubnormalScaleF64 : t;
            double kadd = subnormal ? SubnormalExponentF64 : 0.0;
            ulong u = unchecked(Bits(ts) + (0x3ff0000000000000UL - SqrtHalfBitsF64));
            double kf = ((double)(u >> 52) - 1023.0) + kadd;
            double m = DoubleFromBits((u & 0x000fffffffffffffUL) + SqrtHalfBitsF64);
            double f = m - 1.0;
            double s = f / (2.0 + f);
            double z = s * s;
            double p = Fma(z, LogL7F64, LogL6F64);
            p = Fma(z, p, LogL5F64);
            p = Fma(z, p, LogL4F64);
            p = Fma(z, p, LogL3F64);
            p = Fma(z, p, LogL2F64);
            p = Fma(z, p, LogL1F64);
            double r = z * p;
            double hfsq = (0.5 * f) * f;
            double w = s * (hfsq + r);
            w = Fma(kf, Ln2LoF64, w);
            double y = Fma(kf, Ln2HiF64, f - (hfsq - w));
            if (t == double.PositiveInfinity) y = double.PositiveInfinity;
            if (!(t >= 0.0)) y = NaNF64;
            if (t == 0.0) y = double.NegativeInfinity;
            return y;
        }

        // ------------------------------------------------------------- exp

        /// <summary>vmath_scalar.h nkl_scale2_f32: p 2^k as two normal factors 2^k1 * 2^k2 (k1 = floor(k / 2),
        /// k as two's complement) so that a subnormal result rounds once.</summary>
        private static float Scale2(float p, uint k)
        {
            uint k1 = unchecked(((k + 256u) >> 1) - 128u);
            uint k2 = unchecked(k - k1);
            float s1 = FloatFromBits(unchecked((k1 + 127u) << 23));
            float s2 = FloatFromBits(unchecked((k2 + 127u) << 23));
            return (p * s1) * s2;
        }

        /// <summary>exp x: NaN -> NaN, overflow -> +inf, underflow rounds once (subnormals).</summary>
        public static float Exp(float x)
        {
            // Clamp; written so that NaN fails both tests and stays NaN.
            float xc = ExpLoF32 > x ? ExpLoF32 : x;
            xc = ExpHiF32 < xc ? ExpHiF32 : xc;
            // kr = x log2(e) + Round: k sits in the low mantissa bits of kr.
            float kr = Fma(xc, Log2EF32, RoundF32);
            float kf = kr - RoundF32;
            uint k = unchecked(Bits(kr) - RoundBitsF32); // k as two's complement
            // r = x - k ln2, in two steps (hi part exact).
            float r = Fma(kf, -Ln2HiF32, xc);
            r = Fma(kf, -Ln2LoF32, r);
            float p = Fma(ExpE6F32, r, ExpE5F32);
            p = Fma(p, r, ExpE4F32);
            p = Fma(p, r, ExpE3F32);
            p = Fma(p, r, ExpE2F32);
            p = Fma(p, r, 1.0f);
            p = Fma(p, r, 1.0f);
            return Scale2(p, k);
        }

        /// <summary>2^x (vmath_scalar.h nkl_exp2_f32): NaN -> NaN, overflow -> +inf, underflow rounds once.</summary>
        public static float Exp2(float x)
        {
            float xc = Exp2LoF32 > x ? Exp2LoF32 : x; // NaN stays NaN
            xc = Exp2HiF32 < xc ? Exp2HiF32 : xc;
            // kr = x + Round: k = round(x) in the low mantissa bits; r = x - k exactly
            float kr = xc + RoundF32;
            float kf = kr - RoundF32;
            uint k = unchecked(Bits(kr) - RoundBitsF32);
            float r = xc - kf;
            float p = Fma(Exp2C5F32, r, Exp2C4F32);
            p = Fma(p, r, Exp2C3F32);
            p = Fma(p, r, Exp2C2F32);
            p = Fma(p, r, Exp2C1F32);
            p = Fma(p, r, 1.0f);
            return Scale2(p, k);
        }

        /// <summary>exp x: x = (8k + j) ln2/8 + r, e^x = 2^k S[j] (1 + q(r)); NaN -> NaN,
        /// overflow -> +inf, underflow rounds once (subnormals).</summary>
        public static double Exp(double x)
        {
            double xc = ExpLoF64 > x ? ExpLoF64 : x;
            xc = ExpHiF64 < xc ? ExpHiF64 : xc;
            double kr = Fma(xc, Exp8Log2EF64, RoundF64); // 8k + j = round(8x / ln2)
            double kf = kr - RoundF64;
            ulong kj = unchecked(Bits(kr) - RoundBitsF64); // 8k + j, two's complement
            double r = Fma(kf, -ExpLn2Over8HiF64, xc);
            r = Fma(kf, -ExpLn2Over8LoF64, r);
            double p = Fma(ExpC7F64, r, ExpC6F64);
            p = Fma(p, r, ExpC5F64);
            p = Fma(p, r, ExpC4F64);
            p = Fma(p, r, ExpC3F64);
            p = Fma(p, r, ExpC2F64);
            double q = Fma(r * r, p, r);
            double s = DoubleFromBits(ExpSBitsF64[(int)(kj & 7)]);
            double e = Fma(s, q, s);
            // k = (8k + j) >> 3, arithmetic (|8k + j| < 2^20), then 2^k as two factors
            ulong k = unchecked(((kj + 0x100000UL) >> 3) - 0x20000UL);
            ulong k1 = unchecked(((k + 2048UL) >> 1) - 1024UL);
            ulong k2 = unchecked(k - k1);
            double s1 = DoubleFromBits(unchecked((k1 + 1023UL) << 52));
            double s2 = DoubleFromBits(unchecked((k2 + 1023UL) << 52));
            return (e * s1) * s2;
        }
    }
}
