/*
 * vmath_scalar.h - log and exp, one element at a time: the specification.
 *
 * x86/vmath_avx2.h evaluates exactly these operations lane by lane; a test
 * checks the two bit for bit. Every multiply-add below is an explicit
 * fma()/fmaf() and this file is compiled with -ffp-contract=off, so the
 * compiler cannot fuse or split anything differently. Integer steps only
 * produce exact values, so they may differ in form from the vector code.
 * Accuracy (measured by native/tests/test_ulp.c over every positive float32
 * and a dense float64 sample) is documented in native/README.md.
 */
#ifndef NKL_VMATH_SCALAR_H
#define NKL_VMATH_SCALAR_H

#include "internal.h"
#include "vmath_constants.h"

/*
 * The specification's fused multiply-add must round once, as the vector instruction does.
 * NKL_SOFT_FMA (CMake sets it where the C library's fma/fmaf are not correctly rounded:
 * mingw-w64) selects the portable one of soft_fma.h, unless the compiler targets FMA anyway
 * (__FMA__: then fma() is the instruction). Elsewhere fma() is the C library's or the
 * instruction the compiler inlines for it.
 */
#if defined(NKL_SOFT_FMA) && !defined(__FMA__)
#include "soft_fma.h"
#define nkl_fma nkl_soft_fma
#define nkl_fmaf nkl_soft_fmaf
#else
#define nkl_fma fma
#define nkl_fmaf fmaf
#endif

/* log t: +inf -> +inf, t < 0 or NaN -> NaN, +-0 -> -inf, subnormals exact. */
NKL_INLINE float nkl_log_f32(float t) {
    static const float invc_table[8] = NKL_LOG_INVC_F32, logc_table[8] = NKL_LOG_LOGC_F32;
    int subnormal = t < NKL_MIN_NORMAL_F32;
    float ts = subnormal ? t * NKL_SUBNORMAL_SCALE_F32 : t;
    float kadd = subnormal ? NKL_SUBNORMAL_EXPONENT_F32 : 0.0f;
    /* tmp = bits(t) - bits(OFF): k = tmp >> 23 (arithmetic; written here
       without a signed shift), the bucket its top 3 mantissa bits, and
       z = t / 2^k in [OFF, 2 OFF) */
    uint32_t ix = nkl_bits_f32(ts), tmp = ix - NKL_LOG_OFF_BITS_F32;
    float kf = (float)((int32_t)((tmp + 0x40000000u) >> 23) - 128) + kadd;
    uint32_t bucket = (tmp >> 20) & 7;
    float invc = invc_table[bucket], logc = logc_table[bucket];
    float z = nkl_f32_from_bits(ix - (tmp & 0xff800000u));
    /* r = z / c - 1; log t = (k ln2 + logc) + (r + r^2 P(r)) */
    float r = nkl_fmaf(z, invc, -1.0f);
    float r2 = r * r;
    float p = nkl_fmaf(r, NKL_LOG_C5_F32, NKL_LOG_C4_F32);
    p = nkl_fmaf(r, p, NKL_LOG_C3_F32);
    p = nkl_fmaf(r, p, NKL_LOG_C2_F32);
    float q = nkl_fmaf(r2, p, r);
    float y = nkl_fmaf(kf, NKL_LN2_HI_F32, logc) + q;
    if (t == INFINITY) y = INFINITY;
    if (!(t >= 0.0f)) y = NAN;
    if (t == 0.0f) y = -INFINITY;
    return y;
}

NKL_INLINE double nkl_log_f64(double t) {
    int subnormal = t < NKL_MIN_NORMAL_F64;
    double ts = subnormal ? t * NKL_SUBNORMAL_SCALE_F64 : t;
    double kadd = subnormal ? NKL_SUBNORMAL_EXPONENT_F64 : 0.0;
    uint64_t u = nkl_bits_f64(ts) + (0x3ff0000000000000ull - NKL_SQRTHALF_BITS_F64);
    double kf = ((double)(u >> 52) - 1023.0) + kadd;
    double m = nkl_f64_from_bits((u & 0x000fffffffffffffull) + NKL_SQRTHALF_BITS_F64);
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double p = nkl_fma(z, NKL_LOG_L7_F64, NKL_LOG_L6_F64);
    p = nkl_fma(z, p, NKL_LOG_L5_F64);
    p = nkl_fma(z, p, NKL_LOG_L4_F64);
    p = nkl_fma(z, p, NKL_LOG_L3_F64);
    p = nkl_fma(z, p, NKL_LOG_L2_F64);
    p = nkl_fma(z, p, NKL_LOG_L1_F64);
    double r = z * p;
    double hfsq = (0.5 * f) * f;
    double w = s * (hfsq + r);
    w = nkl_fma(kf, NKL_LN2_LO_F64, w);
    double y = nkl_fma(kf, NKL_LN2_HI_F64, f - (hfsq - w));
    if (t == INFINITY) y = INFINITY;
    if (!(t >= 0.0)) y = NAN;
    if (t == 0.0) y = -INFINITY;
    return y;
}

/* p 2^k as two factors, (p 2^k1) 2^k2 with k1 = floor(k / 2), k2 = k - k1
   (k as two's complement), so that a subnormal result rounds once. */
NKL_INLINE float nkl_scale2_f32(float p, uint32_t k) {
    uint32_t k1 = ((k + 256u) >> 1) - 128u;
    uint32_t k2 = k - k1;
    float s1 = nkl_f32_from_bits((k1 + 127u) << 23);
    float s2 = nkl_f32_from_bits((k2 + 127u) << 23);
    return (p * s1) * s2;
}

/* exp x: NaN -> NaN, overflow -> +inf, underflow rounds once (subnormals). */
NKL_INLINE float nkl_exp_f32(float x) {
    float xc = NKL_EXP_LO_F32 > x ? NKL_EXP_LO_F32 : x; /* NaN stays NaN */
    xc = NKL_EXP_HI_F32 < xc ? NKL_EXP_HI_F32 : xc;
    float kr = nkl_fmaf(xc, NKL_LOG2E_F32, NKL_ROUND_F32);
    float kf = kr - NKL_ROUND_F32;
    uint32_t k = nkl_bits_f32(kr) - nkl_bits_f32(NKL_ROUND_F32); /* k as two's complement */
    float r = nkl_fmaf(kf, -NKL_LN2_HI_F32, xc);
    r = nkl_fmaf(kf, -NKL_LN2_LO_F32, r);
    float p = nkl_fmaf(NKL_EXP_E6_F32, r, NKL_EXP_E5_F32);
    p = nkl_fmaf(p, r, NKL_EXP_E4_F32);
    p = nkl_fmaf(p, r, NKL_EXP_E3_F32);
    p = nkl_fmaf(p, r, NKL_EXP_E2_F32);
    p = nkl_fmaf(p, r, 1.0f);
    p = nkl_fmaf(p, r, 1.0f);
    return nkl_scale2_f32(p, k);
}

/* 2^x: NaN -> NaN, overflow -> +inf, underflow rounds once (subnormals). */
NKL_INLINE float nkl_exp2_f32(float x) {
    float xc = NKL_EXP2_LO_F32 > x ? NKL_EXP2_LO_F32 : x; /* NaN stays NaN */
    xc = NKL_EXP2_HI_F32 < xc ? NKL_EXP2_HI_F32 : xc;
    float kr = xc + NKL_ROUND_F32; /* k = round(x) in the low bits */
    float kf = kr - NKL_ROUND_F32;
    uint32_t k = nkl_bits_f32(kr) - nkl_bits_f32(NKL_ROUND_F32);
    float r = xc - kf; /* exact */
    float p = nkl_fmaf(NKL_EXP2_C5_F32, r, NKL_EXP2_C4_F32);
    p = nkl_fmaf(p, r, NKL_EXP2_C3_F32);
    p = nkl_fmaf(p, r, NKL_EXP2_C2_F32);
    p = nkl_fmaf(p, r, NKL_EXP2_C1_F32);
    p = nkl_fmaf(p, r, 1.0f);
    return nkl_scale2_f32(p, k);
}

/* exp x: x = (8k + j) ln2/8 + r, e^x = 2^k S[j] (1 + q(r)); NaN -> NaN,
   overflow -> +inf, underflow rounds once (subnormals). */
NKL_INLINE double nkl_exp_f64(double x) {
    static const uint64_t s_bits[8] = NKL_EXP_S_BITS_F64;
    double xc = NKL_EXP_LO_F64 > x ? NKL_EXP_LO_F64 : x; /* NaN stays NaN */
    xc = NKL_EXP_HI_F64 < xc ? NKL_EXP_HI_F64 : xc;
    double kr = nkl_fma(xc, NKL_EXP_8LOG2E_F64, NKL_ROUND_F64); /* 8k + j = round(8x / ln2) */
    double kf = kr - NKL_ROUND_F64;
    uint64_t kj = nkl_bits_f64(kr) - nkl_bits_f64(NKL_ROUND_F64); /* 8k + j, two's complement */
    double r = nkl_fma(kf, -NKL_EXP_LN2_8_HI_F64, xc);
    r = nkl_fma(kf, -NKL_EXP_LN2_8_LO_F64, r);
    double p = nkl_fma(NKL_EXP_C7_F64, r, NKL_EXP_C6_F64);
    p = nkl_fma(p, r, NKL_EXP_C5_F64);
    p = nkl_fma(p, r, NKL_EXP_C4_F64);
    p = nkl_fma(p, r, NKL_EXP_C3_F64);
    p = nkl_fma(p, r, NKL_EXP_C2_F64);
    double q = nkl_fma(r * r, p, r);
    double s = nkl_f64_from_bits(s_bits[kj & 7]);
    double e = nkl_fma(s, q, s);
    /* k = (8k + j) >> 3, arithmetic (|8k + j| < 2^20), then 2^k as two factors */
    uint64_t k = ((kj + 0x100000u) >> 3) - 0x20000u;
    uint64_t k1 = ((k + 2048u) >> 1) - 1024u;
    uint64_t k2 = k - k1;
    double s1 = nkl_f64_from_bits((k1 + 1023u) << 52);
    double s2 = nkl_f64_from_bits((k2 + 1023u) << 52);
    return (e * s1) * s2;
}

#endif
