/*
 * vmath_constants.h - the one copy of every constant the vector math uses.
 *
 * The scalar path (vmath_scalar.h) and the AVX2 path (x86/vmath_avx2.h)
 * evaluate the same formulas with these constants, in the same order, with
 * explicit fused multiply-adds, so their results are bit-identical.
 *
 * log: t = 2^k * m, m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f),
 *      log(1 + f) = 2 atanh(s) = f - (hfsq - s (hfsq + R)), hfsq = f^2 / 2,
 *      R(z) ~ sum_{j>=1} 2 z^j / (2j + 1), z = s^2 in [0, 0.02944].
 * exp: x = k ln2 + r, |r| <= ln2/2, p(r) ~ exp(r); 2^k applied as two
 *      factors so that subnormal results round once.
 * The polynomials are minimax fits (Lawson's iteration, fitted as a
 * correction to the Taylor series so that float64 stays well conditioned,
 * in long double): approximation error at most 0.015 ulp (log f32),
 * 0.07 ulp (exp f32), 0.18 ulp (log f64) and 0.06 ulp (exp f64); the
 * measured totals, rounding included, are in native/README.md.
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

/* log: R(z) = z * (L1 + z * (L2 + ...)) */
#define NKL_LOG_L1_F32 0x1.55557ap-1f
#define NKL_LOG_L2_F32 0x1.995ebap-2f
#define NKL_LOG_L3_F32 0x1.31e2e2p-2f

#define NKL_LOG_L1_F64 0x1.55555555552acp-1
#define NKL_LOG_L2_F64 0x1.9999999a6be2ap-2
#define NKL_LOG_L3_F64 0x1.249248794a218p-2
#define NKL_LOG_L4_F64 0x1.c71cef384cb6ap-3
#define NKL_LOG_L5_F64 0x1.744712868469ep-3
#define NKL_LOG_L6_F64 0x1.3cad2a481cd91p-3
#define NKL_LOG_L7_F64 0x1.113acfb234771p-3

/* exp: p(r) = 1 + r (1 + r (E2 + r (E3 + ...))) */
#define NKL_EXP_E2_F32 0x1.fffffcp-2f
#define NKL_EXP_E3_F32 0x1.555490p-3f
#define NKL_EXP_E4_F32 0x1.5558fcp-5f
#define NKL_EXP_E5_F32 0x1.123b8ap-7f
#define NKL_EXP_E6_F32 0x1.6a216cp-10f

#define NKL_EXP_E2_F64 0x1.000000000000ap-1
#define NKL_EXP_E3_F64 0x1.55555555554f7p-3
#define NKL_EXP_E4_F64 0x1.55555555506a7p-5
#define NKL_EXP_E5_F64 0x1.111111112859fp-7
#define NKL_EXP_E6_F64 0x1.6c16c184964d4p-10
#define NKL_EXP_E7_F64 0x1.a01a0127bfd46p-13
#define NKL_EXP_E8_F64 0x1.a01998da2ad50p-16
#define NKL_EXP_E9_F64 0x1.71df297a112a2p-19
#define NKL_EXP_E10_F64 0x1.28ae981934f74p-22
#define NKL_EXP_E11_F64 0x1.ad7b83bc4d5f5p-26

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
