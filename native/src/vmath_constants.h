/*
 * vmath_constants.h - the one copy of every constant the vector math uses.
 *
 * The scalar path (vmath_scalar.h) and the AVX2 path (x86/vmath_avx2.h)
 * evaluate the same formulas with these constants, in the same order, with
 * explicit fused multiply-adds, so their results are bit-identical.
 *
 * log: t = 2^k * m, m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f),
 *      log(1 + f) = 2 atanh(s) = f - (hfsq - s (hfsq + R)), hfsq = f^2 / 2,
 *      R = sum_{j>=1} 2 s^(2j) / (2j + 1): the Taylor coefficients 2/(2j+1),
 *      truncated where the next term is below 2^-30 (f32) / 2^-58 (f64) of
 *      the result. |s| <= 0.1716, so s^2 <= 0.02944.
 * exp: x = k ln2 + r, |r| <= ln2/2, exp(r) by its Taylor series 1/n!,
 *      truncated where the next term is below 2^-27 (f32) / 2^-57 (f64);
 *      2^k applied as two factors so that subnormal results round once.
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

/* Bit pattern of sqrt(1/2) rounded: m is taken in [sqrt(1/2), sqrt(2)). */
#define NKL_SQRTHALF_BITS_F32 0x3f3504f3u
#define NKL_SQRTHALF_BITS_F64 0x3fe6a09e667f3bcdull

/* log: R(z) = z * (L1 + z * (L2 + ...)), Lj = 2 / (2j + 1). */
#define NKL_LOG_L1_F32 0x1.555556p-1f
#define NKL_LOG_L2_F32 0x1.99999ap-2f
#define NKL_LOG_L3_F32 0x1.24924ap-2f
#define NKL_LOG_L4_F32 0x1.c71c72p-3f

#define NKL_LOG_L1_F64 0x1.5555555555555p-1
#define NKL_LOG_L2_F64 0x1.999999999999ap-2
#define NKL_LOG_L3_F64 0x1.2492492492492p-2
#define NKL_LOG_L4_F64 0x1.c71c71c71c71cp-3
#define NKL_LOG_L5_F64 0x1.745d1745d1746p-3
#define NKL_LOG_L6_F64 0x1.3b13b13b13b14p-3
#define NKL_LOG_L7_F64 0x1.1111111111111p-3
#define NKL_LOG_L8_F64 0x1.e1e1e1e1e1e1ep-4
#define NKL_LOG_L9_F64 0x1.af286bca1af28p-4

/* exp: p(r) = 1 + r + E2 r^2 + ... ; En = 1 / n!. */
#define NKL_EXP_E2_F32 0x1.000000p-1f
#define NKL_EXP_E3_F32 0x1.555556p-3f
#define NKL_EXP_E4_F32 0x1.555556p-5f
#define NKL_EXP_E5_F32 0x1.111112p-7f
#define NKL_EXP_E6_F32 0x1.6c16c2p-10f
#define NKL_EXP_E7_F32 0x1.a01a02p-13f

#define NKL_EXP_E2_F64 0x1.0000000000000p-1
#define NKL_EXP_E3_F64 0x1.5555555555555p-3
#define NKL_EXP_E4_F64 0x1.5555555555555p-5
#define NKL_EXP_E5_F64 0x1.1111111111111p-7
#define NKL_EXP_E6_F64 0x1.6c16c16c16c17p-10
#define NKL_EXP_E7_F64 0x1.a01a01a01a01ap-13
#define NKL_EXP_E8_F64 0x1.a01a01a01a01ap-16
#define NKL_EXP_E9_F64 0x1.71de3a556c734p-19
#define NKL_EXP_E10_F64 0x1.27e4fb7789f5cp-22
#define NKL_EXP_E11_F64 0x1.ae64567f544e4p-26
#define NKL_EXP_E12_F64 0x1.1eed8eff8d898p-29
#define NKL_EXP_E13_F64 0x1.6124613a86d09p-33

/* exp input clamps: below the low bound the result is 0, above the high
   bound +inf; the clamps keep 2^k representable as two normal factors. */
#define NKL_EXP_LO_F32 -104.0f
#define NKL_EXP_HI_F32 89.0f
#define NKL_EXP_LO_F64 -746.0
#define NKL_EXP_HI_F64 710.0

/* x + ROUND - ROUND rounds x to an integer (ties to even) for |x| < 2^22 / 2^51. */
#define NKL_ROUND_F32 0x1.8p23f
#define NKL_ROUND_F64 0x1.8p52

#endif
