/*
 * kernels_avx2.c - the AVX2+FMA kernels (built with AVX2 flags, as is distill_avx2.c).
 *
 * Each kernel is kernels_scalar.c with 8 floats / 4 doubles per instruction:
 * the same term (kl_terms_scalar.h), the same blocks and lanes (canonical_sum.h),
 * unaligned loads, and a masked tail whose missing lanes load 0 and so give
 * +0 terms, as the scalar tail does.
 */
#if !defined(__AVX2__) || !defined(__FMA__)
#error "kernels_avx2.c must be compiled with AVX2 and FMA enabled (-mavx2 -mfma)"
#endif

#include <float.h>

#include "vmath_avx2.h"

/* Streams are prefetched this many bytes ahead: the hardware prefetcher alone
   leaves the kernel and the memory stream poorly overlapped on inputs that do
   not fit in the caches (docs/benchmarks.md, where the time goes). A prefetch
   never faults, so reading ahead past the end is harmless. */
#define PREFETCH_AHEAD 4096
NKL_INLINE void prefetch2(const void *a, const void *b) {
    _mm_prefetch((const char *)a + PREFETCH_AHEAD, _MM_HINT_T0);
    _mm_prefetch((const char *)b + PREFETCH_AHEAD, _MM_HINT_T0);
}


/*
 * The log-target-off term where zero targets are the only odd lanes: tz = t
 * with zeros replaced by 1 (t + 1 there, t + 0 elsewhere: exact), so that
 * l = tz log(tz) - t x. For t = +-0 that is 1 * +0 - 0 x = +0 - 0 x, the
 * spec's t * t - 0 x; elsewhere tz = t. No branch for zeros: masked classes
 * and one-hot targets run at full speed.
 */
NKL_INLINE __m256 zeros_to_one_ps(__m256 t, __m256 *t0) {
    *t0 = _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_EQ_OQ);
    return _mm256_add_ps(t, _mm256_and_ps(*t0, F32(1.0f)));
}

NKL_INLINE __m256 term_tz_ps(__m256 x, __m256 t, __m256 tz, __m256 t0, int masked) {
    __m256 l = _mm256_fmsub_ps(tz, nkl_log_normal_ps(tz), _mm256_mul_ps(t, x));
    return masked ? _mm256_andnot_ps(t0, l) : l;
}

NKL_INLINE __m256d zeros_to_one_pd(__m256d t, __m256d *t0) {
    *t0 = _mm256_cmp_pd(t, _mm256_setzero_pd(), _CMP_EQ_OQ);
    return _mm256_add_pd(t, _mm256_and_pd(*t0, F64(1.0)));
}

NKL_INLINE __m256d term_tz_pd(__m256d x, __m256d t, __m256d tz, __m256d t0, int masked) {
    __m256d l = _mm256_fmsub_pd(tz, nkl_log_normal_pd(tz), _mm256_mul_pd(t, x));
    return masked ? _mm256_andnot_pd(t0, l) : l;
}

/* Vectors with a negative, subnormal, infinite or NaN target (zeros may be
   among them too): the spec's log with every fix-up, lt = t where t == 0. */
static __m256 term_ps_slow(__m256 x, __m256 t, int masked) {
    __m256 t0 = _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_EQ_OQ);
    __m256 lt = _mm256_blendv_ps(nkl_log_ps(t), t, t0);
    __m256 l = _mm256_fmsub_ps(t, lt, _mm256_mul_ps(t, x));
    return masked ? _mm256_andnot_ps(t0, l) : l;
}

static __m256d term_pd_slow(__m256d x, __m256d t, int masked) {
    __m256d t0 = _mm256_cmp_pd(t, _mm256_setzero_pd(), _CMP_EQ_OQ);
    __m256d lt = _mm256_blendv_pd(nkl_log_pd(t), t, t0);
    __m256d l = _mm256_fmsub_pd(t, lt, _mm256_mul_pd(t, x));
    return masked ? _mm256_andnot_pd(t0, l) : l;
}

NKL_INLINE __m256 term_ps(__m256 x, __m256 t, int log_target, int masked) {
    if (!log_target) {
        /* all t positive normal or zero: no branch, no fix-up */
        __m256 t0, tz = zeros_to_one_ps(t, &t0);
        if (NKL_LIKELY(nkl_all_normal_ps(tz))) return term_tz_ps(x, t, tz, t0, masked);
        return term_ps_slow(x, t, masked);
    }
    /* l = exp(t) (t - x) */
    __m256 l = _mm256_mul_ps(nkl_exp_ps(t), _mm256_sub_ps(t, x));
    if (masked) l = _mm256_andnot_ps(_mm256_cmp_ps(t, F32(-INFINITY), _CMP_EQ_OQ), l);
    return l;
}

NKL_INLINE __m256d term_pd(__m256d x, __m256d t, int log_target, int masked) {
    if (!log_target) {
        __m256d t0, tz = zeros_to_one_pd(t, &t0);
        if (NKL_LIKELY(nkl_all_normal_pd(tz))) return term_tz_pd(x, t, tz, t0, masked);
        return term_pd_slow(x, t, masked);
    }
    __m256d l = _mm256_mul_pd(nkl_exp_pd(t), _mm256_sub_pd(t, x));
    if (masked) l = _mm256_andnot_pd(_mm256_cmp_pd(t, F64(-INFINITY), _CMP_EQ_OQ), l);
    return l;
}

/* Terms at x + i, t + i: all lanes loaded (full), or the first `r` lanes
   with zeros in the rest (a tail). */
NKL_INLINE __m256 load_term_ps(const float *x, const float *t, size_t r, int full, int log_target,
                               int masked) {
    if (full) return term_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(t), log_target, masked);
    /* missing lanes: x = 0 and t = 0 (log_target) or t = 1, whose term is
       +0 either way, the spec's +0 for missing terms */
    __m256i m = nkl_tail_mask_ps(r);
    __m256 tt = _mm256_maskload_ps(t, m);
    if (!log_target) tt = _mm256_blendv_ps(F32(1.0f), tt, _mm256_castsi256_ps(m));
    return term_ps(_mm256_maskload_ps(x, m), tt, log_target, masked);
}

NKL_INLINE __m256d load_term_pd(const double *x, const double *t, size_t r, int full,
                                int log_target, int masked) {
    if (full) return term_pd(_mm256_loadu_pd(x), _mm256_loadu_pd(t), log_target, masked);
    __m256i m = nkl_tail_mask_pd(r);
    __m256d tt = _mm256_maskload_pd(t, m);
    if (!log_target) tt = _mm256_blendv_pd(F64(1.0), tt, _mm256_castsi256_pd(m));
    return term_pd(_mm256_maskload_pd(x, m), tt, log_target, masked);
}

/* Pointwise terms, two vectors at a time so that one compare finds a NaN in
   either (nkl_any_nan_ps): NaN terms are rare, and a branch to
   nkl_canon_nan_ps costs less than a blend per vector (that cost 14 % at
   N = 1000, this 2-3 %: native/bench/bench_ab). */
NKL_INLINE void pointwise_f32(const float *x, const float *t, size_t n, float *out,
                              int log_target, int masked) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        prefetch2(x + i, t + i);
        /* both vectors are read before either is stored: out may be x or t */
        __m256 l0 = term_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(t + i), log_target, masked);
        __m256 l1 = term_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(t + i + 8), log_target, masked);
        if (NKL_UNLIKELY(nkl_any_nan_ps(l0, l1))) {
            l0 = nkl_canon_nan_ps(l0);
            l1 = nkl_canon_nan_ps(l1);
        }
        _mm256_storeu_ps(out + i, l0);
        _mm256_storeu_ps(out + i + 8, l1);
    }
    if (i + 8 <= n) {
        _mm256_storeu_ps(out + i, nkl_canon_nan_ps(term_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(t + i),
                                                           log_target, masked)));
        i += 8;
    }
    if (i < n) {
        __m256i m = nkl_tail_mask_ps(n - i);
        _mm256_maskstore_ps(out + i, m,
                            nkl_canon_nan_ps(load_term_ps(x + i, t + i, n - i, 0, log_target, masked)));
    }
}

NKL_INLINE void pointwise_f64(const double *x, const double *t, size_t n, double *out,
                              int log_target, int masked) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        prefetch2(x + i, t + i);
        __m256d l0 = term_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(t + i), log_target, masked);
        __m256d l1 = term_pd(_mm256_loadu_pd(x + i + 4), _mm256_loadu_pd(t + i + 4), log_target, masked);
        if (NKL_UNLIKELY(nkl_any_nan_pd(l0, l1))) {
            l0 = nkl_canon_nan_pd(l0);
            l1 = nkl_canon_nan_pd(l1);
        }
        _mm256_storeu_pd(out + i, l0);
        _mm256_storeu_pd(out + i + 4, l1);
    }
    if (i + 4 <= n) {
        _mm256_storeu_pd(out + i, nkl_canon_nan_pd(term_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(t + i),
                                                           log_target, masked)));
        i += 4;
    }
    if (i < n) {
        __m256i m = nkl_tail_mask_pd(n - i);
        _mm256_maskstore_pd(out + i, m,
                            nkl_canon_nan_pd(load_term_pd(x + i, t + i, n - i, 0, log_target, masked)));
    }
}

static void pointwise_f32_avx2(const float *x, const float *t, size_t n, uint32_t flags,
                               float *out) {
#define CALL(lt, m) pointwise_f32(x, t, n, out, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
}

static void pointwise_f64_avx2(const double *x, const double *t, size_t n, uint32_t flags,
                               double *out) {
#define CALL(lt, m) pointwise_f64(x, t, n, out, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
}

/* min(max(v - lo, 0), n): how many lanes of a vector starting at lo are < v */
#define LANES_LEFT(v, lo, n) ((v) <= (lo) ? 0 : (v) - (lo) >= (n) ? (n) : (v) - (lo))

/* w[j] = L[j] + L[j + 8] (float) for the block at i; full or tail (r terms left) */
/* the term for lanes known to hold positive normal targets */
NKL_INLINE __m256 term_normal_ps(const float *x, __m256 t) {
    return _mm256_fmsub_ps(t, nkl_log_normal_ps(t), _mm256_mul_ps(t, _mm256_loadu_ps(x)));
}

/* one check for a block's targets: all positive, normal and finite */
NKL_INLINE int all_normal2_ps(__m256 a, __m256 b) {
    __m256 odd = _mm256_or_ps(nkl_not_normal_ps(a), nkl_not_normal_ps(b));
    return _mm256_testz_ps(odd, odd);
}

/* One range check for a block's 16 log_target terms: is every |t| < 86 (so
   that exp_inrange_ps applies)? The bits of |t| order it as an unsigned
   integer, NaNs above +inf, so their unsigned maximum decides. */
NKL_INLINE int exp_fast_range2_ps(__m256 t0, __m256 t1) {
    const __m256i abs = I32(0x7fffffffu);
    __m256i m = _mm256_max_epu32(_mm256_and_si256(_mm256_castps_si256(t0), abs),
                                 _mm256_and_si256(_mm256_castps_si256(t1), abs));
    return _mm256_testz_si256(_mm256_cmpgt_epi32(m, I32(0x42abffffu)), I32(0xffffffffu)); /* 86.0f */
}

/* the log_target term for lanes known to be in exp_inrange_ps's range (not
   -inf, so the masked semantics change nothing) */
NKL_INLINE __m256 term_exp_inrange_ps(const float *x, __m256 t) {
    return _mm256_mul_ps(exp_inrange_ps(t), _mm256_sub_ps(t, _mm256_loadu_ps(x)));
}

NKL_INLINE __m256 block_f32(const float *x, const float *t, size_t r, int full, int log_target,
                            int masked) {
    /* the common cases, one check for the whole block: 16 positive normal
       targets, or 16 targets positive normal or zero */
    if (full && !log_target) {
        __m256 t0 = _mm256_loadu_ps(t), t1 = _mm256_loadu_ps(t + 8), z0, z1;
        if (NKL_LIKELY(all_normal2_ps(t0, t1)))
            return _mm256_add_ps(term_normal_ps(x, t0), term_normal_ps(x + 8, t1));
        __m256 tz0 = zeros_to_one_ps(t0, &z0), tz1 = zeros_to_one_ps(t1, &z1);
        if (NKL_LIKELY(all_normal2_ps(tz0, tz1)))
            return _mm256_add_ps(term_tz_ps(_mm256_loadu_ps(x), t0, tz0, z0, masked),
                                 term_tz_ps(_mm256_loadu_ps(x + 8), t1, tz1, z1, masked));
    }
    if (full && log_target) {
        __m256 t0 = _mm256_loadu_ps(t), t1 = _mm256_loadu_ps(t + 8);
        if (NKL_LIKELY(exp_fast_range2_ps(t0, t1)))
            return _mm256_add_ps(term_exp_inrange_ps(x, t0), term_exp_inrange_ps(x + 8, t1));
    }
    __m256 l0 = load_term_ps(x, t, LANES_LEFT(r, 0, 8), full, log_target, masked);
    /* a tail of <= 8 has only +0 terms in the second half */
    __m256 l1 = full || r > 8 ? load_term_ps(x + 8, t + 8, LANES_LEFT(r, 8, 8), full, log_target, masked)
                              : _mm256_setzero_ps();
    return _mm256_add_ps(l0, l1);
}

NKL_INLINE void add_widened(__m256d *lo, __m256d *hi, __m256 w) {
    *lo = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(w)));
    *hi = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(w, 1)));
}

/* nkl_fold_f32_lanes in registers: v = lo + hi; (v0 + v2) + (v1 + v3) */
NKL_INLINE nkl_partial fold_f32_lanes(__m256d lo, __m256d hi) {
    __m256d v = _mm256_add_pd(lo, hi);
    __m128d w = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    nkl_partial p = {_mm_cvtsd_f64(_mm_add_sd(w, _mm_unpackhi_pd(w, w))), 0.0};
    return p;
}

NKL_INLINE nkl_partial chunk_f32(const float *x, const float *t, size_t len, int log_target,
                                 int masked) {
    __m256d lo = _mm256_setzero_pd(), hi = lo; /* lanes 0-3, 4-7 */
    size_t i = 0;
    for (; i + NKL_BLOCK <= len; i += NKL_BLOCK) {
        prefetch2(x + i, t + i);
        add_widened(&lo, &hi, block_f32(x + i, t + i, NKL_BLOCK, 1, log_target, masked));
    }
    if (i < len) add_widened(&lo, &hi, block_f32(x + i, t + i, len - i, 0, log_target, masked));
    return fold_f32_lanes(lo, hi);
}

/* nkl_two_sum on 4 lanes: s += v, c += the rounding error. */
NKL_INLINE void two_sum_pd(__m256d *s, __m256d *c, __m256d v) {
    __m256d sum = _mm256_add_pd(*s, v);
    __m256d vv = _mm256_sub_pd(sum, *s);
    __m256d err = _mm256_add_pd(_mm256_sub_pd(*s, _mm256_sub_pd(sum, vv)), _mm256_sub_pd(v, vv));
    *s = sum;
    *c = _mm256_add_pd(*c, err);
}

/* nkl_fold_f64_lanes of the 4 compensated lanes held in registers */
NKL_INLINE nkl_partial fold_f64_lanes(__m256d s, __m256d c) {
    double sum[NKL_LANES_F64], comp[NKL_LANES_F64];
    _mm256_storeu_pd(sum, s);
    _mm256_storeu_pd(comp, c);
    return nkl_fold_f64_lanes(sum, comp);
}

/* w[j] = (L[j] + L[j + 4]) + (L[j + 8] + L[j + 12]) for the block at i */
/* the term for lanes known to hold positive normal targets */
NKL_INLINE __m256d term_normal_pd(const double *x, __m256d t) {
    return _mm256_fmsub_pd(t, nkl_log_normal_pd(t), _mm256_mul_pd(t, _mm256_loadu_pd(x)));
}

NKL_INLINE int all_normal4_pd(__m256d a, __m256d b, __m256d c, __m256d d) {
    __m256d odd = _mm256_or_pd(_mm256_or_pd(nkl_not_normal_pd(a), nkl_not_normal_pd(b)),
                               _mm256_or_pd(nkl_not_normal_pd(c), nkl_not_normal_pd(d)));
    return _mm256_testz_pd(odd, odd);
}

/* One range check for a block's 16 targets: is every |t| < 700 (so that
   exp_inrange_pd applies)? The high dword of |t|'s bits orders |t| as an
   unsigned integer, NaNs above +inf, and |t| < 700 exactly where it is below
   that of 700 (0x4085e000); so the unsigned maximum over the four vectors'
   high dwords (low dwords cleared) decides. */
NKL_INLINE int exp_fast_range4_pd(__m256d t0, __m256d t1, __m256d t2, __m256d t3) {
    const __m256i hi_abs = I64(0x7fffffff00000000ull);
    __m256i a = _mm256_and_si256(_mm256_castpd_si256(t0), hi_abs);
    __m256i b = _mm256_and_si256(_mm256_castpd_si256(t1), hi_abs);
    __m256i c = _mm256_and_si256(_mm256_castpd_si256(t2), hi_abs);
    __m256i d = _mm256_and_si256(_mm256_castpd_si256(t3), hi_abs);
    __m256i m = _mm256_max_epu32(_mm256_max_epu32(a, b), _mm256_max_epu32(c, d));
    return _mm256_testz_si256(_mm256_cmpgt_epi32(m, I32(0x4085dfffu)), I32(0xffffffffu));
}

/* the log_target term for lanes known to be in exp_inrange_pd's range (not
   -inf, so the masked semantics change nothing) */
NKL_INLINE __m256d term_exp_inrange_pd(const double *x, __m256d t) {
    return _mm256_mul_pd(exp_inrange_pd(t), _mm256_sub_pd(t, _mm256_loadu_pd(x)));
}

NKL_INLINE __m256d block_f64(const double *x, const double *t, size_t r, int full, int log_target,
                             int masked) {
    if (full && !log_target) {
        __m256d t0 = _mm256_loadu_pd(t), t1 = _mm256_loadu_pd(t + 4);
        __m256d t2 = _mm256_loadu_pd(t + 8), t3 = _mm256_loadu_pd(t + 12), z0, z1, z2, z3;
        if (NKL_LIKELY(all_normal4_pd(t0, t1, t2, t3)))
            return _mm256_add_pd(_mm256_add_pd(term_normal_pd(x, t0), term_normal_pd(x + 4, t1)),
                                 _mm256_add_pd(term_normal_pd(x + 8, t2), term_normal_pd(x + 12, t3)));
        __m256d tz0 = zeros_to_one_pd(t0, &z0), tz1 = zeros_to_one_pd(t1, &z1);
        __m256d tz2 = zeros_to_one_pd(t2, &z2), tz3 = zeros_to_one_pd(t3, &z3);
        if (NKL_LIKELY(all_normal4_pd(tz0, tz1, tz2, tz3)))
            return _mm256_add_pd(
                _mm256_add_pd(term_tz_pd(_mm256_loadu_pd(x), t0, tz0, z0, masked),
                              term_tz_pd(_mm256_loadu_pd(x + 4), t1, tz1, z1, masked)),
                _mm256_add_pd(term_tz_pd(_mm256_loadu_pd(x + 8), t2, tz2, z2, masked),
                              term_tz_pd(_mm256_loadu_pd(x + 12), t3, tz3, z3, masked)));
    }
    if (full && log_target) {
        __m256d t0 = _mm256_loadu_pd(t), t1 = _mm256_loadu_pd(t + 4);
        __m256d t2 = _mm256_loadu_pd(t + 8), t3 = _mm256_loadu_pd(t + 12);
        if (NKL_LIKELY(exp_fast_range4_pd(t0, t1, t2, t3)))
            return _mm256_add_pd(_mm256_add_pd(term_exp_inrange_pd(x, t0), term_exp_inrange_pd(x + 4, t1)),
                                 _mm256_add_pd(term_exp_inrange_pd(x + 8, t2), term_exp_inrange_pd(x + 12, t3)));
    }
    /* in a tail, quarters with no element left hold only +0 terms */
    __m256d zero = _mm256_setzero_pd();
    __m256d l0 = load_term_pd(x, t, LANES_LEFT(r, 0, 4), full, log_target, masked);
    __m256d l1 = full || r > 4 ? load_term_pd(x + 4, t + 4, LANES_LEFT(r, 4, 4), full, log_target, masked) : zero;
    __m256d l2 = full || r > 8 ? load_term_pd(x + 8, t + 8, LANES_LEFT(r, 8, 4), full, log_target, masked) : zero;
    __m256d l3 = full || r > 12 ? load_term_pd(x + 12, t + 12, LANES_LEFT(r, 12, 4), full, log_target, masked) : zero;
    return _mm256_add_pd(_mm256_add_pd(l0, l1), _mm256_add_pd(l2, l3));
}

NKL_INLINE nkl_partial chunk_f64(const double *x, const double *t, size_t len, int log_target,
                                 int masked) {
    __m256d s = _mm256_setzero_pd(), c = s;
    size_t i = 0;
    for (; i + NKL_BLOCK <= len; i += NKL_BLOCK) {
        prefetch2(x + i, t + i);
        prefetch2(x + i + 8, t + i + 8); /* a 16-double block spans two cache lines */
        two_sum_pd(&s, &c, block_f64(x + i, t + i, NKL_BLOCK, 1, log_target, masked));
    }
    if (i < len) two_sum_pd(&s, &c, block_f64(x + i, t + i, len - i, 0, log_target, masked));
    return fold_f64_lanes(s, c);
}

static nkl_partial chunk_f32_avx2(const float *x, const float *t, size_t len, uint32_t flags) {
    nkl_partial p;
#define CALL(lt, m) p = chunk_f32(x, t, len, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

static nkl_partial chunk_f64_avx2(const double *x, const double *t, size_t len, uint32_t flags) {
    nkl_partial p;
#define CALL(lt, m) p = chunk_f64(x, t, len, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

/* ------------------------------------------------ forward and backward */

/* The library's NaN (nkl_canon_nan_ps) in the three vectors a gradient call
   stores. */
NKL_INLINE void canon3_ps(__m256 *l, __m256 *gx, __m256 *gt) {
    *l = nkl_canon_nan_ps(*l);
    *gx = nkl_canon_nan_ps(*gx);
    *gt = nkl_canon_nan_ps(*gt);
}
NKL_INLINE void canon3_pd(__m256d *l, __m256d *gx, __m256d *gt) {
    *l = nkl_canon_nan_pd(*l);
    *gx = nkl_canon_nan_pd(*gx);
    *gt = nkl_canon_nan_pd(*gt);
}

/* log_target off: l = t lt - t x, gx = -(t s), gt = ((lt + q) - x) s with
   q = t / t. log_target on: l = e (t - x), gx = -(e s), gt = (e ((t - x) + 1)) s. */
NKL_INLINE __m256 xlogy_grads_ps(__m256 x, __m256 t, __m256 s, __m256 lt, __m256 q, __m256 *gx, __m256 *gt) {
    *gx = _mm256_xor_ps(_mm256_mul_ps(t, s), F32(-0.0f));
    *gt = _mm256_mul_ps(_mm256_sub_ps(_mm256_add_ps(lt, q), x), s);
    return _mm256_fmsub_ps(t, lt, _mm256_mul_ps(t, x));
}
NKL_INLINE __m256 exp_grads_ps(__m256 x, __m256 t, __m256 s, __m256 e, __m256 *gx, __m256 *gt) {
    __m256 d = _mm256_sub_ps(t, x);
    *gx = _mm256_xor_ps(_mm256_mul_ps(e, s), F32(-0.0f));
    *gt = _mm256_mul_ps(_mm256_mul_ps(e, _mm256_add_ps(d, F32(1.0f))), s);
    return _mm256_mul_ps(e, d);
}
NKL_INLINE __m256d xlogy_grads_pd(__m256d x, __m256d t, __m256d s, __m256d lt, __m256d q, __m256d *gx,
                                  __m256d *gt) {
    *gx = _mm256_xor_pd(_mm256_mul_pd(t, s), F64(-0.0));
    *gt = _mm256_mul_pd(_mm256_sub_pd(_mm256_add_pd(lt, q), x), s);
    return _mm256_fmsub_pd(t, lt, _mm256_mul_pd(t, x));
}
NKL_INLINE __m256d exp_grads_pd(__m256d x, __m256d t, __m256d s, __m256d e, __m256d *gx, __m256d *gt) {
    __m256d d = _mm256_sub_pd(t, x);
    *gx = _mm256_xor_pd(_mm256_mul_pd(e, s), F64(-0.0));
    *gt = _mm256_mul_pd(_mm256_mul_pd(e, _mm256_add_pd(d, F64(1.0))), s);
    return _mm256_mul_pd(e, d);
}

/*
 * The term and its gradients on 8 lanes: nkl_term_grad_f32 lane by lane.
 * Returns the terms (for the sum); *lc, *dx and *dt are what is stored, a
 * NaN as the library's NaN. The fast path - targets positive and normal
 * (log_target: t in [-86, 88], exp(t) normal) and no NaN input - can give no
 * NaN while s is finite and not 0 (else 0 inf), so its stores skip the NaN
 * fix-up unless canon_all; the other path, slow anyway, always has it. (A
 * blend per stored vector cost the backward 10-40 % at N = 1000.)
 */
NKL_INLINE __m256 term_grad_ps(__m256 x, __m256 t, __m256 s, int log_target, int masked, const int canon_all,
                               __m256 *lc, __m256 *dx, __m256 *dt) {
    __m256 l, gx, gt, x_nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    if (!log_target) {
        __m256 odd = _mm256_or_ps(nkl_not_normal_ps(t), x_nan);
        if (NKL_LIKELY(_mm256_testz_ps(odd, odd))) {
            /* no zero, subnormal or non-finite target: t / t = 1, nothing masked */
            l = xlogy_grads_ps(x, t, s, nkl_log_normal_ps(t), F32(1.0f), &gx, &gt);
            *lc = l;
            if (canon_all) canon3_ps(lc, &gx, &gt);
        } else {
            __m256 zero_target = _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_EQ_OQ);
            l = xlogy_grads_ps(x, t, s, _mm256_blendv_ps(nkl_log_ps(t), t, zero_target), _mm256_div_ps(t, t),
                               &gx, &gt);
            if (masked) {
                l = _mm256_andnot_ps(zero_target, l);
                gx = _mm256_andnot_ps(zero_target, gx);
                gt = _mm256_andnot_ps(zero_target, gt);
            }
            *lc = l;
            canon3_ps(lc, &gx, &gt);
        }
    } else {
        /* nkl_exp_ps's fast range (no -inf: nothing masked), and no NaN input */
        __m256 in = _mm256_andnot_ps(x_nan, _mm256_and_ps(_mm256_cmp_ps(t, F32(-86.0f), _CMP_GE_OQ),
                                                           _mm256_cmp_ps(t, F32(88.0f), _CMP_LE_OQ)));
        if (NKL_LIKELY(_mm256_movemask_ps(in) == 0xff)) {
            l = exp_grads_ps(x, t, s, exp_inrange_ps(t), &gx, &gt);
            *lc = l;
            if (canon_all) canon3_ps(lc, &gx, &gt);
        } else {
            l = exp_grads_ps(x, t, s, nkl_exp_ps(t), &gx, &gt);
            if (masked) {
                __m256 zero_target = _mm256_cmp_ps(t, F32(-INFINITY), _CMP_EQ_OQ);
                l = _mm256_andnot_ps(zero_target, l);
                gx = _mm256_andnot_ps(zero_target, gx);
                gt = _mm256_andnot_ps(zero_target, gt);
            }
            *lc = l;
            canon3_ps(lc, &gx, &gt);
        }
    }
    *dx = gx;
    *dt = gt;
    return l;
}

NKL_INLINE __m256d term_grad_pd(__m256d x, __m256d t, __m256d s, int log_target, int masked, const int canon_all,
                                __m256d *lc, __m256d *dx, __m256d *dt) {
    __m256d l, gx, gt, x_nan = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
    if (!log_target) {
        __m256d odd = _mm256_or_pd(nkl_not_normal_pd(t), x_nan);
        if (NKL_LIKELY(_mm256_testz_pd(odd, odd))) {
            l = xlogy_grads_pd(x, t, s, nkl_log_normal_pd(t), F64(1.0), &gx, &gt);
            *lc = l;
            if (canon_all) canon3_pd(lc, &gx, &gt);
        } else {
            __m256d zero_target = _mm256_cmp_pd(t, _mm256_setzero_pd(), _CMP_EQ_OQ);
            l = xlogy_grads_pd(x, t, s, _mm256_blendv_pd(nkl_log_pd(t), t, zero_target), _mm256_div_pd(t, t),
                               &gx, &gt);
            if (masked) {
                l = _mm256_andnot_pd(zero_target, l);
                gx = _mm256_andnot_pd(zero_target, gx);
                gt = _mm256_andnot_pd(zero_target, gt);
            }
            *lc = l;
            canon3_pd(lc, &gx, &gt);
        }
    } else {
        /* nkl_exp_pd's fast range, and no NaN input */
        __m256d in = _mm256_andnot_pd(x_nan, _mm256_and_pd(_mm256_cmp_pd(t, F64(-700.0), _CMP_GE_OQ),
                                                            _mm256_cmp_pd(t, F64(700.0), _CMP_LE_OQ)));
        if (NKL_LIKELY(_mm256_movemask_pd(in) == 0xf)) {
            l = exp_grads_pd(x, t, s, exp_inrange_pd(t), &gx, &gt);
            *lc = l;
            if (canon_all) canon3_pd(lc, &gx, &gt);
        } else {
            l = exp_grads_pd(x, t, s, nkl_exp_pd(t), &gx, &gt);
            if (masked) {
                __m256d zero_target = _mm256_cmp_pd(t, F64(-INFINITY), _CMP_EQ_OQ);
                l = _mm256_andnot_pd(zero_target, l);
                gx = _mm256_andnot_pd(zero_target, gx);
                gt = _mm256_andnot_pd(zero_target, gt);
            }
            *lc = l;
            canon3_pd(lc, &gx, &gt);
        }
    }
    *dx = gx;
    *dt = gt;
    return l;
}

/* One vector of 8 at x, t: r lanes valid (8 = full); stores the gradients
   (and the terms) of the valid lanes; missing lanes give a +0 term. */
NKL_INLINE __m256 grad_vector_ps(const float *x, const float *t, size_t r, __m256 s, float *lo, float *gx,
                                 float *gt, int log_target, int masked, const int canon_all) {
    __m256 dx, dt, l, lc;
    if (r == 8) {
        l = term_grad_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(t), s, log_target, masked, canon_all, &lc, &dx, &dt);
        _mm256_storeu_ps(gx, dx);
        if (gt) _mm256_storeu_ps(gt, dt);
        if (lo) _mm256_storeu_ps(lo, lc);
        return l;
    }
    if (r == 0) return _mm256_setzero_ps();
    __m256i m = nkl_tail_mask_ps(r);
    __m256 tt = _mm256_maskload_ps(t, m);
    if (!log_target) tt = _mm256_blendv_ps(F32(1.0f), tt, _mm256_castsi256_ps(m));
    l = term_grad_ps(_mm256_maskload_ps(x, m), tt, s, log_target, masked, canon_all, &lc, &dx, &dt);
    _mm256_maskstore_ps(gx, m, dx);
    if (gt) _mm256_maskstore_ps(gt, m, dt);
    if (lo) _mm256_maskstore_ps(lo, m, lc);
    return l;
}

NKL_INLINE __m256d grad_vector_pd(const double *x, const double *t, size_t r, __m256d s, double *lo,
                                  double *gx, double *gt, int log_target, int masked, const int canon_all) {
    __m256d dx, dt, l, lc;
    if (r == 4) {
        l = term_grad_pd(_mm256_loadu_pd(x), _mm256_loadu_pd(t), s, log_target, masked, canon_all, &lc, &dx, &dt);
        _mm256_storeu_pd(gx, dx);
        if (gt) _mm256_storeu_pd(gt, dt);
        if (lo) _mm256_storeu_pd(lo, lc);
        return l;
    }
    if (r == 0) return _mm256_setzero_pd();
    __m256i m = nkl_tail_mask_pd(r);
    __m256d tt = _mm256_maskload_pd(t, m);
    if (!log_target) tt = _mm256_blendv_pd(F64(1.0), tt, _mm256_castsi256_pd(m));
    l = term_grad_pd(_mm256_maskload_pd(x, m), tt, s, log_target, masked, canon_all, &lc, &dx, &dt);
    _mm256_maskstore_pd(gx, m, dx);
    if (gt) _mm256_maskstore_pd(gt, m, dt);
    if (lo) _mm256_maskstore_pd(lo, m, lc);
    return l;
}

/*
 * A whole block of 16 on term_grad_ps's fast path, one check for all its
 * vectors (as block_f32's): every target positive and normal (log_target:
 * |t| < 86, exp_fast_range2_ps) and no NaN input, so with an ordinary s no
 * result is NaN and nothing is fixed up. Stores the block and sets the
 * vectors' terms; returns 0, having stored nothing, where it is not so.
 */
NKL_INLINE int grad_block_fast_ps(const float *x, const float *t, __m256 s, float *lo, float *gx, float *gt,
                                  int log_target, const int canon_all, __m256 *l0, __m256 *l1) {
    __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
    __m256 t0 = _mm256_loadu_ps(t), t1 = _mm256_loadu_ps(t + 8);
    __m256 odd = _mm256_cmp_ps(x0, x1, _CMP_UNORD_Q), g0, g1, d0, d1;
    if (!log_target) {
        odd = _mm256_or_ps(odd, _mm256_or_ps(nkl_not_normal_ps(t0), nkl_not_normal_ps(t1)));
        if (!_mm256_testz_ps(odd, odd)) return 0;
        *l0 = xlogy_grads_ps(x0, t0, s, nkl_log_normal_ps(t0), F32(1.0f), &g0, &d0);
        *l1 = xlogy_grads_ps(x1, t1, s, nkl_log_normal_ps(t1), F32(1.0f), &g1, &d1);
    } else {
        const __m256i abs = I32(0x7fffffffu);
        __m256i m = _mm256_max_epu32(_mm256_and_si256(_mm256_castps_si256(t0), abs),
                                     _mm256_and_si256(_mm256_castps_si256(t1), abs));
        odd = _mm256_or_ps(odd, _mm256_castsi256_ps(_mm256_cmpgt_epi32(m, I32(0x42abffffu)))); /* 86.0f */
        if (!_mm256_testz_ps(odd, odd)) return 0;
        *l0 = exp_grads_ps(x0, t0, s, exp_inrange_ps(t0), &g0, &d0);
        *l1 = exp_grads_ps(x1, t1, s, exp_inrange_ps(t1), &g1, &d1);
    }
    __m256 c0 = *l0, c1 = *l1;
    if (canon_all) {
        canon3_ps(&c0, &g0, &d0);
        canon3_ps(&c1, &g1, &d1);
    }
    _mm256_storeu_ps(gx, g0);
    _mm256_storeu_ps(gx + 8, g1);
    if (gt) {
        _mm256_storeu_ps(gt, d0);
        _mm256_storeu_ps(gt + 8, d1);
    }
    if (lo) {
        _mm256_storeu_ps(lo, c0);
        _mm256_storeu_ps(lo + 8, c1);
    }
    return 1;
}

/* grad_block_fast_ps for float64: four vectors (exp_fast_range4_pd's |t| < 700). */
NKL_INLINE int grad_block_fast_pd(const double *x, const double *t, __m256d s, double *lo, double *gx,
                                  double *gt, int log_target, const int canon_all, __m256d l[4]) {
    __m256d xv[4], tv[4], g[4], d[4];
    for (int q = 0; q < 4; q++) {
        xv[q] = _mm256_loadu_pd(x + 4 * q);
        tv[q] = _mm256_loadu_pd(t + 4 * q);
    }
    __m256d odd = _mm256_or_pd(_mm256_cmp_pd(xv[0], xv[1], _CMP_UNORD_Q), _mm256_cmp_pd(xv[2], xv[3], _CMP_UNORD_Q));
    if (!log_target) {
        odd = _mm256_or_pd(odd, _mm256_or_pd(_mm256_or_pd(nkl_not_normal_pd(tv[0]), nkl_not_normal_pd(tv[1])),
                                             _mm256_or_pd(nkl_not_normal_pd(tv[2]), nkl_not_normal_pd(tv[3]))));
        if (!_mm256_testz_pd(odd, odd)) return 0;
        for (int q = 0; q < 4; q++) l[q] = xlogy_grads_pd(xv[q], tv[q], s, nkl_log_normal_pd(tv[q]), F64(1.0), &g[q], &d[q]);
    } else {
        const __m256i hi_abs = I64(0x7fffffff00000000ull);
        __m256i m = _mm256_max_epu32(
            _mm256_max_epu32(_mm256_and_si256(_mm256_castpd_si256(tv[0]), hi_abs),
                             _mm256_and_si256(_mm256_castpd_si256(tv[1]), hi_abs)),
            _mm256_max_epu32(_mm256_and_si256(_mm256_castpd_si256(tv[2]), hi_abs),
                             _mm256_and_si256(_mm256_castpd_si256(tv[3]), hi_abs)));
        /* the high dwords decide (exp_fast_range4_pd); the low ones are 0 */
        odd = _mm256_or_pd(odd, _mm256_castsi256_pd(_mm256_cmpgt_epi32(m, I32(0x4085dfffu))));
        if (!_mm256_testz_pd(odd, odd)) return 0;
        for (int q = 0; q < 4; q++) l[q] = exp_grads_pd(xv[q], tv[q], s, exp_inrange_pd(tv[q]), &g[q], &d[q]);
    }
    for (int q = 0; q < 4; q++) {
        __m256d c = l[q];
        if (canon_all) canon3_pd(&c, &g[q], &d[q]);
        _mm256_storeu_pd(gx + 4 * q, g[q]);
        if (gt) _mm256_storeu_pd(gt + 4 * q, d[q]);
        if (lo) _mm256_storeu_pd(lo + 4 * q, c);
    }
    return 1;
}

#define OFFSET(p, i) ((p) ? (p) + (i) : NULL)

NKL_INLINE nkl_partial grad_f32(const float *x, const float *t, size_t len, float s, float *lo,
                                float *gx, float *gt, int log_target, int masked, const int canon_all) {
    __m256d acc_lo = _mm256_setzero_pd(), acc_hi = acc_lo;
    __m256 sv = F32(s);
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        size_t r = len - i;
        prefetch2(x + i, t + i);
        __m256 l0, l1;
        if (!(r >= NKL_BLOCK && grad_block_fast_ps(x + i, t + i, sv, OFFSET(lo, i), gx + i, OFFSET(gt, i),
                                                   log_target, canon_all, &l0, &l1))) {
            l0 = grad_vector_ps(x + i, t + i, LANES_LEFT(r, 0, 8), sv, OFFSET(lo, i), gx + i, OFFSET(gt, i),
                                log_target, masked, canon_all);
            l1 = grad_vector_ps(x + i + 8, t + i + 8, LANES_LEFT(r, 8, 8), sv, OFFSET(lo, i + 8), gx + i + 8,
                                OFFSET(gt, i + 8), log_target, masked, canon_all);
        }
        add_widened(&acc_lo, &acc_hi, _mm256_add_ps(l0, l1));
    }
    return fold_f32_lanes(acc_lo, acc_hi);
}

NKL_INLINE nkl_partial grad_f64(const double *x, const double *t, size_t len, double s,
                                double *lo, double *gx, double *gt, int log_target, int masked,
                                const int canon_all) {
    __m256d sum = _mm256_setzero_pd(), comp = sum, sv = F64(s);
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        size_t r = len - i;
        __m256d l[4];
        prefetch2(x + i, t + i);
        prefetch2(x + i + 8, t + i + 8);
        if (!(r >= NKL_BLOCK && grad_block_fast_pd(x + i, t + i, sv, OFFSET(lo, i), gx + i, OFFSET(gt, i),
                                                   log_target, canon_all, l)))
            for (size_t q = 0; q < 4; q++)
                l[q] = grad_vector_pd(x + i + 4 * q, t + i + 4 * q, LANES_LEFT(r, 4 * q, 4), sv,
                                      OFFSET(lo, i + 4 * q), gx + i + 4 * q, OFFSET(gt, i + 4 * q),
                                      log_target, masked, canon_all);
        two_sum_pd(&sum, &comp, _mm256_add_pd(_mm256_add_pd(l[0], l[1]), _mm256_add_pd(l[2], l[3])));
    }
    return fold_f64_lanes(sum, comp);
}

static nkl_partial grad_f32_avx2(const float *x, const float *t, size_t len, uint32_t flags,
                                 float s, float *lo, float *gx, float *gt) {
    nkl_partial p;
    /* s NaN, infinite or 0 can make a NaN on term_grad_ps's fast path too */
    int canon_all = !(fabsf(s) <= FLT_MAX && s != 0.0f);
#define CALL(lt, m) \
    p = canon_all ? grad_f32(x, t, len, s, lo, gx, gt, lt, m, 1) : grad_f32(x, t, len, s, lo, gx, gt, lt, m, 0)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

static nkl_partial grad_f64_avx2(const double *x, const double *t, size_t len, uint32_t flags,
                                 double s, double *lo, double *gx, double *gt) {
    nkl_partial p;
    int canon_all = !(fabs(s) <= DBL_MAX && s != 0.0);
#define CALL(lt, m) \
    p = canon_all ? grad_f64(x, t, len, s, lo, gx, gt, lt, m, 1) : grad_f64(x, t, len, s, lo, gx, gt, lt, m, 0)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

/* The vector math alone, for the ulp sweeps (tails through the scalar spec
   would hide vector bugs, so tails go through a masked vector too). */
#define MAP_PS(name, fn)                                                               \
    static void name(const float *in, size_t n, float *out) {                         \
        size_t i = 0;                                                                  \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, fn(_mm256_loadu_ps(in + i))); \
        if (i < n) {                                                                   \
            __m256i m = nkl_tail_mask_ps(n - i);                                           \
            _mm256_maskstore_ps(out + i, m, fn(_mm256_maskload_ps(in + i, m)));        \
        }                                                                              \
    }
#define MAP_PD(name, fn)                                                               \
    static void name(const double *in, size_t n, double *out) {                       \
        size_t i = 0;                                                                  \
        for (; i + 4 <= n; i += 4) _mm256_storeu_pd(out + i, fn(_mm256_loadu_pd(in + i))); \
        if (i < n) {                                                                   \
            __m256i m = nkl_tail_mask_pd(n - i);                                           \
            _mm256_maskstore_pd(out + i, m, fn(_mm256_maskload_pd(in + i, m)));        \
        }                                                                              \
    }
MAP_PS(log_f32_avx2, nkl_log_ps)
MAP_PS(exp_f32_avx2, nkl_exp_ps)
MAP_PS(exp2_f32_avx2, nkl_exp2_ps)
MAP_PD(log_f64_avx2, nkl_log_pd)
MAP_PD(exp_f64_avx2, nkl_exp_pd)

const nkl_kernels nkl_kernels_avx2 = {
    .isa = NKL_ISA_AVX2,
    .pointwise_f32 = pointwise_f32_avx2,
    .pointwise_f64 = pointwise_f64_avx2,
    .chunk_f32 = chunk_f32_avx2,
    .chunk_f64 = chunk_f64_avx2,
    .grad_f32 = grad_f32_avx2,
    .grad_f64 = grad_f64_avx2,
    .distill_lanes_f32 = nkl_distill_lanes_f32_avx2,
    .distill_lanes_f64 = nkl_distill_lanes_f64_avx2,
    .distill_finish = nkl_distill_finish_avx2,
    .distill_grad_f32 = nkl_distill_grad_f32_avx2,
    .distill_grad_f64 = nkl_distill_grad_f64_avx2,
    .log_f32 = log_f32_avx2,
    .exp_f32 = exp_f32_avx2,
    .exp2_f32 = exp2_f32_avx2,
    .log_f64 = log_f64_avx2,
    .exp_f64 = exp_f64_avx2,
};
