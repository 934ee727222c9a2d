/*
 * vmath_constants.h - the one copy of every constant the vector math uses.
 *
 * The scalar path (vmath_scalar.h) and the AVX2 path (x86/vmath_avx2.h)
 * evaluate the same formulas with these constants, in the same order, with
 * explicit fused multiply-adds, so their results are bit-identical.
 *
 * log f32: t = 2^k z, z in [0.71875, 1.4375); 8 buckets of z, each with
 *      invc ~ 1/c and logc = -log(invc); r = fma(z, invc, -1) (|r| <= 1/16),
 *      log t = (k ln2 + logc) + (r + r^2 P(r)). No division.
 *      native/tools/log_f32_table.c derives the table and P.
 * log f64: t = 2^k * m, m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f),
 *      log(1 + f) = 2 atanh(s) = f - (hfsq - s (hfsq + R)), hfsq = f^2 / 2,
 *      R(z) ~ sum_{j>=1} 2 z^j / (2j + 1), z = s^2 in [0, 0.02944].
 * exp f32: x = k ln2 + r, |r| <= ln2/2, p(r) ~ exp(r); 2^k applied as two
 *      factors so that subnormal results round once.
 * exp f64: x = (8k + j) ln2/8 + r, j = 0..7, |r| <= ln2/16; e^x =
 *      2^k S[j] (1 + q(r)) with S[j] = 2^(j/8) rounded, q(r) ~ e^r - 1 of
 *      degree 7 (native/tools/exp_f64_fit.c); 2^k as for float32.
 * exp2 f32 (2^x, the float32 distillation value pass, whose logits come
 *      scaled by log2(e)/T): x = k + r, r = x - round(x) exact, |r| <= 1/2,
 *      p(r) ~ 2^r of degree 5; no ln 2 reduction steps. The polynomial
 *      minimises the error in ulps of the result (native/tools/exp2_f32_fit.c).
 * The log f64 and exp polynomials are minimax fits (Lawson's iteration,
 * fitted as a correction to the Taylor series so that float64 stays well
 * conditioned, in long double): approximation error at most 0.07 ulp
 * (exp f32), 0.18 ulp (log f64) and 0.013 ulp (exp f64). The log f32 P is a
 * weighted least-squares fit (native/tools/log_f32_table.c). The measured
 * totals, rounding included, are in native/README.md.
 */
#ifndef NKL_VMATH_CONSTANTS_H
#define NKL_VMATH_CONSTANTS_H

/* ln 2 = LN2_HI + LN2_LO (LN2_HI = ln 2 rounded, LN2_LO = the rest rounded). */
#define NKL_LN2_HI_F32 0x1.62e430p-1f
#define NKL_LN2_LO_F32 -0x1.05c610p-29f
#define NKL_LOG2E_F32 0x1.715476p+0f
#define NKL_LN2_HI_F64 0x1.62e42fefa39efp-1
#define NKL_LN2_LO_F64 0x1.abc9e3b39803fp-56
#define NKL_LOG2E_F64 0x1.71547652b82fep+0

/* Smallest normal numbers; log multiplies a smaller t by SUBNORMAL_SCALE
   (2^25, 2^54) into the normal range and adds SUBNORMAL_EXPONENT back to k. */
#define NKL_MIN_NORMAL_F32 0x1p-126f
#define NKL_SUBNORMAL_SCALE_F32 0x1p25f
#define NKL_SUBNORMAL_EXPONENT_F32 -25.0f
#define NKL_MIN_NORMAL_F64 0x1p-1022
#define NKL_SUBNORMAL_SCALE_F64 0x1p54
#define NKL_SUBNORMAL_EXPONENT_F64 -54.0

/* log f32 (native/tools/log_f32_table.c): z = t / 2^k is in [OFF, 2 OFF),
   OFF = 0.71875; bucket i = top 3 mantissa bits of bits(t) - bits(OFF), whose
   invc and logc (-log(invc), within 0.0004 ulp of it) are entry i of the
   tables; the bucket [0.96875, 1.0625) holding 1 has invc = 1, logc = 0.
   P(r) = C2 + r (C3 + r (C4 + r C5)). */
#define NKL_LOG_OFF_BITS_F32 0x3f380000u
#define NKL_LOG_INVC_F32 {0x1.5545bp+0f, 0x1.3b0afap+0f, 0x1.247fb2p+0f, 0x1.10fe9ep+0f, 0x1p+0f, 0x1.c7333p-1f, 0x1.99a968p-1f, 0x1.746c6cp-1f}
#define NKL_LOG_LOGC_F32 {-0x1.26673p-2f, -0x1.a9062cp-3f, -0x1.10f6c2p-3f, -0x1.0744c4p-4f, 0x0p+0f, 0x1.e1a3ccp-4f, 0x1.c8b076p-3f, 0x1.45ee94p-2f}
#define NKL_LOG_C2_F32 -0x1.ffffc8p-2f
#define NKL_LOG_C3_F32 0x1.55569cp-2f
#define NKL_LOG_C4_F32 -0x1.00cf54p-2f
#define NKL_LOG_C5_F32 0x1.9634e8p-3f

/* Bit pattern of sqrt(1/2) rounded: m is taken in [sqrt(1/2), sqrt(2)). */
#define NKL_SQRTHALF_BITS_F64 0x3fe6a09e667f3bcdull

/* log f64: R(z) = z * (L1 + z * (L2 + ...)) */

#define NKL_LOG_L1_F64 0x1.55555555552acp-1
#define NKL_LOG_L2_F64 0x1.9999999a6be2ap-2
#define NKL_LOG_L3_F64 0x1.249248794a218p-2
#define NKL_LOG_L4_F64 0x1.c71cef384cb6ap-3
#define NKL_LOG_L5_F64 0x1.744712868469ep-3
#define NKL_LOG_L6_F64 0x1.3cad2a481cd91p-3
#define NKL_LOG_L7_F64 0x1.113acfb234771p-3

/* exp f32: p(r) = 1 + r (1 + r (E2 + r (E3 + ...))) */
#define NKL_EXP_E2_F32 0x1.fffffcp-2f
#define NKL_EXP_E3_F32 0x1.555490p-3f
#define NKL_EXP_E4_F32 0x1.5558fcp-5f
#define NKL_EXP_E5_F32 0x1.123b8ap-7f
#define NKL_EXP_E6_F32 0x1.6a216cp-10f

/* exp f64 (native/tools/exp_f64_fit.c): S[j] = 2^(j/8) rounded, as bits (Sj);
   q(r) = r + r^2 (C2 + r (C3 + r (C4 + r (C5 + r (C6 + r C7))))); the
   reduction constants 8 log2(e) and ln2/8 (hi, lo) are exact scalings of
   NKL_LOG2E_F64 and NKL_LN2_HI/LO_F64. */
#define NKL_EXP_S0_BITS_F64 0x3ff0000000000000ull
#define NKL_EXP_S1_BITS_F64 0x3ff172b83c7d517bull
#define NKL_EXP_S2_BITS_F64 0x3ff306fe0a31b715ull
#define NKL_EXP_S3_BITS_F64 0x3ff4bfdad5362a27ull
#define NKL_EXP_S4_BITS_F64 0x3ff6a09e667f3bcdull
#define NKL_EXP_S5_BITS_F64 0x3ff8ace5422aa0dbull
#define NKL_EXP_S6_BITS_F64 0x3ffae89f995ad3adull
#define NKL_EXP_S7_BITS_F64 0x3ffd5818dcfba487ull
#define NKL_EXP_S_BITS_F64 {NKL_EXP_S0_BITS_F64, NKL_EXP_S1_BITS_F64, NKL_EXP_S2_BITS_F64, NKL_EXP_S3_BITS_F64, \
                            NKL_EXP_S4_BITS_F64, NKL_EXP_S5_BITS_F64, NKL_EXP_S6_BITS_F64, NKL_EXP_S7_BITS_F64}
#define NKL_EXP_8LOG2E_F64 0x1.71547652b82fep+3
#define NKL_EXP_LN2_8_HI_F64 0x1.62e42fefa39efp-4
#define NKL_EXP_LN2_8_LO_F64 0x1.abc9e3b39803fp-59
#define NKL_EXP_C2_F64 0x1.000000000010ep-1
#define NKL_EXP_C3_F64 0x1.55555555552c8p-3
#define NKL_EXP_C4_F64 0x1.55555547fc011p-5
#define NKL_EXP_C5_F64 0x1.1111111c95989p-7
#define NKL_EXP_C6_F64 0x1.6c1cc10dbf051p-10
#define NKL_EXP_C7_F64 0x1.a0196207e430fp-13

/* exp2 f32: p(r) = 1 + r (C1 + r (C2 + r (C3 + r (C4 + r C5)))) */
#define NKL_EXP2_C1_F32 0x1.62e424p-1f
#define NKL_EXP2_C2_F32 0x1.ebf9b4p-3f
#define NKL_EXP2_C3_F32 0x1.c6baa2p-5f
#define NKL_EXP2_C4_F32 0x1.3ceca2p-7f
#define NKL_EXP2_C5_F32 0x1.5ab43ap-10f

/* exp input clamps: below the low bound the result is 0, above the high
   bound +inf; the clamps keep 2^k representable as two normal factors. */
#define NKL_EXP_LO_F32 -104.0f
#define NKL_EXP_HI_F32 89.0f
#define NKL_EXP_LO_F64 -746.0
#define NKL_EXP_HI_F64 710.0
/* exp fast path of the vector code (the same bits as the full path): for x
   in [FAST_LO, FAST_HI], p 2^k is normal and one multiply by 2^k is exact. */
#define NKL_EXP_FAST_LO_F32 -86.0f
#define NKL_EXP_FAST_HI_F32 88.0f
#define NKL_EXP_FAST_LO_F64 -700.0
#define NKL_EXP_FAST_HI_F64 700.0
/* exp2 f32: 2^-151 rounds to +0, 2^129 overflows; for x in [-125, 127],
   p 2^k is normal (the fast range) */
#define NKL_EXP2_LO_F32 -151.0f
#define NKL_EXP2_HI_F32 129.0f
#define NKL_EXP2_FAST_LO_F32 -125.0f
#define NKL_EXP2_FAST_HI_F32 127.0f

/* x + ROUND - ROUND rounds x to an integer (ties to even) for |x| < 2^22 / 2^51. */
#define NKL_ROUND_F32 0x1.8p23f
#define NKL_ROUND_F64 0x1.8p52

/* Bits of C's NAN, a positive quiet NaN (C#'s float.NaN is negative, so the
   managed code builds its NaN from these); test_special_values checks them. */
#define NKL_QUIET_NAN_BITS_F32 0x7fc00000u
#define NKL_QUIET_NAN_BITS_F64 0x7ff8000000000000ull

#endif
