/*
 * vmath_neon.h - log and exp on 4 floats / 2 doubles with AArch64 NEON
 * (vmath_scalar.h, lane by lane, the same operations in the same order: every
 * fmaf()/fma() of the spec is one vfmaq_f32/vfmaq_f64, every other float
 * operation the same operation), and the NaN and max helpers the kernels share.
 *
 * Where AVX2 branches to a faster form for the usual lanes (x86/vmath_avx2.h),
 * these run the spec's form for every lane: its selects and its two-factor
 * scaling cost a few instructions, and need no proof that a shortcut gives the
 * same bits. AArch64 keeps subnormals (FPCR.FZ is 0 under Linux), as the spec
 * needs.
 */
#ifndef NKL_VMATH_NEON_H
#define NKL_VMATH_NEON_H

#include <arm_neon.h>

#include "../internal.h"
#include "../vmath_constants.h"

#define F32(c) vdupq_n_f32(c)
#define F64(c) vdupq_n_f64(c)
#define U32(c) vdupq_n_u32((uint32_t)(c))
#define U64(c) vdupq_n_u64((uint64_t)(c))

/* nkl_canon_nan_f32/_f64 lane by lane: NaN lanes become the library's NaN. */
NKL_INLINE float32x4_t nkl_canon_nan_f32x4(float32x4_t v) {
    return vbslq_f32(vceqq_f32(v, v), v, vreinterpretq_f32_u32(U32(NKL_NAN_BITS_F32)));
}
NKL_INLINE float64x2_t nkl_canon_nan_f64x2(float64x2_t v) {
    return vbslq_f64(vceqq_f64(v, v), v, vreinterpretq_f64_u64(U64(NKL_NAN_BITS_F64)));
}

/* x > y ? x : y (kernels_scalar.c max_f32/_f64, MAXPS's rule): y when either
   is NaN. Not vmaxq, which returns NaN for a NaN in either operand. */
NKL_INLINE float32x4_t nkl_max_gt_f32x4(float32x4_t x, float32x4_t y) {
    return vbslq_f32(vcgtq_f32(x, y), x, y);
}
NKL_INLINE float64x2_t nkl_max_gt_f64x2(float64x2_t x, float64x2_t y) {
    return vbslq_f64(vcgtq_f64(x, y), x, y);
}

/* Lanes of a float64 compare that are not set (no vmvnq_u64 in NEON). */
NKL_INLINE uint64x2_t nkl_not_u64x2(uint64x2_t m) {
    return vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(m)));
}

/* +0 where m is set, else v */
NKL_INLINE float32x4_t nkl_zero_where_f32x4(uint32x4_t m, float32x4_t v) {
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(v), m));
}
NKL_INLINE float64x2_t nkl_zero_where_f64x2(uint64x2_t m, float64x2_t v) {
    return vreinterpretq_f64_u64(vbicq_u64(vreinterpretq_u64_f64(v), m));
}

/* Lanes of a vector at element `at` whose element is at or past the end r of
   the data (r - at lanes left): the tail masks. */
NKL_INLINE uint32x4_t nkl_missing_f32x4(size_t r, size_t at) {
    static const int32_t index[4] = {0, 1, 2, 3};
    size_t left = r > at ? r - at : 0;
    return vcgeq_s32(vld1q_s32(index), vdupq_n_s32(left < 4 ? (int32_t)left : 4));
}
NKL_INLINE uint64x2_t nkl_missing_f64x2(size_t r, size_t at) {
    static const int64_t index[2] = {0, 1};
    size_t left = r > at ? r - at : 0;
    return vcgeq_s64(vld1q_s64(index), vdupq_n_s64(left < 2 ? (int64_t)left : 2));
}

/* The spec's fix-ups of log: t == inf -> inf; !(t >= 0) -> NaN; t == 0 -> -inf. */
NKL_INLINE float32x4_t log_fixups_f32x4(float32x4_t t, float32x4_t y) {
    y = vbslq_f32(vceqq_f32(t, F32(INFINITY)), F32(INFINITY), y);
    y = vbslq_f32(vcgeq_f32(t, F32(0.0f)), y, vreinterpretq_f32_u32(U32(NKL_QUIET_NAN_BITS_F32)));
    return vbslq_f32(vceqq_f32(t, F32(0.0f)), F32(-INFINITY), y);
}

/* nkl_log_f32 */
NKL_INLINE float32x4_t nkl_log_f32x4(float32x4_t t) {
    static const float invc_table[8] = NKL_LOG_INVC_F32, logc_table[8] = NKL_LOG_LOGC_F32;
    uint32x4_t sub = vcltq_f32(t, F32(NKL_MIN_NORMAL_F32));
    float32x4_t ts = vbslq_f32(sub, vmulq_f32(t, F32(NKL_SUBNORMAL_SCALE_F32)), t);
    float32x4_t kadd = vreinterpretq_f32_u32(vandq_u32(sub, vreinterpretq_u32_f32(F32(NKL_SUBNORMAL_EXPONENT_F32))));
    /* tmp = bits(t) - bits(OFF): k = tmp >> 23 (arithmetic), the bucket its
       top 3 mantissa bits, z = t / 2^k */
    uint32x4_t ix = vreinterpretq_u32_f32(ts);
    uint32x4_t tmp = vsubq_u32(ix, U32(NKL_LOG_OFF_BITS_F32));
    /* k + kadd: kadd is -25 or +0, and k converted is never -0 */
    float32x4_t kf = vaddq_f32(vcvtq_f32_s32(vshrq_n_s32(vreinterpretq_s32_u32(tmp), 23)), kadd);
    /* the bucket's table entries: TBL on bytes 4 bucket .. 4 bucket + 3 */
    uint32x4_t bucket = vandq_u32(vshrq_n_u32(tmp, 20), U32(7));
    uint8x16_t idx = vreinterpretq_u8_u32(vaddq_u32(vmulq_u32(vshlq_n_u32(bucket, 2), U32(0x01010101u)),
                                                    U32(0x03020100u)));
    uint8x16x2_t ti = {{vreinterpretq_u8_f32(vld1q_f32(invc_table)), vreinterpretq_u8_f32(vld1q_f32(invc_table + 4))}};
    uint8x16x2_t tl = {{vreinterpretq_u8_f32(vld1q_f32(logc_table)), vreinterpretq_u8_f32(vld1q_f32(logc_table + 4))}};
    float32x4_t invc = vreinterpretq_f32_u8(vqtbl2q_u8(ti, idx));
    float32x4_t logc = vreinterpretq_f32_u8(vqtbl2q_u8(tl, idx));
    float32x4_t z = vreinterpretq_f32_u32(vsubq_u32(ix, vandq_u32(tmp, U32(0xff800000u))));
    /* r = z / c - 1; log t = (k ln2 + logc) + (r + r^2 P(r)) */
    float32x4_t r = vfmaq_f32(F32(-1.0f), z, invc);
    float32x4_t r2 = vmulq_f32(r, r);
    float32x4_t p = vfmaq_f32(F32(NKL_LOG_C4_F32), r, F32(NKL_LOG_C5_F32));
    p = vfmaq_f32(F32(NKL_LOG_C3_F32), r, p);
    p = vfmaq_f32(F32(NKL_LOG_C2_F32), r, p);
    float32x4_t q = vfmaq_f32(r, r2, p);
    float32x4_t y = vaddq_f32(vfmaq_f32(logc, kf, F32(NKL_LN2_HI_F32)), q);
    return log_fixups_f32x4(t, y);
}

/* nkl_log_f64 */
NKL_INLINE float64x2_t nkl_log_f64x2(float64x2_t t) {
    uint64x2_t sub = vcltq_f64(t, F64(NKL_MIN_NORMAL_F64));
    float64x2_t ts = vbslq_f64(sub, vmulq_f64(t, F64(NKL_SUBNORMAL_SCALE_F64)), t);
    float64x2_t kadd = vreinterpretq_f64_u64(vandq_u64(sub, vreinterpretq_u64_f64(F64(NKL_SUBNORMAL_EXPONENT_F64))));
    uint64x2_t u = vaddq_u64(vreinterpretq_u64_f64(ts), U64(0x3ff0000000000000ull - NKL_SQRTHALF_BITS_F64));
    /* (double)(u >> 52) is exact; - 1023 exact; + kadd (-54 or +0) as the spec */
    float64x2_t kf = vaddq_f64(vsubq_f64(vcvtq_f64_u64(vshrq_n_u64(u, 52)), F64(1023.0)), kadd);
    float64x2_t m = vreinterpretq_f64_u64(
        vaddq_u64(vandq_u64(u, U64(0x000fffffffffffffull)), U64(NKL_SQRTHALF_BITS_F64)));
    float64x2_t f = vsubq_f64(m, F64(1.0));
    float64x2_t s = vdivq_f64(f, vaddq_f64(F64(2.0), f));
    float64x2_t z = vmulq_f64(s, s);
    float64x2_t p = vfmaq_f64(F64(NKL_LOG_L6_F64), z, F64(NKL_LOG_L7_F64));
    p = vfmaq_f64(F64(NKL_LOG_L5_F64), z, p);
    p = vfmaq_f64(F64(NKL_LOG_L4_F64), z, p);
    p = vfmaq_f64(F64(NKL_LOG_L3_F64), z, p);
    p = vfmaq_f64(F64(NKL_LOG_L2_F64), z, p);
    p = vfmaq_f64(F64(NKL_LOG_L1_F64), z, p);
    float64x2_t r = vmulq_f64(z, p);
    float64x2_t hfsq = vmulq_f64(vmulq_f64(F64(0.5), f), f);
    float64x2_t w = vmulq_f64(s, vaddq_f64(hfsq, r));
    w = vfmaq_f64(w, kf, F64(NKL_LN2_LO_F64));
    float64x2_t y = vfmaq_f64(vsubq_f64(f, vsubq_f64(hfsq, w)), kf, F64(NKL_LN2_HI_F64));
    y = vbslq_f64(vceqq_f64(t, F64(INFINITY)), F64(INFINITY), y);
    y = vbslq_f64(vcgeq_f64(t, F64(0.0)), y, vreinterpretq_f64_u64(U64(NKL_QUIET_NAN_BITS_F64)));
    return vbslq_f64(vceqq_f64(t, F64(0.0)), F64(-INFINITY), y);
}

/* nkl_scale2_f32: p 2^k as (p 2^k1) 2^k2, k1 = floor(k / 2), k2 = k - k1 */
NKL_INLINE float32x4_t scale2_f32x4(float32x4_t p, uint32x4_t k) {
    uint32x4_t k1 = vsubq_u32(vshrq_n_u32(vaddq_u32(k, U32(256u)), 1), U32(128u));
    uint32x4_t k2 = vsubq_u32(k, k1);
    float32x4_t s1 = vreinterpretq_f32_u32(vshlq_n_u32(vaddq_u32(k1, U32(127u)), 23));
    float32x4_t s2 = vreinterpretq_f32_u32(vshlq_n_u32(vaddq_u32(k2, U32(127u)), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

/* lo > x ? lo : x, then hi < x ? hi : x: NaN stays NaN, as the spec's clamp */
NKL_INLINE float32x4_t clamp_f32x4(float32x4_t x, float lo, float hi) {
    float32x4_t xc = vbslq_f32(vcgtq_f32(F32(lo), x), F32(lo), x);
    return vbslq_f32(vcltq_f32(F32(hi), xc), F32(hi), xc);
}
NKL_INLINE float64x2_t clamp_f64x2(float64x2_t x, double lo, double hi) {
    float64x2_t xc = vbslq_f64(vcgtq_f64(F64(lo), x), F64(lo), x);
    return vbslq_f64(vcltq_f64(F64(hi), xc), F64(hi), xc);
}

/* nkl_exp_f32 */
NKL_INLINE float32x4_t nkl_exp_f32x4(float32x4_t x) {
    float32x4_t xc = clamp_f32x4(x, NKL_EXP_LO_F32, NKL_EXP_HI_F32);
    float32x4_t kr = vfmaq_f32(F32(NKL_ROUND_F32), xc, F32(NKL_LOG2E_F32));
    float32x4_t kf = vsubq_f32(kr, F32(NKL_ROUND_F32));
    uint32x4_t k = vsubq_u32(vreinterpretq_u32_f32(kr), U32(nkl_bits_f32(NKL_ROUND_F32)));
    float32x4_t r = vfmaq_f32(xc, kf, F32(-NKL_LN2_HI_F32));
    r = vfmaq_f32(r, kf, F32(-NKL_LN2_LO_F32));
    float32x4_t p = vfmaq_f32(F32(NKL_EXP_E5_F32), F32(NKL_EXP_E6_F32), r);
    p = vfmaq_f32(F32(NKL_EXP_E4_F32), p, r);
    p = vfmaq_f32(F32(NKL_EXP_E3_F32), p, r);
    p = vfmaq_f32(F32(NKL_EXP_E2_F32), p, r);
    p = vfmaq_f32(F32(1.0f), p, r);
    p = vfmaq_f32(F32(1.0f), p, r);
    return scale2_f32x4(p, k);
}

/* nkl_exp2_f32 */
NKL_INLINE float32x4_t nkl_exp2_f32x4(float32x4_t x) {
    float32x4_t xc = clamp_f32x4(x, NKL_EXP2_LO_F32, NKL_EXP2_HI_F32);
    float32x4_t kr = vaddq_f32(xc, F32(NKL_ROUND_F32));
    float32x4_t kf = vsubq_f32(kr, F32(NKL_ROUND_F32));
    uint32x4_t k = vsubq_u32(vreinterpretq_u32_f32(kr), U32(nkl_bits_f32(NKL_ROUND_F32)));
    float32x4_t r = vsubq_f32(xc, kf); /* exact */
    float32x4_t p = vfmaq_f32(F32(NKL_EXP2_C4_F32), F32(NKL_EXP2_C5_F32), r);
    p = vfmaq_f32(F32(NKL_EXP2_C3_F32), p, r);
    p = vfmaq_f32(F32(NKL_EXP2_C2_F32), p, r);
    p = vfmaq_f32(F32(NKL_EXP2_C1_F32), p, r);
    p = vfmaq_f32(F32(1.0f), p, r);
    return scale2_f32x4(p, k);
}

/* nkl_exp_f64 */
NKL_INLINE float64x2_t nkl_exp_f64x2(float64x2_t x) {
    static const uint64_t s_bits[8] = NKL_EXP_S_BITS_F64;
    float64x2_t xc = clamp_f64x2(x, NKL_EXP_LO_F64, NKL_EXP_HI_F64);
    float64x2_t kr = vfmaq_f64(F64(NKL_ROUND_F64), xc, F64(NKL_EXP_8LOG2E_F64));
    float64x2_t kf = vsubq_f64(kr, F64(NKL_ROUND_F64));
    uint64x2_t kj = vsubq_u64(vreinterpretq_u64_f64(kr), U64(nkl_bits_f64(NKL_ROUND_F64)));
    float64x2_t r = vfmaq_f64(xc, kf, F64(-NKL_EXP_LN2_8_HI_F64));
    r = vfmaq_f64(r, kf, F64(-NKL_EXP_LN2_8_LO_F64));
    float64x2_t p = vfmaq_f64(F64(NKL_EXP_C6_F64), F64(NKL_EXP_C7_F64), r);
    p = vfmaq_f64(F64(NKL_EXP_C5_F64), p, r);
    p = vfmaq_f64(F64(NKL_EXP_C4_F64), p, r);
    p = vfmaq_f64(F64(NKL_EXP_C3_F64), p, r);
    p = vfmaq_f64(F64(NKL_EXP_C2_F64), p, r);
    float64x2_t q = vfmaq_f64(r, vmulq_f64(r, r), p);
    /* S[j], j = the low 3 bits of 8k + j: two lanes, two loads */
    uint64x2_t sb = vcombine_u64(vld1_u64(s_bits + (vgetq_lane_u64(kj, 0) & 7)),
                                 vld1_u64(s_bits + (vgetq_lane_u64(kj, 1) & 7)));
    float64x2_t s = vreinterpretq_f64_u64(sb);
    float64x2_t e = vfmaq_f64(s, s, q);
    /* k = (8k + j) >> 3, arithmetic (|8k + j| < 2^20), then 2^k as two factors */
    uint64x2_t k = vsubq_u64(vshrq_n_u64(vaddq_u64(kj, U64(0x100000u)), 3), U64(0x20000u));
    uint64x2_t k1 = vsubq_u64(vshrq_n_u64(vaddq_u64(k, U64(2048u)), 1), U64(1024u));
    uint64x2_t k2 = vsubq_u64(k, k1);
    float64x2_t s1 = vreinterpretq_f64_u64(vshlq_n_u64(vaddq_u64(k1, U64(1023u)), 52));
    float64x2_t s2 = vreinterpretq_f64_u64(vshlq_n_u64(vaddq_u64(k2, U64(1023u)), 52));
    return vmulq_f64(vmulq_f64(e, s1), s2);
}

#endif
