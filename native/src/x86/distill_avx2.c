/*
 * distill_avx2.c - the distillation kernels with AVX2+FMA: distill_scalar.inc's
 * distill_lanes_*_scalar and distill_grad_*_scalar, one vector per lane set.
 * Built with AVX2 flags, like kernels_avx2.c; only dispatch calls in here.
 */
#if !defined(__AVX2__) || !defined(__FMA__)
#error "distill_avx2.c must be compiled with AVX2 and FMA enabled (-mavx2 -mfma)"
#endif

#include <float.h>

#include "../distill_finish.h"
#include "vmath_avx2.h"

#if defined(_MSC_VER)
#  define NKL_NOINLINE __declspec(noinline)
#else
#  define NKL_NOINLINE __attribute__((noinline))
#endif

/* ------------------------------------------------------------- float32 */

/* The lane state: maxima in float, sums in float64 (lanes 0-3 in [0], 4-7 in
   [1]), and the pending float sums of the current pair of blocks. */
typedef struct lanes_ps {
    __m256 student_max, teacher_max;
    __m256d student_sum[2], teacher_sum[2], log_ratio_sum[2];
    __m256 pending_student_sum, pending_teacher_sum, pending_log_ratio_sum;
} lanes_ps;

NKL_INLINE __m256d half_pd(__m256 v, int h) { /* lanes 4h..4h+3, widened exactly */
    return _mm256_cvtps_pd(h ? _mm256_extractf128_ps(v, 1) : _mm256_castps256_ps128(v));
}
NKL_INLINE __m256d half_mask_pd(__m256 m, int h) { /* a float lane mask as double lanes */
    __m128i m4 = h ? _mm256_extracti128_si256(_mm256_castps_si256(m), 1)
                   : _mm256_castsi256_si128(_mm256_castps_si256(m));
    return _mm256_castsi256_pd(_mm256_cvtepi32_epi64(m4));
}

/* The pending float sums widened into the float64 sums (distill_scalar.inc flush_pair_f32). */
NKL_INLINE void flush_pair_ps(lanes_ps *st) {
    for (int h = 0; h < 2; h++) {
        st->student_sum[h] = _mm256_add_pd(st->student_sum[h], half_pd(st->pending_student_sum, h));
        st->teacher_sum[h] = _mm256_add_pd(st->teacher_sum[h], half_pd(st->pending_teacher_sum, h));
        st->log_ratio_sum[h] = _mm256_add_pd(st->log_ratio_sum[h], half_pd(st->pending_log_ratio_sum, h));
    }
    st->pending_student_sum = st->pending_teacher_sum = st->pending_log_ratio_sum = _mm256_setzero_ps();
}

/* Lanes whose maximum grew (mask changed): rescale their sums, as the spec. */
static NKL_NOINLINE void rescale_ps(lanes_ps *st, __m256 nma, __m256 nmb, __m256 changed) {
    /* ra = 2^(ma - nma), rb = 2^(mb - nmb) (base 2: see lanes_f32) */
    __m256 ra = nkl_exp2_ps(_mm256_sub_ps(st->student_max, nma));
    __m256 rb = nkl_exp2_ps(_mm256_sub_ps(st->teacher_max, nmb));
    for (int h = 0; h < 2; h++) {
        __m256d m = half_mask_pd(changed, h);
        __m256d rah = half_pd(ra, h), rbh = half_pd(rb, h);
        /* da = nma - ma, db = nmb - mb in float64 */
        __m256d da = _mm256_sub_pd(half_pd(nma, h), half_pd(st->student_max, h));
        __m256d db = _mm256_sub_pd(half_pd(nmb, h), half_pd(st->teacher_max, h));
        /* acc = rb (acc + (da - db) zb) where zb != 0 */
        __m256d acc = _mm256_mul_pd(rbh, _mm256_add_pd(st->log_ratio_sum[h], _mm256_mul_pd(_mm256_sub_pd(da, db), st->teacher_sum[h])));
        __m256d nz = _mm256_cmp_pd(st->teacher_sum[h], _mm256_setzero_pd(), _CMP_NEQ_UQ);
        st->log_ratio_sum[h] = _mm256_blendv_pd(st->log_ratio_sum[h], acc, _mm256_and_pd(m, nz));
        st->student_sum[h] = _mm256_blendv_pd(st->student_sum[h], _mm256_mul_pd(st->student_sum[h], rah), m);
        st->teacher_sum[h] = _mm256_blendv_pd(st->teacher_sum[h], _mm256_mul_pd(st->teacher_sum[h], rbh), m);
    }
    st->student_max = _mm256_blendv_ps(st->student_max, nma, changed);
    st->teacher_max = _mm256_blendv_ps(st->teacher_max, nmb, changed);
}

/* Lanes whose eight exp2 arguments (a[j], b[j]) are all in [-125, 127]; lanes
   outside `valid` (when given) count as 0, that is, in range. */
NKL_INLINE __m256 range_ok_ps(const __m256 a[4], const __m256 b[4], const int log_probs, const __m256 *valid) {
    __m256 lo, hi = _mm256_setzero_ps();
    if (valid) {
        __m256 ca[4], cb[4];
        for (int j = 0; j < 4; j++) {
            ca[j] = _mm256_and_ps(a[j], valid[j]);
            cb[j] = _mm256_and_ps(b[j], valid[j]);
        }
        lo = _mm256_min_ps(_mm256_min_ps(_mm256_min_ps(ca[0], ca[1]), _mm256_min_ps(ca[2], ca[3])),
                           _mm256_min_ps(_mm256_min_ps(cb[0], cb[1]), _mm256_min_ps(cb[2], cb[3])));
        if (log_probs) hi = _mm256_max_ps(_mm256_max_ps(cb[0], cb[1]), _mm256_max_ps(cb[2], cb[3]));
    } else {
        lo = _mm256_min_ps(_mm256_min_ps(_mm256_min_ps(a[0], a[1]), _mm256_min_ps(a[2], a[3])),
                           _mm256_min_ps(_mm256_min_ps(b[0], b[1]), _mm256_min_ps(b[2], b[3])));
        if (log_probs) hi = _mm256_max_ps(_mm256_max_ps(b[0], b[1]), _mm256_max_ps(b[2], b[3]));
    }
    __m256 ok = _mm256_cmp_ps(lo, _mm256_set1_ps(NKL_EXP2_FAST_LO_F32), _CMP_GE_OQ);
    if (log_probs) ok = _mm256_and_ps(ok, _mm256_cmp_ps(hi, _mm256_set1_ps(NKL_EXP2_FAST_HI_F32), _CMP_LE_OQ));
    return ok;
}

/* One block of 32: a[j] = s/T of elements 8j..8j+7, b[j] the teacher's.
   `valid`: NULL for a full block; for a row's last, partial block, each
   vector's lanes inside the row (all ones) - the others hold -inf logits,
   the spec's padding, whose terms are +0. */
NKL_INLINE void block_ps(lanes_ps *st, __m256 a[4], __m256 b[4], const int log_probs, const int first,
                         const int nan_safe, const __m256 *valid) {
    /* bm = max(max(a0, a1), max(a2, a3)); where bm > ma: nma = bm + headroom (else ma); likewise b */
    __m256 head = _mm256_set1_ps((float)NKL_DISTILL_HEADROOM_BASE2);
    __m256 bma = _mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3]));
    __m256 changed = _mm256_cmp_ps(bma, st->student_max, _CMP_GT_OQ);
    __m256 nma = _mm256_blendv_ps(st->student_max, _mm256_add_ps(bma, head), changed);
    __m256 nmb = st->teacher_max;
    if (!log_probs) {
        __m256 bmb = _mm256_max_ps(_mm256_max_ps(b[0], b[1]), _mm256_max_ps(b[2], b[3]));
        __m256 gt = _mm256_cmp_ps(bmb, st->teacher_max, _CMP_GT_OQ);
        nmb = _mm256_blendv_ps(st->teacher_max, _mm256_add_ps(bmb, head), gt);
        changed = _mm256_or_ps(changed, gt);
    }
    if (first) {
        /* a row's first block: the sums are all +0, which the rescale leaves
           +0 (their factors are exp(-FLT_MAX - nm) = 0), so only the
           reference points move */
        st->student_max = nma;
        st->teacher_max = nmb;
    } else if (_mm256_movemask_ps(changed)) {
        /* the pair's pending sums first, for every lane; the rescale on a
           copy: the state itself never has its address taken, so it stays in
           registers through the loop */
        flush_pair_ps(st);
        lanes_ps t = *st;
        rescale_ps(&t, nma, nmb, changed);
        *st = t;
    }
    /* a = a - ma, b = b - mb (logits) */
    for (int j = 0; j < 4; j++) {
        a[j] = _mm256_sub_ps(a[j], st->student_max);
        if (!log_probs) b[j] = _mm256_sub_ps(b[j], st->teacher_max);
    }
    /* e = 2^b; t = b != -inf ? e (b - a) : 0 */
    __m256 e[4], t[4], ea[4];
    /* Usually every exp2 argument is in [-125, 127] (a and b are <= 0 after
       the shift): then one range check serves the eight exp2s and e > 0 needs
       no mask. The min tree can hide a NaN; exp2_inrange_ps would turn it
       into a number, so the first pass over a row uses it and lanes_f32_avx2
       redoes a row whose sums came out NaN (every NaN logit makes its term,
       and so its lane's acc, NaN) with exp2_normal_ps, which keeps NaN. */
    /* Padding lanes (-inf) are left out of the check as +0, and their
       results masked to +0 below: a partial block takes the fast path too. */
    __m256 ok = range_ok_ps(a, b, log_probs, valid);
    if (NKL_LIKELY(_mm256_movemask_ps(ok) == 0xff)) {
        for (int j = 0; j < 4; j++) {
            if (valid && _mm256_testz_ps(valid[j], valid[j])) { /* all padding: +0 terms */
                e[j] = t[j] = ea[j] = _mm256_setzero_ps();
                continue;
            }
            e[j] = nan_safe ? exp2_normal_ps(b[j]) : exp2_inrange_ps(b[j]);
            t[j] = _mm256_mul_ps(e[j], _mm256_sub_ps(b[j], a[j]));
            ea[j] = nan_safe ? exp2_normal_ps(a[j]) : exp2_inrange_ps(a[j]);
            if (valid) {
                e[j] = _mm256_and_ps(e[j], valid[j]);
                t[j] = _mm256_and_ps(t[j], valid[j]);
                ea[j] = _mm256_and_ps(ea[j], valid[j]);
            }
        }
    } else {
        for (int j = 0; j < 4; j++) {
            /* t = b != -inf ? e (b - a) : +0, as the spec */
            e[j] = nkl_exp2_ps(b[j]);
            t[j] = _mm256_and_ps(_mm256_cmp_ps(b[j], _mm256_set1_ps(-INFINITY), _CMP_NEQ_UQ),
                                 _mm256_mul_ps(e[j], _mm256_sub_ps(b[j], a[j])));
            ea[j] = nkl_exp2_ps(a[j]);
        }
    }
    /* a lane's four terms pre-added in float (pairwise), into the pair's pending sums */
    __m256 za = _mm256_add_ps(_mm256_add_ps(ea[0], ea[1]), _mm256_add_ps(ea[2], ea[3]));
    __m256 zb = _mm256_add_ps(_mm256_add_ps(e[0], e[1]), _mm256_add_ps(e[2], e[3]));
    __m256 tt = _mm256_add_ps(_mm256_add_ps(t[0], t[1]), _mm256_add_ps(t[2], t[3]));
    st->pending_student_sum = _mm256_add_ps(st->pending_student_sum, za);
    st->pending_teacher_sum = _mm256_add_ps(st->pending_teacher_sum, zb);
    st->pending_log_ratio_sum = _mm256_add_ps(st->pending_log_ratio_sum, tt);
}

/* Loads a block of 32, in base 2: logits scaled by `scale` = log2(e)/T,
   teacher log-probabilities by log2(e). */
NKL_INLINE void load_block_ps(const float *s, const float *u, __m256 scale, const int log_probs,
                              __m256 a[4], __m256 b[4]) {
    __m256 teacher_scale = log_probs ? _mm256_set1_ps(NKL_LOG2E_F32) : scale;
    for (int j = 0; j < 4; j++) {
        a[j] = _mm256_mul_ps(_mm256_loadu_ps(s + 8 * j), scale);
        b[j] = _mm256_mul_ps(_mm256_loadu_ps(u + 8 * j), teacher_scale);
    }
}

/* load_block_ps for the last `rem` (1..31) logits of a row: masked loads
   (nothing past the row is read), -inf in the lanes past it, and their masks. */
NKL_INLINE void load_tail_ps(const float *s, const float *u, size_t rem, __m256 scale, const int log_probs,
                             __m256 a[4], __m256 b[4], __m256 valid[4]) {
    const __m256 pad = _mm256_set1_ps(-INFINITY);
    for (size_t j = 0; j < 4; j++) {
        if (8 * j >= rem) { /* no lane inside the row: no address formed past it */
            a[j] = b[j] = pad;
            valid[j] = _mm256_setzero_ps();
            continue;
        }
        __m256i m = nkl_tail_mask_ps(rem - 8 * j < 8 ? rem - 8 * j : 8);
        valid[j] = _mm256_castsi256_ps(m);
        __m256 sv = _mm256_mul_ps(_mm256_maskload_ps(s + 8 * j, m), scale);
        __m256 uv = _mm256_mul_ps(_mm256_maskload_ps(u + 8 * j, m), log_probs ? _mm256_set1_ps(NKL_LOG2E_F32) : scale);
        a[j] = _mm256_blendv_ps(pad, sv, valid[j]);
        b[j] = _mm256_blendv_ps(pad, uv, valid[j]);
    }
}

NKL_INLINE void lanes_f32(const float *s, const float *u, size_t cols, float logit_scale,
                          const int log_probs, const int nan_safe, nkl_distill_lanes *out) {
    lanes_ps st;
    st.student_max = st.teacher_max = _mm256_set1_ps(-FLT_MAX);
    for (int h = 0; h < 2; h++) st.student_sum[h] = st.teacher_sum[h] = st.log_ratio_sum[h] = _mm256_setzero_pd();
    st.pending_student_sum = st.pending_teacher_sum = st.pending_log_ratio_sum = _mm256_setzero_ps();
    __m256 scale = _mm256_set1_ps(logit_scale);
    __m256 a[4], b[4];
    size_t i = 0;
    int pending = 0; /* a pair's first block is in the pending sums */
    if (cols >= 32) {
        load_block_ps(s, u, scale, log_probs, a, b);
        block_ps(&st, a, b, log_probs, 1, nan_safe, NULL);
        i = 32;
        pending = 1;
    }
    /* the spec widens after blocks 1, 3, 5, ... and after the row's last */
    if (pending && i + 32 <= cols) {
        load_block_ps(s + i, u + i, scale, log_probs, a, b);
        block_ps(&st, a, b, log_probs, 0, nan_safe, NULL);
        flush_pair_ps(&st);
        i += 32;
        pending = 0;
    }
    for (; i + 64 <= cols; i += 64) {
        load_block_ps(s + i, u + i, scale, log_probs, a, b);
        block_ps(&st, a, b, log_probs, 0, nan_safe, NULL);
        load_block_ps(s + i + 32, u + i + 32, scale, log_probs, a, b);
        block_ps(&st, a, b, log_probs, 0, nan_safe, NULL);
        flush_pair_ps(&st);
    }
    if (i + 32 <= cols) { /* a pair's first block */
        load_block_ps(s + i, u + i, scale, log_probs, a, b);
        block_ps(&st, a, b, log_probs, 0, nan_safe, NULL);
        i += 32;
        pending = 1;
    }
    if (i < cols) { /* the last block, padded with -inf logits (-inf / T = -inf) */
        __m256 valid[4];
        load_tail_ps(s + i, u + i, cols - i, scale, log_probs, a, b, valid);
        if (i == 0) block_ps(&st, a, b, log_probs, 1, nan_safe, valid);
        else block_ps(&st, a, b, log_probs, 0, nan_safe, valid);
        pending = 1;
    }
    if (pending) flush_pair_ps(&st);
    float ma[8], mb[8];
    _mm256_storeu_ps(ma, st.student_max);
    _mm256_storeu_ps(mb, st.teacher_max);
    for (int l = 0; l < 8; l++) {
        out->student_max[l] = ma[l];
        out->teacher_max[l] = mb[l];
    }
    for (int h = 0; h < 2; h++) {
        _mm256_storeu_pd(out->student_sum + 4 * h, st.student_sum[h]);
        _mm256_storeu_pd(out->teacher_sum + 4 * h, st.teacher_sum[h]);
        _mm256_storeu_pd(out->log_ratio_sum + 4 * h, st.log_ratio_sum[h]);
    }
}

void nkl_distill_lanes_f32_avx2(const float *s, const float *u, size_t cols, float logit_scale,
                                int log_probs, nkl_distill_lanes *st) {
    if (log_probs) lanes_f32(s, u, cols, logit_scale, 1, 0, st);
    else lanes_f32(s, u, cols, logit_scale, 0, 0, st);
    int nan = 0;
    for (int l = 0; l < 8; l++) nan |= isnan(st->log_ratio_sum[l]);
    if (nan) { /* a NaN logit, or an inf - inf: the row again, NaN kept as NaN (block_ps) */
        if (log_probs) lanes_f32(s, u, cols, logit_scale, 1, 1, st);
        else lanes_f32(s, u, cols, logit_scale, 0, 1, st);
    }
}

/* The gradient pass's constants, broadcast once per row (loaded through g
   inside the loop, they would be reloaded after every store: gs may alias g). */
typedef struct grad_ps_consts {
    __m256 student_scale, teacher_scale, student_max, student_log_sum, teacher_max,
        teacher_log_sum, teacher_mass, kl, student_factor, teacher_factor;
} grad_ps_consts;

/* Whether no gradient of a row can be NaN where both exps take the fast path
   (q and p finite and normal): the row's constants all finite, and the
   factors student_factor and teacher_factor not 0 (else 0 * inf). Then only
   the vectors off the fast path (NaN or infinite logits: rare, and slow
   anyway) need nkl_canon_nan_*, not every vector a blend; otherwise every
   vector does. */
NKL_INLINE int grad_consts_odd_f32(const nkl_distill_grad_f32 *g) {
    return !(isfinite(g->student_scale) && isfinite(g->teacher_scale) && isfinite(g->student_max) &&
           isfinite(g->student_log_sum) && isfinite(g->teacher_max) &&
           isfinite(g->teacher_log_sum) && isfinite(g->teacher_mass) && isfinite(g->kl) &&
           isfinite(g->student_factor) && isfinite(g->teacher_factor) &&
           g->student_factor != 0 && g->teacher_factor != 0);
}
NKL_INLINE int grad_consts_odd_f64(const nkl_distill_grad_f64 *g) {
    return !(isfinite(g->student_scale) && isfinite(g->teacher_scale) && isfinite(g->student_max) &&
           isfinite(g->student_log_sum) && isfinite(g->teacher_max) &&
           isfinite(g->teacher_log_sum) && isfinite(g->teacher_mass) && isfinite(g->kl) &&
           isfinite(g->student_factor) && isfinite(g->teacher_factor) &&
           g->student_factor != 0 && g->teacher_factor != 0);
}

/* The gradient pass's fast path takes the exp2 arguments x whose k =
   round(x) is in [-125, 2]: there p 2^k is normal (exp2_inrange_ps, the same
   bits as the spec) and, as q <= 1 and p <= 1 up to rounding, it holds every
   lane but masked classes (x < -125, or -inf) and odd inputs. The test runs
   on the bits of kr = x + ROUND (bits(kr) - bits(ROUND) = k for |x| < 2^22):
   t = bits(kr) - (bits(ROUND) - 125) is in [0, 127] exactly for such k, and
   for nothing else: a NaN, an infinity or |x| >= 2^22 gives kr bits far
   outside. One OR of the t's of a block and one VPTEST check them all with
   integer and logic operations, which leave the two FMA ports (the gradient
   pass's limit: about 35 of its 45 operations per vector need them) to the
   arithmetic. */
#define GRAD_FAST_BIAS ((int)(nkl_bits_f32(NKL_ROUND_F32) - 125u))
#define GRAD_FAST_MASK (~127)

/* The gradient pass, in two halves so that a block of vectors shares one
   range test. grad_pre_ps: lq, lp (base 2) of nkl_distill_grad_f32, their kr,
   and their t OR-ed into *t. unit_mass: teacher_mass is 1 (q 1 = q, the
   multiply left out); shift: teacher_max or teacher_log_sum is not +0 (for
   log-probabilities both are, and x - (+0) = x: the subtractions are left
   out). Neither changes a bit. */
typedef struct grad_ps_vec {
    __m256 lq, lp, krq, krp;
} grad_ps_vec;

NKL_INLINE grad_ps_vec grad_pre_ps(__m256 sv, __m256 uv, const grad_ps_consts *g, const int shift, __m256i *t) {
    grad_ps_vec v;
    v.lq = _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(sv, g->student_scale), g->student_max), g->student_log_sum);
    v.lp = _mm256_mul_ps(uv, g->teacher_scale);
    if (shift) v.lp = _mm256_sub_ps(_mm256_sub_ps(v.lp, g->teacher_max), g->teacher_log_sum);
    v.krq = exp2_round_ps(v.lq);
    v.krp = exp2_round_ps(v.lp);
    __m256i tq = _mm256_sub_epi32(_mm256_castps_si256(v.krq), I32(GRAD_FAST_BIAS));
    __m256i tp = _mm256_sub_epi32(_mm256_castps_si256(v.krp), I32(GRAD_FAST_BIAS));
    *t = _mm256_or_si256(*t, _mm256_or_si256(tq, tp));
    return v;
}

/* q = 2^lq, p = 2^lp, then gs = (q zb - p) cs; gu = p != 0 ? (p ((lp - lq) - kl)) cu : 0
   (p > 0 on the fast path) */
NKL_INLINE void grad_post_ps(grad_ps_vec v, const int fast, const grad_ps_consts *g, const int odd,
                             const int unit_mass, __m256 *gs, __m256 *gu) {
    __m256 q, p;
    if (NKL_LIKELY(fast)) {
        q = scale_inrange_ps(exp2_poly_kr_ps(v.lq, v.krq), v.krq);
        p = scale_inrange_ps(exp2_poly_kr_ps(v.lp, v.krp), v.krp);
    } else {
        q = nkl_exp2_ps(v.lq);
        p = nkl_exp2_ps(v.lp);
    }
    *gs = _mm256_mul_ps(_mm256_sub_ps(unit_mass ? q : _mm256_mul_ps(q, g->teacher_mass), p), g->student_factor);
    __m256 f = _mm256_sub_ps(_mm256_sub_ps(v.lp, v.lq), g->kl);
    *gu = _mm256_mul_ps(_mm256_mul_ps(p, f), g->teacher_factor);
    if (!fast) *gu = _mm256_and_ps(_mm256_cmp_ps(p, _mm256_setzero_ps(), _CMP_NEQ_UQ), *gu);
    if (!fast || odd) {
        *gs = nkl_canon_nan_ps(*gs);
        *gu = nkl_canon_nan_ps(*gu);
    }
}

NKL_INLINE int grad_fast(__m256i t) { return _mm256_testz_si256(t, I32(GRAD_FAST_MASK)); }

NKL_INLINE void grad_row_ps(const float *s, const float *u, size_t cols, const grad_ps_consts *g, const int odd,
                            const int unit_mass, const int shift, float *gs, float *gu) {
    size_t i = 0;
    __m256 s0, u0, s1, u1, s2, u2, s3, u3;
    for (; i + 32 <= cols; i += 32) { /* four vectors a test: llvm-mca, Skylake, 18.3 -> 15.5 cycles a vector */
        __m256i t = _mm256_setzero_si256();
        grad_ps_vec v0 = grad_pre_ps(_mm256_loadu_ps(s + i), _mm256_loadu_ps(u + i), g, shift, &t);
        grad_ps_vec v1 = grad_pre_ps(_mm256_loadu_ps(s + i + 8), _mm256_loadu_ps(u + i + 8), g, shift, &t);
        grad_ps_vec v2 = grad_pre_ps(_mm256_loadu_ps(s + i + 16), _mm256_loadu_ps(u + i + 16), g, shift, &t);
        grad_ps_vec v3 = grad_pre_ps(_mm256_loadu_ps(s + i + 24), _mm256_loadu_ps(u + i + 24), g, shift, &t);
        int fast = grad_fast(t);
        grad_post_ps(v0, fast, g, odd, unit_mass, &s0, &u0);
        grad_post_ps(v1, fast, g, odd, unit_mass, &s1, &u1);
        grad_post_ps(v2, fast, g, odd, unit_mass, &s2, &u2);
        grad_post_ps(v3, fast, g, odd, unit_mass, &s3, &u3);
        _mm256_storeu_ps(gs + i, s0);
        _mm256_storeu_ps(gs + i + 8, s1);
        _mm256_storeu_ps(gs + i + 16, s2);
        _mm256_storeu_ps(gs + i + 24, s3);
        if (gu) {
            _mm256_storeu_ps(gu + i, u0);
            _mm256_storeu_ps(gu + i + 8, u1);
            _mm256_storeu_ps(gu + i + 16, u2);
            _mm256_storeu_ps(gu + i + 24, u3);
        }
    }
    if (i + 16 <= cols) {
        __m256i t = _mm256_setzero_si256();
        grad_ps_vec v0 = grad_pre_ps(_mm256_loadu_ps(s + i), _mm256_loadu_ps(u + i), g, shift, &t);
        grad_ps_vec v1 = grad_pre_ps(_mm256_loadu_ps(s + i + 8), _mm256_loadu_ps(u + i + 8), g, shift, &t);
        int fast = grad_fast(t);
        grad_post_ps(v0, fast, g, odd, unit_mass, &s0, &u0);
        grad_post_ps(v1, fast, g, odd, unit_mass, &s1, &u1);
        _mm256_storeu_ps(gs + i, s0);
        _mm256_storeu_ps(gs + i + 8, s1);
        if (gu) {
            _mm256_storeu_ps(gu + i, u0);
            _mm256_storeu_ps(gu + i + 8, u1);
        }
        i += 16;
    }
    if (i + 8 <= cols) {
        __m256i t = _mm256_setzero_si256();
        grad_ps_vec v0 = grad_pre_ps(_mm256_loadu_ps(s + i), _mm256_loadu_ps(u + i), g, shift, &t);
        grad_post_ps(v0, grad_fast(t), g, odd, unit_mass, &s0, &u0);
        _mm256_storeu_ps(gs + i, s0);
        if (gu) _mm256_storeu_ps(gu + i, u0);
        i += 8;
    }
    if (i < cols) { /* masked: +0 in the lanes past the row, whose results are not stored */
        __m256i m = nkl_tail_mask_ps(cols - i), t = _mm256_setzero_si256();
        grad_ps_vec v0 = grad_pre_ps(_mm256_maskload_ps(s + i, m), _mm256_maskload_ps(u + i, m), g, shift, &t);
        grad_post_ps(v0, grad_fast(t), g, odd, unit_mass, &s0, &u0);
        _mm256_maskstore_ps(gs + i, m, s0);
        if (gu) _mm256_maskstore_ps(gu + i, m, u0);
    }
}

void nkl_distill_grad_f32_avx2(const float *s, const float *u, size_t cols,
                               const nkl_distill_grad_f32 *gp, float *gs, float *gu) {
    const grad_ps_consts g = {
        _mm256_set1_ps(gp->student_scale), _mm256_set1_ps(gp->teacher_scale), _mm256_set1_ps(gp->student_max), _mm256_set1_ps(gp->student_log_sum),
        _mm256_set1_ps(gp->teacher_max), _mm256_set1_ps(gp->teacher_log_sum), _mm256_set1_ps(gp->teacher_mass), _mm256_set1_ps(gp->kl),
        _mm256_set1_ps(gp->student_factor), _mm256_set1_ps(gp->teacher_factor)};
    int odd = grad_consts_odd_f32(gp);
    /* by bits: q 1 = q for every q; x - (+0) = x, but x - (-0) is not x for x = -0 */
    int unit_mass = nkl_bits_f32(gp->teacher_mass) == nkl_bits_f32(1.0f);
    int shift = (nkl_bits_f32(gp->teacher_max) | nkl_bits_f32(gp->teacher_log_sum)) != 0;
    if (unit_mass && shift) grad_row_ps(s, u, cols, &g, odd, 1, 1, gs, gu); /* teacher logits */
    else if (!shift) grad_row_ps(s, u, cols, &g, odd, 0, 0, gs, gu);        /* log-probabilities */
    else grad_row_ps(s, u, cols, &g, odd, 0, 1, gs, gu);
}
#undef GRAD_FAST_BIAS
#undef GRAD_FAST_MASK

/* ------------------------------------------------------------- float64 */

typedef struct lanes_pd {
    __m256d student_max, teacher_max, student_sum, teacher_sum, log_ratio_sum;
} lanes_pd;

static NKL_NOINLINE void rescale_pd(lanes_pd *st, __m256d nma, __m256d nmb, __m256d changed) {
    __m256d ra = nkl_exp_pd(_mm256_sub_pd(st->student_max, nma));
    __m256d rb = nkl_exp_pd(_mm256_sub_pd(st->teacher_max, nmb));
    __m256d da = _mm256_sub_pd(nma, st->student_max), db = _mm256_sub_pd(nmb, st->teacher_max);
    __m256d acc = _mm256_mul_pd(rb, _mm256_add_pd(st->log_ratio_sum, _mm256_mul_pd(_mm256_sub_pd(da, db), st->teacher_sum)));
    __m256d nz = _mm256_cmp_pd(st->teacher_sum, _mm256_setzero_pd(), _CMP_NEQ_UQ);
    st->log_ratio_sum = _mm256_blendv_pd(st->log_ratio_sum, acc, _mm256_and_pd(changed, nz));
    st->student_sum = _mm256_blendv_pd(st->student_sum, _mm256_mul_pd(st->student_sum, ra), changed);
    st->teacher_sum = _mm256_blendv_pd(st->teacher_sum, _mm256_mul_pd(st->teacher_sum, rb), changed);
    st->student_max = _mm256_blendv_pd(st->student_max, nma, changed);
    st->teacher_max = _mm256_blendv_pd(st->teacher_max, nmb, changed);
}

NKL_INLINE void block_pd(lanes_pd *st, __m256d a0, __m256d a1, __m256d b0, __m256d b1,
                         const int log_probs) {
    __m256d head = _mm256_set1_pd(NKL_DISTILL_HEADROOM);
    __m256d bma = _mm256_max_pd(a0, a1);
    __m256d changed = _mm256_cmp_pd(bma, st->student_max, _CMP_GT_OQ);
    __m256d nma = _mm256_blendv_pd(st->student_max, _mm256_add_pd(bma, head), changed);
    __m256d nmb = st->teacher_max;
    if (!log_probs) {
        __m256d bmb = _mm256_max_pd(b0, b1);
        __m256d gt = _mm256_cmp_pd(bmb, st->teacher_max, _CMP_GT_OQ);
        nmb = _mm256_blendv_pd(st->teacher_max, _mm256_add_pd(bmb, head), gt);
        changed = _mm256_or_pd(changed, gt);
    }
    if (_mm256_movemask_pd(changed)) {
        lanes_pd t = *st; /* a copy: see block_ps */
        rescale_pd(&t, nma, nmb, changed);
        *st = t;
    }
    a0 = _mm256_sub_pd(a0, st->student_max);
    a1 = _mm256_sub_pd(a1, st->student_max);
    if (!log_probs) {
        b0 = _mm256_sub_pd(b0, st->teacher_max);
        b1 = _mm256_sub_pd(b1, st->teacher_max);
    }
    __m256d e0, e1, t0, t1, ea;
    /* the fast path of block_ps, for [-700, 700] */
    __m256d lo = _mm256_min_pd(_mm256_min_pd(a0, a1), _mm256_min_pd(b0, b1));
    __m256d ok = _mm256_cmp_pd(lo, _mm256_set1_pd(-700.0), _CMP_GE_OQ);
    if (log_probs)
        ok = _mm256_and_pd(ok, _mm256_cmp_pd(_mm256_max_pd(b0, b1), _mm256_set1_pd(700.0), _CMP_LE_OQ));
    if (NKL_LIKELY(_mm256_movemask_pd(ok) == 0xf)) {
        e0 = exp_inrange_pd(b0);
        e1 = exp_inrange_pd(b1);
        t0 = _mm256_mul_pd(e0, _mm256_sub_pd(b0, a0));
        t1 = _mm256_mul_pd(e1, _mm256_sub_pd(b1, a1));
        ea = _mm256_add_pd(exp_inrange_pd(a0), exp_inrange_pd(a1));
    } else {
        e0 = nkl_exp_pd(b0);
        e1 = nkl_exp_pd(b1);
        t0 = _mm256_and_pd(_mm256_cmp_pd(b0, _mm256_set1_pd(-INFINITY), _CMP_NEQ_UQ),
                           _mm256_mul_pd(e0, _mm256_sub_pd(b0, a0)));
        t1 = _mm256_and_pd(_mm256_cmp_pd(b1, _mm256_set1_pd(-INFINITY), _CMP_NEQ_UQ),
                           _mm256_mul_pd(e1, _mm256_sub_pd(b1, a1)));
        ea = _mm256_add_pd(nkl_exp_pd(a0), nkl_exp_pd(a1));
    }
    st->student_sum = _mm256_add_pd(st->student_sum, ea);
    st->teacher_sum = _mm256_add_pd(st->teacher_sum, _mm256_add_pd(e0, e1));
    st->log_ratio_sum = _mm256_add_pd(st->log_ratio_sum, _mm256_add_pd(t0, t1));
}

NKL_INLINE void lanes_f64(const double *s, const double *u, size_t cols, double logit_scale,
                          const int log_probs, nkl_distill_lanes *out) {
    lanes_pd st;
    st.student_max = st.teacher_max = _mm256_set1_pd(-DBL_MAX);
    st.student_sum = st.teacher_sum = st.log_ratio_sum = _mm256_setzero_pd();
    __m256d scale = _mm256_set1_pd(logit_scale);
    size_t i = 0;
    for (; i + 8 <= cols; i += 8) {
        __m256d a0 = _mm256_mul_pd(_mm256_loadu_pd(s + i), scale);
        __m256d a1 = _mm256_mul_pd(_mm256_loadu_pd(s + i + 4), scale);
        __m256d b0 = _mm256_loadu_pd(u + i), b1 = _mm256_loadu_pd(u + i + 4);
        if (!log_probs) {
            b0 = _mm256_mul_pd(b0, scale);
            b1 = _mm256_mul_pd(b1, scale);
        }
        block_pd(&st, a0, a1, b0, b1, log_probs);
    }
    if (i < cols) {
        double sb[8], ub[8];
        for (size_t j = 0; j < 8; j++) sb[j] = ub[j] = -INFINITY;
        memcpy(sb, s + i, (cols - i) * sizeof(double));
        memcpy(ub, u + i, (cols - i) * sizeof(double));
        __m256d a0 = _mm256_mul_pd(_mm256_loadu_pd(sb), scale);
        __m256d a1 = _mm256_mul_pd(_mm256_loadu_pd(sb + 4), scale);
        __m256d b0 = _mm256_loadu_pd(ub), b1 = _mm256_loadu_pd(ub + 4);
        if (!log_probs) {
            b0 = _mm256_mul_pd(b0, scale);
            b1 = _mm256_mul_pd(b1, scale);
        }
        block_pd(&st, a0, a1, b0, b1, log_probs);
    }
    _mm256_storeu_pd(out->student_max, st.student_max);
    _mm256_storeu_pd(out->teacher_max, st.teacher_max);
    _mm256_storeu_pd(out->student_sum, st.student_sum);
    _mm256_storeu_pd(out->teacher_sum, st.teacher_sum);
    _mm256_storeu_pd(out->log_ratio_sum, st.log_ratio_sum);
}

void nkl_distill_lanes_f64_avx2(const double *s, const double *u, size_t cols, double logit_scale,
                                int log_probs, nkl_distill_lanes *st) {
    if (log_probs) lanes_f64(s, u, cols, logit_scale, 1, st);
    else lanes_f64(s, u, cols, logit_scale, 0, st);
}

typedef struct grad_pd_consts {
    __m256d student_scale, teacher_scale, student_max, student_log_sum, teacher_max,
        teacher_log_sum, teacher_mass, kl, student_factor, teacher_factor;
} grad_pd_consts;

NKL_INLINE void grad_pd(__m256d sv, __m256d uv, const grad_pd_consts *g, int odd, __m256d *gs, __m256d *gu) {
    __m256d lq = _mm256_sub_pd(_mm256_sub_pd(_mm256_mul_pd(sv, g->student_scale), g->student_max), g->student_log_sum);
    __m256d lp = _mm256_sub_pd(_mm256_sub_pd(_mm256_mul_pd(uv, g->teacher_scale), g->teacher_max), g->teacher_log_sum);
    /* NaN-safe operand order: see grad_ps */
    __m256d ok = _mm256_and_pd(
        _mm256_cmp_pd(_mm256_min_pd(lq, lp), _mm256_set1_pd(-700.0), _CMP_GE_OQ),
        _mm256_cmp_pd(_mm256_max_pd(lp, lq), _mm256_set1_pd(700.0), _CMP_LE_OQ));
    int fast = _mm256_movemask_pd(ok) == 0xf;
    __m256d q = fast ? exp_inrange_pd(lq) : nkl_exp_pd(lq);
    __m256d p = fast ? exp_inrange_pd(lp) : nkl_exp_pd(lp);
    *gs = _mm256_mul_pd(_mm256_sub_pd(_mm256_mul_pd(q, g->teacher_mass), p), g->student_factor);
    __m256d f = _mm256_sub_pd(_mm256_sub_pd(lp, lq), g->kl);
    __m256d gv = _mm256_mul_pd(_mm256_mul_pd(p, f), g->teacher_factor);
    *gu = fast ? gv : _mm256_and_pd(_mm256_cmp_pd(p, _mm256_setzero_pd(), _CMP_NEQ_UQ), gv);
    if (!fast || odd) { /* grad_consts_ordinary_f64 */
        *gs = nkl_canon_nan_pd(*gs);
        *gu = nkl_canon_nan_pd(*gu);
    }
}

void nkl_distill_grad_f64_avx2(const double *s, const double *u, size_t cols,
                               const nkl_distill_grad_f64 *gp, double *gs, double *gu) {
    const grad_pd_consts g = {
        _mm256_set1_pd(gp->student_scale), _mm256_set1_pd(gp->teacher_scale), _mm256_set1_pd(gp->student_max), _mm256_set1_pd(gp->student_log_sum),
        _mm256_set1_pd(gp->teacher_max), _mm256_set1_pd(gp->teacher_log_sum), _mm256_set1_pd(gp->teacher_mass), _mm256_set1_pd(gp->kl),
        _mm256_set1_pd(gp->student_factor), _mm256_set1_pd(gp->teacher_factor)};
    int odd = grad_consts_odd_f64(gp);
    size_t i = 0;
    __m256d vs, vu;
    for (; i + 4 <= cols; i += 4) {
        grad_pd(_mm256_loadu_pd(s + i), _mm256_loadu_pd(u + i), &g, odd, &vs, &vu);
        _mm256_storeu_pd(gs + i, vs);
        if (gu) _mm256_storeu_pd(gu + i, vu);
    }
    if (i < cols) {
        double sb[4] = {0}, ub[4] = {0}, os[4], ou[4];
        memcpy(sb, s + i, (cols - i) * sizeof(double));
        memcpy(ub, u + i, (cols - i) * sizeof(double));
        grad_pd(_mm256_loadu_pd(sb), _mm256_loadu_pd(ub), &g, odd, &vs, &vu);
        _mm256_storeu_pd(os, vs);
        _mm256_storeu_pd(ou, vu);
        memcpy(gs + i, os, (cols - i) * sizeof(double));
        if (gu) memcpy(gu + i, ou, (cols - i) * sizeof(double));
    }
}

/* ---------------------------------------------------------------- rows */

/* The 4 x 4 block of doubles at rows r[0..3], lanes l..l+3, transposed:
   out[j] holds lane l + j of the four rows. */
NKL_INLINE void transpose_rows(const double *r0, const double *r1, const double *r2, const double *r3,
                               __m256d out[4]) {
    __m256d a = _mm256_loadu_pd(r0), b = _mm256_loadu_pd(r1), c = _mm256_loadu_pd(r2), d = _mm256_loadu_pd(r3);
    __m256d t0 = _mm256_unpacklo_pd(a, b), t1 = _mm256_unpackhi_pd(a, b);
    __m256d t2 = _mm256_unpacklo_pd(c, d), t3 = _mm256_unpackhi_pd(c, d);
    out[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    out[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    out[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    out[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

#define NKL_ROW_FIELD(st, q) (st)[0].q, (st)[1].q, (st)[2].q, (st)[3].q

/* nkl_distill_lane_factors and nkl_distill_finish_row (distill_finish.h) for
   four rows at once, one row per vector lane: each lane runs the spec's
   operations in the spec's order, so the bits are the spec's. The rows' fold
   and logs are a long dependency chain; four of them side by side take the
   time of one. */
NKL_INLINE void finish_four(nkl_distill_lanes *st, const int lanes, int log_probs, int base2) {
    __m256d ma[NKL_DISTILL_LANES], mb[NKL_DISTILL_LANES], za[NKL_DISTILL_LANES],
        zb[NKL_DISTILL_LANES], acc[NKL_DISTILL_LANES];
    for (int l = 0; l < lanes; l += 4) {
        transpose_rows(NKL_ROW_FIELD(st, student_max + l), ma + l);
        transpose_rows(NKL_ROW_FIELD(st, teacher_max + l), mb + l);
        transpose_rows(NKL_ROW_FIELD(st, student_sum + l), za + l);
        transpose_rows(NKL_ROW_FIELD(st, teacher_sum + l), zb + l);
        transpose_rows(NKL_ROW_FIELD(st, log_ratio_sum + l), acc + l);
    }
    /* nkl_distill_lane_factors: the maxima (MAXPD(x, m) = x > m ? x : m), the factors */
    __m256d xa = ma[0], xb = mb[0];
    for (int l = 1; l < lanes; l++) {
        xa = _mm256_max_pd(ma[l], xa);
        xb = _mm256_max_pd(mb[l], xb);
    }
    const __m256d unit = _mm256_set1_pd(base2 ? NKL_LN2_HI_F64 : 1.0), zero = _mm256_setzero_pd();
    /* nkl_distill_finish_row */
    __m256d sa = zero, sb = zero, sacc = zero;
    for (int l = 0; l < lanes; l++) {
        __m256d da = _mm256_sub_pd(ma[l], xa), db = _mm256_sub_pd(mb[l], xb);
        if (base2) {
            da = _mm256_mul_pd(da, unit);
            db = _mm256_mul_pd(db, unit);
        }
        __m256d ra = nkl_exp_pd(da);
        __m256d rb = log_probs ? _mm256_set1_pd(1.0) : nkl_exp_pd(db);
        __m256d dgrow = log_probs ? zero : _mm256_sub_pd(xb, mb[l]);
        sa = _mm256_add_pd(sa, _mm256_mul_pd(za[l], ra));
        __m256d grown = _mm256_mul_pd(rb, _mm256_add_pd(acc[l], _mm256_mul_pd(_mm256_sub_pd(_mm256_sub_pd(xa, ma[l]), dgrow), zb[l])));
        sacc = _mm256_add_pd(sacc, _mm256_blendv_pd(acc[l], grown, _mm256_cmp_pd(zb[l], zero, _CMP_NEQ_UQ)));
        sb = _mm256_add_pd(sb, _mm256_mul_pd(zb[l], rb));
    }
    __m256d la = nkl_log_pd(sa), lb, rzb, kl;
    if (log_probs) {
        lb = zero;
        rzb = sb;
        kl = _mm256_blendv_pd(_mm256_set1_pd(NAN), _mm256_add_pd(_mm256_mul_pd(sacc, unit), _mm256_mul_pd(la, sb)),
                              _mm256_cmp_pd(sb, _mm256_set1_pd(INFINITY), _CMP_LT_OQ));
    } else {
        lb = nkl_log_pd(sb);
        rzb = _mm256_set1_pd(1.0);
        kl = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(_mm256_div_pd(sacc, sb), unit), lb), la);
    }
    double o[6][4];
    _mm256_storeu_pd(o[0], xa);
    _mm256_storeu_pd(o[1], la);
    _mm256_storeu_pd(o[2], log_probs ? zero : xb);
    _mm256_storeu_pd(o[3], lb);
    _mm256_storeu_pd(o[4], rzb);
    _mm256_storeu_pd(o[5], kl);
    for (int i = 0; i < 4; i++) {
        nkl_distill_row row = {o[0][i], o[1][i], o[2][i], o[3][i], o[4][i], o[5][i]};
        st[i].row = row;
    }
}

/* nkl_exp_lanes_fn: four lanes an instruction */
static void exp_lanes_avx2(const double *x, double *y, int lanes) {
    for (int l = 0; l < lanes; l += 4) _mm256_storeu_pd(y + l, nkl_exp_pd(_mm256_loadu_pd(x + l)));
}

void nkl_distill_finish_avx2(nkl_distill_lanes *st, size_t n, int lanes, int log_probs, int base2) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) { /* lanes: 8 (float32) or 4 (float64), as constants */
        if (lanes == 8) finish_four(st + i, 8, log_probs, base2);
        else finish_four(st + i, 4, log_probs, base2);
    }
    /* one by one (a row's fold is a latency chain, but padding a group costs
       more: its exps are per lane, four times lane_factors') */
    nkl_distill_finish_rows(st + i, n - i, lanes, log_probs, base2, exp_lanes_avx2);
}
