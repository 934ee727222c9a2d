/*
 * vmath_avx2.h - log and exp on 8 floats / 4 doubles (vmath_scalar.h, lane
 * by lane, the same operations in the same order), and the tail-lane masks.
 * Include only from a file compiled with AVX2 and FMA enabled.
 */
#ifndef NKL_VMATH_AVX2_H
#define NKL_VMATH_AVX2_H

#include <immintrin.h>

#include "../internal.h"
#include "../vmath_constants.h"

#define F32(c) _mm256_set1_ps(c)
#define F64(c) _mm256_set1_pd(c)
#define I32(c) _mm256_set1_epi32((int)(c))
#define I64(c) _mm256_set1_epi64x((long long)(c))

/* nkl_canon_nan_f32/_f64 (internal.h) lane by lane: NaN lanes become the
   positive quiet NaN, the others keep their bits. For the store path. */
NKL_INLINE __m256 nkl_canon_nan_ps(__m256 v) {
    return _mm256_blendv_ps(v, _mm256_castsi256_ps(I32(NKL_NAN_BITS_F32)), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
NKL_INLINE __m256d nkl_canon_nan_pd(__m256d v) {
    return _mm256_blendv_pd(v, _mm256_castsi256_pd(I64(NKL_NAN_BITS_F64)), _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
}

/* Is any lane of a or b NaN? One compare for both: where outputs are rarely
   NaN, a branch on this costs less than a blend per output. */
NKL_INLINE int nkl_any_nan_ps(__m256 a, __m256 b) {
    return _mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q)) != 0;
}
NKL_INLINE int nkl_any_nan_pd(__m256d a, __m256d b) {
    return _mm256_movemask_pd(_mm256_cmp_pd(a, b, _CMP_UNORD_Q)) != 0;
}

/* Lane masks for a tail of r elements: the first r lanes all ones. */
static const int32_t nkl_tail_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

NKL_INLINE __m256i nkl_tail_mask_ps(size_t r) { /* r in 0..8 */
    return _mm256_loadu_si256((const __m256i *)(nkl_tail_mask_table + 8 - r));
}
NKL_INLINE __m256i nkl_tail_mask_pd(size_t r) { /* r in 0..4: two int32 per lane */
    return _mm256_loadu_si256((const __m256i *)(nkl_tail_mask_table + 8 - 2 * r));
}

/* log of lanes in the normal range. `scaled`: some lanes were subnormal,
   scaled by 2^25, and kadd holds -25 for them (0 elsewhere). Adding a zero
   kadd changes no bit, so the unscaled form skips it. */
NKL_INLINE __m256 log_core_ps(__m256 ts, __m256 kadd, const int scaled) {
    static const float invc_table[8] = NKL_LOG_INVC_F32, logc_table[8] = NKL_LOG_LOGC_F32;
    /* tmp = bits(t) - bits(OFF): k = tmp >> 23, the bucket (VPERMPS reads
       the low 3 bits of tmp >> 20), z = t / 2^k */
    __m256i ix = _mm256_castps_si256(ts);
    __m256i tmp = _mm256_sub_epi32(ix, I32(NKL_LOG_OFF_BITS_F32));
    __m256 kf = _mm256_cvtepi32_ps(_mm256_srai_epi32(tmp, 23));
    if (scaled) kf = _mm256_add_ps(kf, kadd);
    __m256i bucket = _mm256_srli_epi32(tmp, 20);
    __m256 invc = _mm256_permutevar8x32_ps(_mm256_loadu_ps(invc_table), bucket);
    __m256 logc = _mm256_permutevar8x32_ps(_mm256_loadu_ps(logc_table), bucket);
    __m256 z = _mm256_castsi256_ps(_mm256_sub_epi32(ix, _mm256_and_si256(tmp, I32(0xff800000u))));
    /* r = z / c - 1; log t = (k ln2 + logc) + (r + r^2 P(r)) */
    __m256 r = _mm256_fmsub_ps(z, invc, F32(1.0f));
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 p = _mm256_fmadd_ps(r, F32(NKL_LOG_C5_F32), F32(NKL_LOG_C4_F32));
    p = _mm256_fmadd_ps(r, p, F32(NKL_LOG_C3_F32));
    p = _mm256_fmadd_ps(r, p, F32(NKL_LOG_C2_F32));
    __m256 q = _mm256_fmadd_ps(r2, p, r);
    return _mm256_add_ps(_mm256_fmadd_ps(kf, F32(NKL_LN2_HI_F32), logc), q);
}

/* Lanes that are subnormal, zero, negative, infinite or NaN: rare, so they
   take a branch; the result bits are the same either way. */
static __m256 log_ps_slow(__m256 t) {
    /* subnormal = t < 2^-126: scale by 2^25 and take 25 off the exponent */
    __m256 sub = _mm256_cmp_ps(t, F32(NKL_MIN_NORMAL_F32), _CMP_LT_OQ);
    __m256 ts = _mm256_blendv_ps(t, _mm256_mul_ps(t, F32(NKL_SUBNORMAL_SCALE_F32)), sub);
    __m256 kadd = _mm256_and_ps(sub, F32(NKL_SUBNORMAL_EXPONENT_F32));
    __m256 y = log_core_ps(ts, kadd, 1);
    /* t == inf -> inf; !(t >= 0) -> NaN; t == 0 -> -inf */
    y = _mm256_blendv_ps(y, F32(INFINITY), _mm256_cmp_ps(t, F32(INFINITY), _CMP_EQ_OQ));
    y = _mm256_blendv_ps(y, F32(NAN), _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_NGE_UQ));
    y = _mm256_blendv_ps(y, F32(-INFINITY), _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_EQ_OQ));
    return y;
}

/* Lanes not in [2^-126, FLT_MAX]: zero, negative, subnormal, infinite, NaN. */
NKL_INLINE __m256 nkl_not_normal_ps(__m256 t) {
    return _mm256_or_ps(_mm256_cmp_ps(t, F32(NKL_MIN_NORMAL_F32), _CMP_NGE_UQ),
                        _mm256_cmp_ps(t, F32(0x1.fffffep127f), _CMP_GT_OQ));
}

/* Is every lane positive, normal and finite? */
NKL_INLINE int nkl_all_normal_ps(__m256 t) {
    __m256 odd = nkl_not_normal_ps(t);
    return _mm256_testz_ps(odd, odd);
}

/* log of lanes known to be positive, normal and finite */
NKL_INLINE __m256 nkl_log_normal_ps(__m256 t) { return log_core_ps(t, _mm256_setzero_ps(), 0); }

NKL_INLINE __m256 nkl_log_ps(__m256 t) {
    if (NKL_LIKELY(nkl_all_normal_ps(t))) return nkl_log_normal_ps(t);
    return log_ps_slow(t);
}

NKL_INLINE __m256d log_core_pd(__m256d ts, __m256d kadd, const int scaled) {
    __m256i u = _mm256_add_epi64(_mm256_castpd_si256(ts),
                                 I64(0x3ff0000000000000ull - NKL_SQRTHALF_BITS_F64));
    /* kf = ((double)(u >> 52) - 1023) + kadd: (2^52 + e) - (2^52 + 1023) = e - 1023, exactly */
    __m256d kf = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(u, 52), I64(0x4330000000000000ull))),
        F64(0x1p52 + 1023.0));
    if (scaled) kf = _mm256_add_pd(kf, kadd);
    __m256d m = _mm256_castsi256_pd(_mm256_add_epi64(
        _mm256_and_si256(u, I64(0x000fffffffffffffull)), I64(NKL_SQRTHALF_BITS_F64)));
    __m256d f = _mm256_sub_pd(m, F64(1.0));
    __m256d s = _mm256_div_pd(f, _mm256_add_pd(F64(2.0), f));
    __m256d z = _mm256_mul_pd(s, s);
    __m256d p = _mm256_fmadd_pd(z, F64(NKL_LOG_L7_F64), F64(NKL_LOG_L6_F64));
    p = _mm256_fmadd_pd(z, p, F64(NKL_LOG_L5_F64));
    p = _mm256_fmadd_pd(z, p, F64(NKL_LOG_L4_F64));
    p = _mm256_fmadd_pd(z, p, F64(NKL_LOG_L3_F64));
    p = _mm256_fmadd_pd(z, p, F64(NKL_LOG_L2_F64));
    p = _mm256_fmadd_pd(z, p, F64(NKL_LOG_L1_F64));
    __m256d r = _mm256_mul_pd(z, p);
    __m256d hfsq = _mm256_mul_pd(_mm256_mul_pd(F64(0.5), f), f);
    __m256d w = _mm256_mul_pd(s, _mm256_add_pd(hfsq, r));
    w = _mm256_fmadd_pd(kf, F64(NKL_LN2_LO_F64), w);
    return _mm256_fmadd_pd(kf, F64(NKL_LN2_HI_F64), _mm256_sub_pd(f, _mm256_sub_pd(hfsq, w)));
}

static __m256d log_pd_slow(__m256d t) {
    __m256d sub = _mm256_cmp_pd(t, F64(NKL_MIN_NORMAL_F64), _CMP_LT_OQ);
    __m256d ts = _mm256_blendv_pd(t, _mm256_mul_pd(t, F64(NKL_SUBNORMAL_SCALE_F64)), sub);
    __m256d kadd = _mm256_and_pd(sub, F64(NKL_SUBNORMAL_EXPONENT_F64));
    __m256d y = log_core_pd(ts, kadd, 1);
    y = _mm256_blendv_pd(y, F64(INFINITY), _mm256_cmp_pd(t, F64(INFINITY), _CMP_EQ_OQ));
    y = _mm256_blendv_pd(y, F64(NAN), _mm256_cmp_pd(t, _mm256_setzero_pd(), _CMP_NGE_UQ));
    y = _mm256_blendv_pd(y, F64(-INFINITY), _mm256_cmp_pd(t, _mm256_setzero_pd(), _CMP_EQ_OQ));
    return y;
}

NKL_INLINE __m256d nkl_not_normal_pd(__m256d t) {
    return _mm256_or_pd(_mm256_cmp_pd(t, F64(NKL_MIN_NORMAL_F64), _CMP_NGE_UQ),
                        _mm256_cmp_pd(t, F64(0x1.fffffffffffffp1023), _CMP_GT_OQ));
}

NKL_INLINE int nkl_all_normal_pd(__m256d t) {
    __m256d odd = nkl_not_normal_pd(t);
    return _mm256_testz_pd(odd, odd);
}

NKL_INLINE __m256d nkl_log_normal_pd(__m256d t) { return log_core_pd(t, _mm256_setzero_pd(), 0); }

NKL_INLINE __m256d nkl_log_pd(__m256d t) {
    if (NKL_LIKELY(nkl_all_normal_pd(t))) return nkl_log_normal_pd(t);
    return log_pd_slow(t);
}

/* The final scaling of exp and exp2 by 2^k, k held in kr's low bits (kr =
   x + ROUND, or x log2e + ROUND). scale2_ps is the spec's two factors,
   (p 2^k1) 2^k2 with k1 = floor(k / 2), k2 = k - k1, so that a subnormal
   result rounds once, and lanes in `zero` set to +0; where p 2^k is normal,
   scale_normal_ps multiplies once (exact, the same bits) and, for lanes known
   not to be NaN, scale_inrange_ps adds k to p's exponent field (bits(kr)
   << 23 is k << 23: the bits of ROUND shift out). */
NKL_INLINE __m256 scale2_ps(__m256 p, __m256 kr, __m256 zero) {
    __m256i k = _mm256_sub_epi32(_mm256_castps_si256(kr), I32(nkl_bits_f32(NKL_ROUND_F32)));
    __m256i k1 = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_add_epi32(k, I32(256)), 1), I32(128));
    __m256i k2 = _mm256_sub_epi32(k, k1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, I32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, I32(127)), 23));
    return _mm256_andnot_ps(zero, _mm256_mul_ps(_mm256_mul_ps(p, s1), s2));
}
NKL_INLINE __m256 scale_normal_ps(__m256 p, __m256 kr) {
    /* 2^k = bits (k + 127) << 23, k = bits(kr) - bits(ROUND) */
    __m256i e = _mm256_add_epi32(_mm256_castps_si256(kr), I32(127u - nkl_bits_f32(NKL_ROUND_F32)));
    return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(e, 23)));
}
NKL_INLINE __m256 scale_inrange_ps(__m256 p, __m256 kr) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_castps_si256(kr), 23)));
}

/* exp(x) = 2^k p for x already clamped: kr holds k in its low bits, p = exp(r). */
NKL_INLINE __m256 exp_poly_ps(__m256 xc, __m256 *kr_out) {
    /* kr = x log2e + ROUND (k in its low bits); kf = kr - ROUND */
    __m256 kr = _mm256_fmadd_ps(xc, F32(NKL_LOG2E_F32), F32(NKL_ROUND_F32));
    __m256 kf = _mm256_sub_ps(kr, F32(NKL_ROUND_F32));
    /* r = x - kf ln2 (hi, then lo) */
    __m256 r = _mm256_fmadd_ps(kf, F32(-NKL_LN2_HI_F32), xc);
    r = _mm256_fmadd_ps(kf, F32(-NKL_LN2_LO_F32), r);
    /* p = 1 + r (1 + r (E2 + ... r E6)) */
    __m256 p = _mm256_fmadd_ps(F32(NKL_EXP_E6_F32), r, F32(NKL_EXP_E5_F32));
    p = _mm256_fmadd_ps(p, r, F32(NKL_EXP_E4_F32));
    p = _mm256_fmadd_ps(p, r, F32(NKL_EXP_E3_F32));
    p = _mm256_fmadd_ps(p, r, F32(NKL_EXP_E2_F32));
    p = _mm256_fmadd_ps(p, r, F32(1.0f));
    *kr_out = kr;
    return _mm256_fmadd_ps(p, r, F32(1.0f));
}

/* Lanes whose result is not a normal number, or whose input is NaN: the
   spec's two-factor scaling. Lanes at or below the low clamp give +0 there;
   they are set to +0 directly, so no multiply produces a subnormal (which
   costs a microcode assist on some CPUs). */
static __m256 exp_ps_slow(__m256 x) {
    /* clamp; max/min return their second operand for NaN, so NaN stays */
    __m256 xc = _mm256_max_ps(F32(NKL_EXP_LO_F32), x);
    xc = _mm256_min_ps(F32(NKL_EXP_HI_F32), xc);
    __m256 zero = _mm256_cmp_ps(xc, F32(NKL_EXP_LO_F32), _CMP_EQ_OQ);
    xc = _mm256_andnot_ps(zero, xc);
    __m256 kr;
    __m256 p = exp_poly_ps(xc, &kr);
    return scale2_ps(p, kr, zero);
}

/* exp: for x in [-86, 88], k is in [-124, 127] and p 2^k is normal, so one
   exact multiply by 2^k gives the spec's (p 2^k1) 2^k2 bit for bit. */
NKL_INLINE __m256 exp_normal_ps(__m256 x) {
    __m256 kr;
    __m256 p = exp_poly_ps(x, &kr);
    return scale_normal_ps(p, kr);
}

/* exp_normal_ps for lanes known to be in [-86, 88] and not NaN: the scaling
   by 2^k, exact there (p 2^k is normal), becomes an integer add to the
   exponent field of p: bits(kr) << 23 is k << 23 (the bits of ROUND shift
   out). One operation fewer; the same bits. A NaN lane would come out as
   garbage, so only callers that have excluded NaN lane by lane use it. */
NKL_INLINE __m256 exp_inrange_ps(__m256 x) {
    __m256 kr;
    __m256 p = exp_poly_ps(x, &kr);
    return scale_inrange_ps(p, kr);
}

NKL_INLINE __m256 nkl_exp_ps(__m256 x) {
    __m256 in = _mm256_and_ps(_mm256_cmp_ps(x, F32(NKL_EXP_FAST_LO_F32), _CMP_GE_OQ),
                              _mm256_cmp_ps(x, F32(NKL_EXP_FAST_HI_F32), _CMP_LE_OQ));
    if (NKL_LIKELY(_mm256_movemask_ps(in) == 0xff)) return exp_inrange_ps(x);
    /* the usual odd lanes are masked classes, x <= -104 (down to -inf), where
       the spec gives +0: compute them as exp(0), then clear them */
    __m256 zero = _mm256_cmp_ps(x, F32(NKL_EXP_LO_F32), _CMP_LE_OQ);
    if (_mm256_movemask_ps(_mm256_or_ps(in, zero)) == 0xff)
        return _mm256_andnot_ps(zero, exp_inrange_ps(_mm256_andnot_ps(zero, x)));
    return exp_ps_slow(x);
}

/* kr = x + ROUND: k = round(x) in its low bits (for |x| < 2^22). */
NKL_INLINE __m256 exp2_round_ps(__m256 xc) { return _mm256_add_ps(xc, F32(NKL_ROUND_F32)); }

/* p = 2^r, r = x - k, for kr = exp2_round_ps(x). */
NKL_INLINE __m256 exp2_poly_kr_ps(__m256 xc, __m256 kr) {
    __m256 r = _mm256_sub_ps(xc, _mm256_sub_ps(kr, F32(NKL_ROUND_F32))); /* exact */
    __m256 p = _mm256_fmadd_ps(F32(NKL_EXP2_C5_F32), r, F32(NKL_EXP2_C4_F32));
    p = _mm256_fmadd_ps(p, r, F32(NKL_EXP2_C3_F32));
    p = _mm256_fmadd_ps(p, r, F32(NKL_EXP2_C2_F32));
    p = _mm256_fmadd_ps(p, r, F32(NKL_EXP2_C1_F32));
    return _mm256_fmadd_ps(p, r, F32(1.0f));
}

/* 2^x = 2^k p for x already clamped: kr holds k = round(x) in its low bits, p = 2^r. */
NKL_INLINE __m256 exp2_poly_ps(__m256 xc, __m256 *kr_out) {
    __m256 kr = exp2_round_ps(xc);
    *kr_out = kr;
    return exp2_poly_kr_ps(xc, kr);
}

/* exp_ps_slow for 2^x: the spec's two-factor scaling; lanes at the low clamp
   are set to +0 directly. */
static __m256 exp2_ps_slow(__m256 x) {
    __m256 xc = _mm256_max_ps(F32(NKL_EXP2_LO_F32), x);
    xc = _mm256_min_ps(F32(NKL_EXP2_HI_F32), xc);
    __m256 zero = _mm256_cmp_ps(xc, F32(NKL_EXP2_LO_F32), _CMP_EQ_OQ);
    xc = _mm256_andnot_ps(zero, xc);
    __m256 kr;
    __m256 p = exp2_poly_ps(xc, &kr);
    return scale2_ps(p, kr, zero);
}

/* 2^x for x in [-125, 127] (k in [-125, 127], p 2^k normal): one exact
   multiply by 2^k; NaN stays NaN. */
NKL_INLINE __m256 exp2_normal_ps(__m256 x) {
    __m256 kr;
    __m256 p = exp2_poly_ps(x, &kr);
    return scale_normal_ps(p, kr);
}

/* exp2_normal_ps for lanes known to be in [-125, 127] and not NaN: the
   scaling as an integer add to the exponent field (see exp_inrange_ps). */
NKL_INLINE __m256 exp2_inrange_ps(__m256 x) {
    __m256 kr;
    __m256 p = exp2_poly_ps(x, &kr);
    return scale_inrange_ps(p, kr);
}

NKL_INLINE __m256 nkl_exp2_ps(__m256 x) {
    __m256 in = _mm256_and_ps(_mm256_cmp_ps(x, F32(NKL_EXP2_FAST_LO_F32), _CMP_GE_OQ),
                              _mm256_cmp_ps(x, F32(NKL_EXP2_FAST_HI_F32), _CMP_LE_OQ));
    if (NKL_LIKELY(_mm256_movemask_ps(in) == 0xff)) return exp2_inrange_ps(x);
    /* masked classes (x <= LO, down to -inf) give +0: as nkl_exp_ps */
    __m256 zero = _mm256_cmp_ps(x, F32(NKL_EXP2_LO_F32), _CMP_LE_OQ);
    if (_mm256_movemask_ps(_mm256_or_ps(in, zero)) == 0xff)
        return _mm256_andnot_ps(zero, exp2_inrange_ps(_mm256_andnot_ps(zero, x)));
    return exp2_ps_slow(x);
}

/* exp f64: kr = 8x/ln2 + ROUND holds 8k + j in its low bits; returns q(r),
   e^r = 1 + q(r) (vmath_scalar.h nkl_exp_f64). */
NKL_INLINE __m256d exp_poly_pd(__m256d xc, __m256d *kr_out) {
    __m256d kr = _mm256_fmadd_pd(xc, F64(NKL_EXP_8LOG2E_F64), F64(NKL_ROUND_F64));
    __m256d kf = _mm256_sub_pd(kr, F64(NKL_ROUND_F64));
    __m256d r = _mm256_fmadd_pd(kf, F64(-NKL_EXP_LN2_8_HI_F64), xc);
    r = _mm256_fmadd_pd(kf, F64(-NKL_EXP_LN2_8_LO_F64), r);
    __m256d p = _mm256_fmadd_pd(F64(NKL_EXP_C7_F64), r, F64(NKL_EXP_C6_F64));
    p = _mm256_fmadd_pd(p, r, F64(NKL_EXP_C5_F64));
    p = _mm256_fmadd_pd(p, r, F64(NKL_EXP_C4_F64));
    p = _mm256_fmadd_pd(p, r, F64(NKL_EXP_C3_F64));
    p = _mm256_fmadd_pd(p, r, F64(NKL_EXP_C2_F64));
    *kr_out = kr;
    return _mm256_fmadd_pd(_mm256_mul_pd(r, r), p, r);
}

/* S[j] = 2^(j/8) for j = the low 3 bits of kr (two vpermd on the table's low
   and high dwords, indexed by kr's low dword), as bits; `biased`: the bits
   less j << 49 (in the high dword), so that adding bits(kr) << 49 = (8k + j)
   << 49 makes them S[j] 2^k. */
#define S_LO(b) ((int)(uint32_t)(b))
#define S_HI(b, j, biased) ((int)(uint32_t)(((b) >> 32) - ((biased) ? (uint64_t)(j) << 17 : 0u)))
NKL_INLINE __m256i exp_table_pd(__m256d kr, const int biased) {
    const __m256i lo = _mm256_setr_epi32(
        S_LO(NKL_EXP_S0_BITS_F64), S_LO(NKL_EXP_S1_BITS_F64), S_LO(NKL_EXP_S2_BITS_F64),
        S_LO(NKL_EXP_S3_BITS_F64), S_LO(NKL_EXP_S4_BITS_F64), S_LO(NKL_EXP_S5_BITS_F64),
        S_LO(NKL_EXP_S6_BITS_F64), S_LO(NKL_EXP_S7_BITS_F64));
    const __m256i hi = _mm256_setr_epi32(
        S_HI(NKL_EXP_S0_BITS_F64, 0, biased), S_HI(NKL_EXP_S1_BITS_F64, 1, biased),
        S_HI(NKL_EXP_S2_BITS_F64, 2, biased), S_HI(NKL_EXP_S3_BITS_F64, 3, biased),
        S_HI(NKL_EXP_S4_BITS_F64, 4, biased), S_HI(NKL_EXP_S5_BITS_F64, 5, biased),
        S_HI(NKL_EXP_S6_BITS_F64, 6, biased), S_HI(NKL_EXP_S7_BITS_F64, 7, biased));
    __m256i idx = _mm256_shuffle_epi32(_mm256_castpd_si256(kr), 0xa0); /* low dword, twice */
    return _mm256_blend_epi32(_mm256_permutevar8x32_epi32(lo, idx),
                              _mm256_permutevar8x32_epi32(hi, idx), 0xaa);
}
#undef S_LO
#undef S_HI

static __m256d exp_pd_slow(__m256d x) {
    __m256d xc = _mm256_max_pd(F64(NKL_EXP_LO_F64), x);
    xc = _mm256_min_pd(F64(NKL_EXP_HI_F64), xc);
    __m256d zero = _mm256_cmp_pd(xc, F64(NKL_EXP_LO_F64), _CMP_EQ_OQ);
    xc = _mm256_andnot_pd(zero, xc);
    __m256d kr;
    __m256d q = exp_poly_pd(xc, &kr);
    __m256d s = _mm256_castsi256_pd(exp_table_pd(kr, 0));
    __m256d e = _mm256_fmadd_pd(s, q, s);
    /* k = (8k + j) >> 3 (arithmetic), then 2^k as two factors */
    __m256i kj = _mm256_sub_epi64(_mm256_castpd_si256(kr), I64(nkl_bits_f64(NKL_ROUND_F64)));
    __m256i k = _mm256_sub_epi64(_mm256_srli_epi64(_mm256_add_epi64(kj, I64(0x100000)), 3), I64(0x20000));
    __m256i k1 = _mm256_sub_epi64(_mm256_srli_epi64(_mm256_add_epi64(k, I64(2048)), 1), I64(1024));
    __m256i k2 = _mm256_sub_epi64(k, k1);
    __m256d s1 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k1, I64(1023)), 52));
    __m256d s2 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k2, I64(1023)), 52));
    return _mm256_andnot_pd(zero, _mm256_mul_pd(_mm256_mul_pd(e, s1), s2));
}

/* For x in [-700, 700], k is in [-1010, 1010] and S[j] 2^k is normal, so
   fma(S[j] 2^k, q, S[j] 2^k) is the spec's e scaled exactly by 2^k; S[j] 2^k
   is built by an integer add to the biased table bits. NaN gives NaN (q is
   NaN). */
NKL_INLINE __m256d exp_inrange_pd(__m256d x) {
    __m256d kr;
    __m256d q = exp_poly_pd(x, &kr);
    __m256d s = _mm256_castsi256_pd(_mm256_add_epi64(
        exp_table_pd(kr, 1), _mm256_slli_epi64(_mm256_castpd_si256(kr), 49)));
    return _mm256_fmadd_pd(s, q, s);
}

NKL_INLINE __m256d nkl_exp_pd(__m256d x) {
    __m256d in = _mm256_and_pd(_mm256_cmp_pd(x, F64(NKL_EXP_FAST_LO_F64), _CMP_GE_OQ),
                               _mm256_cmp_pd(x, F64(NKL_EXP_FAST_HI_F64), _CMP_LE_OQ));
    if (NKL_LIKELY(_mm256_movemask_pd(in) == 0xf)) return exp_inrange_pd(x);
    __m256d zero = _mm256_cmp_pd(x, F64(NKL_EXP_LO_F64), _CMP_LE_OQ);
    if (_mm256_movemask_pd(_mm256_or_pd(in, zero)) == 0xf)
        return _mm256_andnot_pd(zero, exp_inrange_pd(_mm256_andnot_pd(zero, x)));
    return exp_pd_slow(x);
}

#endif
