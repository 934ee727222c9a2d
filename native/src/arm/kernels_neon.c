/*
 * kernels_neon.c - the AArch64 NEON kernels (NEON is baseline there: no flags,
 * no detection). The distillation kernels are in distill_neon.c.
 *
 * Each kernel is kernels_scalar.c with 4 floats / 2 doubles per instruction:
 * the same term (kl_terms_scalar.h, the spec's fmaf()/fma() as vfmaq), the
 * same blocks and lanes (canonical_sum.h). The canonical lanes are defined
 * for 8 float32 / 4 float64 lanes (AVX2's registers); on 128-bit registers a
 * lane group is two registers:
 *   float32 block of 16, v[q] = elements 4q..4q+3:
 *     w[0] = v[0] + v[2] (lanes 0-3), w[1] = v[1] + v[3] (lanes 4-7),
 *     widened into float64 lanes 0-1, 2-3, 4-5, 6-7;
 *   float64 block of 16, d[q] = elements 2q, 2q+1:
 *     lanes 0-1: (d[0] + d[2]) + (d[4] + d[6]), lanes 2-3: (d[1] + d[3]) + (d[5] + d[7]).
 * A tail is read through a zero-padded copy (nothing past the data is read)
 * and its missing terms are set to +0, as the spec's.
 */
#if !defined(__aarch64__) && !defined(_M_ARM64)
#error "kernels_neon.c is for AArch64 (NEON and its fused multiply-add are baseline there)"
#endif

#include <float.h>

#include "vmath_neon.h"

/* ------------------------------------------------------------- terms */

/* nkl_term_f32 on 4 lanes */
NKL_INLINE float32x4_t term_f32x4(float32x4_t x, float32x4_t t, int log_target, int masked) {
    if (!log_target) {
        uint32x4_t t0 = vceqq_f32(t, F32(0.0f));
        float32x4_t lt = vbslq_f32(t0, t, nkl_log_f32x4(t));
        float32x4_t l = vfmaq_f32(vnegq_f32(vmulq_f32(t, x)), t, lt);
        return masked ? nkl_zero_where_f32x4(t0, l) : l;
    }
    float32x4_t l = vmulq_f32(nkl_exp_f32x4(t), vsubq_f32(t, x));
    return masked ? nkl_zero_where_f32x4(vceqq_f32(t, F32(-INFINITY)), l) : l;
}

NKL_INLINE float64x2_t term_f64x2(float64x2_t x, float64x2_t t, int log_target, int masked) {
    if (!log_target) {
        uint64x2_t t0 = vceqq_f64(t, F64(0.0));
        float64x2_t lt = vbslq_f64(t0, t, nkl_log_f64x2(t));
        float64x2_t l = vfmaq_f64(vnegq_f64(vmulq_f64(t, x)), t, lt);
        return masked ? nkl_zero_where_f64x2(t0, l) : l;
    }
    float64x2_t l = vmulq_f64(nkl_exp_f64x2(t), vsubq_f64(t, x));
    return masked ? nkl_zero_where_f64x2(vceqq_f64(t, F64(-INFINITY)), l) : l;
}

/* ------------------------------------------------------------- pointwise */

NKL_INLINE void pointwise_f32(const float *x, const float *t, size_t n, float *out,
                              int log_target, int masked) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        /* both vectors are read before either is stored: out may be x or t */
        float32x4_t l0 = term_f32x4(vld1q_f32(x + i), vld1q_f32(t + i), log_target, masked);
        float32x4_t l1 = term_f32x4(vld1q_f32(x + i + 4), vld1q_f32(t + i + 4), log_target, masked);
        vst1q_f32(out + i, nkl_canon_nan_f32x4(l0));
        vst1q_f32(out + i + 4, nkl_canon_nan_f32x4(l1));
    }
    for (; i < n; i += 4) {
        size_t r = n - i < 4 ? n - i : 4;
        float xb[4] = {0}, tb[4] = {0}, ob[4];
        memcpy(xb, x + i, r * sizeof(float));
        memcpy(tb, t + i, r * sizeof(float));
        vst1q_f32(ob, nkl_canon_nan_f32x4(term_f32x4(vld1q_f32(xb), vld1q_f32(tb), log_target, masked)));
        memcpy(out + i, ob, r * sizeof(float));
    }
}

NKL_INLINE void pointwise_f64(const double *x, const double *t, size_t n, double *out,
                              int log_target, int masked) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float64x2_t l0 = term_f64x2(vld1q_f64(x + i), vld1q_f64(t + i), log_target, masked);
        float64x2_t l1 = term_f64x2(vld1q_f64(x + i + 2), vld1q_f64(t + i + 2), log_target, masked);
        vst1q_f64(out + i, nkl_canon_nan_f64x2(l0));
        vst1q_f64(out + i + 2, nkl_canon_nan_f64x2(l1));
    }
    for (; i < n; i += 2) {
        size_t r = n - i < 2 ? n - i : 2;
        double xb[2] = {0}, tb[2] = {0}, ob[2];
        memcpy(xb, x + i, r * sizeof(double));
        memcpy(tb, t + i, r * sizeof(double));
        vst1q_f64(ob, nkl_canon_nan_f64x2(term_f64x2(vld1q_f64(xb), vld1q_f64(tb), log_target, masked)));
        memcpy(out + i, ob, r * sizeof(double));
    }
}

static void pointwise_f32_neon(const float *x, const float *t, size_t n, uint32_t flags, float *out) {
#define CALL(lt, m) pointwise_f32(x, t, n, out, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
}

static void pointwise_f64_neon(const double *x, const double *t, size_t n, uint32_t flags, double *out) {
#define CALL(lt, m) pointwise_f64(x, t, n, out, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
}

/* ------------------------------------------------------------- the canonical lanes */

/* float32: 8 float64 lanes as 4 registers (lanes 0-1, 2-3, 4-5, 6-7) */
typedef struct acc_f32 {
    float64x2_t a[4];
} acc_f32;

/* acc += the block's w (lanes 0-3 in w0, 4-7 in w1), widened exactly */
NKL_INLINE void add_widened(acc_f32 *acc, float32x4_t w0, float32x4_t w1) {
    acc->a[0] = vaddq_f64(acc->a[0], vcvt_f64_f32(vget_low_f32(w0)));
    acc->a[1] = vaddq_f64(acc->a[1], vcvt_high_f64_f32(w0));
    acc->a[2] = vaddq_f64(acc->a[2], vcvt_f64_f32(vget_low_f32(w1)));
    acc->a[3] = vaddq_f64(acc->a[3], vcvt_high_f64_f32(w1));
}

/* nkl_fold_f32_lanes: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) */
NKL_INLINE nkl_partial fold_f32_lanes(const acc_f32 *acc) {
    float64x2_t v01 = vaddq_f64(acc->a[0], acc->a[2]); /* a0 + a4, a1 + a5 */
    float64x2_t v23 = vaddq_f64(acc->a[1], acc->a[3]); /* a2 + a6, a3 + a7 */
    float64x2_t u = vaddq_f64(v01, v23);                 /* v0 + v2, v1 + v3 */
    nkl_partial p = {vgetq_lane_f64(u, 0) + vgetq_lane_f64(u, 1), 0.0};
    return p;
}

/* float64: 4 compensated lanes as 2 registers (lanes 0-1, 2-3) */
typedef struct acc_f64 {
    float64x2_t s[2], c[2];
} acc_f64;

/* nkl_two_sum on 2 lanes */
NKL_INLINE void two_sum_f64x2(float64x2_t *s, float64x2_t *c, float64x2_t v) {
    float64x2_t sum = vaddq_f64(*s, v);
    float64x2_t vv = vsubq_f64(sum, *s);
    float64x2_t err = vaddq_f64(vsubq_f64(*s, vsubq_f64(sum, vv)), vsubq_f64(v, vv));
    *s = sum;
    *c = vaddq_f64(*c, err);
}

/* d[q] = the terms 2q, 2q + 1 of a block */
NKL_INLINE void add_block_f64(acc_f64 *acc, const float64x2_t d[8]) {
    two_sum_f64x2(&acc->s[0], &acc->c[0], vaddq_f64(vaddq_f64(d[0], d[2]), vaddq_f64(d[4], d[6])));
    two_sum_f64x2(&acc->s[1], &acc->c[1], vaddq_f64(vaddq_f64(d[1], d[3]), vaddq_f64(d[5], d[7])));
}

NKL_INLINE nkl_partial fold_f64_lanes(const acc_f64 *acc) {
    double sum[NKL_LANES_F64], comp[NKL_LANES_F64];
    vst1q_f64(sum, acc->s[0]);
    vst1q_f64(sum + 2, acc->s[1]);
    vst1q_f64(comp, acc->c[0]);
    vst1q_f64(comp + 2, acc->c[1]);
    return nkl_fold_f64_lanes(sum, comp);
}

/* ------------------------------------------------------------- chunk partials */

/* The 16 terms of the block at x, t; r = terms left (>= 16: a full block). */
NKL_INLINE void block_terms_f32(const float *x, const float *t, size_t r, int log_target, int masked,
                                float32x4_t v[4]) {
    if (r >= NKL_BLOCK) {
        for (int q = 0; q < 4; q++) v[q] = term_f32x4(vld1q_f32(x + 4 * q), vld1q_f32(t + 4 * q), log_target, masked);
        return;
    }
    float xb[NKL_BLOCK] = {0}, tb[NKL_BLOCK] = {0};
    memcpy(xb, x, r * sizeof(float));
    memcpy(tb, t, r * sizeof(float));
    for (int q = 0; q < 4; q++) {
        float32x4_t l = term_f32x4(vld1q_f32(xb + 4 * q), vld1q_f32(tb + 4 * q), log_target, masked);
        v[q] = nkl_zero_where_f32x4(nkl_missing_f32x4(r, 4 * (size_t)q), l);
    }
}

NKL_INLINE void block_terms_f64(const double *x, const double *t, size_t r, int log_target, int masked,
                                float64x2_t d[8]) {
    if (r >= NKL_BLOCK) {
        for (int q = 0; q < 8; q++) d[q] = term_f64x2(vld1q_f64(x + 2 * q), vld1q_f64(t + 2 * q), log_target, masked);
        return;
    }
    double xb[NKL_BLOCK] = {0}, tb[NKL_BLOCK] = {0};
    memcpy(xb, x, r * sizeof(double));
    memcpy(tb, t, r * sizeof(double));
    for (int q = 0; q < 8; q++) {
        float64x2_t l = term_f64x2(vld1q_f64(xb + 2 * q), vld1q_f64(tb + 2 * q), log_target, masked);
        d[q] = nkl_zero_where_f64x2(nkl_missing_f64x2(r, 2 * (size_t)q), l);
    }
}

NKL_INLINE nkl_partial chunk_f32(const float *x, const float *t, size_t len, int log_target, int masked) {
    acc_f32 acc = {{vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0)}};
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        float32x4_t v[4];
        block_terms_f32(x + i, t + i, len - i, log_target, masked, v);
        add_widened(&acc, vaddq_f32(v[0], v[2]), vaddq_f32(v[1], v[3]));
    }
    return fold_f32_lanes(&acc);
}

NKL_INLINE nkl_partial chunk_f64(const double *x, const double *t, size_t len, int log_target, int masked) {
    acc_f64 acc = {{vdupq_n_f64(0.0), vdupq_n_f64(0.0)}, {vdupq_n_f64(0.0), vdupq_n_f64(0.0)}};
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        float64x2_t d[8];
        block_terms_f64(x + i, t + i, len - i, log_target, masked, d);
        add_block_f64(&acc, d);
    }
    return fold_f64_lanes(&acc);
}

static nkl_partial chunk_f32_neon(const float *x, const float *t, size_t len, uint32_t flags) {
    nkl_partial p;
#define CALL(lt, m) p = chunk_f32(x, t, len, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

static nkl_partial chunk_f64_neon(const double *x, const double *t, size_t len, uint32_t flags) {
    nkl_partial p;
#define CALL(lt, m) p = chunk_f64(x, t, len, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

/* ------------------------------------------------------------- forward and backward */

/* nkl_term_grad_f32 on 4 lanes: returns the term, sets the gradients */
NKL_INLINE float32x4_t term_grad_f32x4(float32x4_t x, float32x4_t t, float32x4_t s, int log_target, int masked,
                                       float32x4_t *dx, float32x4_t *dt) {
    float32x4_t l, gx, gt;
    uint32x4_t zero_target;
    if (!log_target) {
        zero_target = vceqq_f32(t, F32(0.0f));
        float32x4_t lt = vbslq_f32(zero_target, t, nkl_log_f32x4(t));
        l = vfmaq_f32(vnegq_f32(vmulq_f32(t, x)), t, lt);
        gx = vnegq_f32(vmulq_f32(t, s));
        gt = vmulq_f32(vsubq_f32(vaddq_f32(lt, vdivq_f32(t, t)), x), s);
    } else {
        zero_target = vceqq_f32(t, F32(-INFINITY));
        float32x4_t e = nkl_exp_f32x4(t), d = vsubq_f32(t, x);
        l = vmulq_f32(e, d);
        gx = vnegq_f32(vmulq_f32(e, s));
        gt = vmulq_f32(vmulq_f32(e, vaddq_f32(d, F32(1.0f))), s);
    }
    if (masked) {
        l = nkl_zero_where_f32x4(zero_target, l);
        gx = nkl_zero_where_f32x4(zero_target, gx);
        gt = nkl_zero_where_f32x4(zero_target, gt);
    }
    *dx = gx;
    *dt = gt;
    return l;
}

NKL_INLINE float64x2_t term_grad_f64x2(float64x2_t x, float64x2_t t, float64x2_t s, int log_target, int masked,
                                       float64x2_t *dx, float64x2_t *dt) {
    float64x2_t l, gx, gt;
    uint64x2_t zero_target;
    if (!log_target) {
        zero_target = vceqq_f64(t, F64(0.0));
        float64x2_t lt = vbslq_f64(zero_target, t, nkl_log_f64x2(t));
        l = vfmaq_f64(vnegq_f64(vmulq_f64(t, x)), t, lt);
        gx = vnegq_f64(vmulq_f64(t, s));
        gt = vmulq_f64(vsubq_f64(vaddq_f64(lt, vdivq_f64(t, t)), x), s);
    } else {
        zero_target = vceqq_f64(t, F64(-INFINITY));
        float64x2_t e = nkl_exp_f64x2(t), d = vsubq_f64(t, x);
        l = vmulq_f64(e, d);
        gx = vnegq_f64(vmulq_f64(e, s));
        gt = vmulq_f64(vmulq_f64(e, vaddq_f64(d, F64(1.0))), s);
    }
    if (masked) {
        l = nkl_zero_where_f64x2(zero_target, l);
        gx = nkl_zero_where_f64x2(zero_target, gx);
        gt = nkl_zero_where_f64x2(zero_target, gt);
    }
    *dx = gx;
    *dt = gt;
    return l;
}

#define OFFSET(p, i) ((p) ? (p) + (i) : NULL)

/* One vector at x, t with r lanes valid (>= 4: full): stores the valid lanes'
   gradients (and terms), returns the terms with +0 in the missing lanes. */
NKL_INLINE float32x4_t grad_vector_f32(const float *x, const float *t, size_t r, float32x4_t s, float *lo,
                                       float *gx, float *gt, int log_target, int masked) {
    float32x4_t dx, dt, l;
    if (r >= 4) {
        l = term_grad_f32x4(vld1q_f32(x), vld1q_f32(t), s, log_target, masked, &dx, &dt);
        vst1q_f32(gx, nkl_canon_nan_f32x4(dx));
        if (gt) vst1q_f32(gt, nkl_canon_nan_f32x4(dt));
        if (lo) vst1q_f32(lo, nkl_canon_nan_f32x4(l));
        return l;
    }
    if (r == 0) return F32(0.0f);
    float xb[4] = {0}, tb[4] = {0}, ob[4];
    memcpy(xb, x, r * sizeof(float));
    memcpy(tb, t, r * sizeof(float));
    l = term_grad_f32x4(vld1q_f32(xb), vld1q_f32(tb), s, log_target, masked, &dx, &dt);
    vst1q_f32(ob, nkl_canon_nan_f32x4(dx));
    memcpy(gx, ob, r * sizeof(float));
    if (gt) {
        vst1q_f32(ob, nkl_canon_nan_f32x4(dt));
        memcpy(gt, ob, r * sizeof(float));
    }
    if (lo) {
        vst1q_f32(ob, nkl_canon_nan_f32x4(l));
        memcpy(lo, ob, r * sizeof(float));
    }
    return nkl_zero_where_f32x4(nkl_missing_f32x4(r, 0), l);
}

NKL_INLINE float64x2_t grad_vector_f64(const double *x, const double *t, size_t r, float64x2_t s, double *lo,
                                       double *gx, double *gt, int log_target, int masked) {
    float64x2_t dx, dt, l;
    if (r >= 2) {
        l = term_grad_f64x2(vld1q_f64(x), vld1q_f64(t), s, log_target, masked, &dx, &dt);
        vst1q_f64(gx, nkl_canon_nan_f64x2(dx));
        if (gt) vst1q_f64(gt, nkl_canon_nan_f64x2(dt));
        if (lo) vst1q_f64(lo, nkl_canon_nan_f64x2(l));
        return l;
    }
    if (r == 0) return F64(0.0);
    double xb[2] = {x[0], 0.0}, tb[2] = {t[0], 0.0};
    l = term_grad_f64x2(vld1q_f64(xb), vld1q_f64(tb), s, log_target, masked, &dx, &dt);
    gx[0] = vgetq_lane_f64(nkl_canon_nan_f64x2(dx), 0);
    if (gt) gt[0] = vgetq_lane_f64(nkl_canon_nan_f64x2(dt), 0);
    if (lo) lo[0] = vgetq_lane_f64(nkl_canon_nan_f64x2(l), 0);
    return nkl_zero_where_f64x2(nkl_missing_f64x2(r, 0), l);
}

NKL_INLINE nkl_partial grad_f32(const float *x, const float *t, size_t len, float s, float *lo, float *gx,
                                float *gt, int log_target, int masked) {
    acc_f32 acc = {{vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0), vdupq_n_f64(0.0)}};
    float32x4_t sv = F32(s);
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        size_t r = len - i;
        float32x4_t v[4];
        for (size_t q = 0; q < 4; q++) {
            size_t at = i + 4 * q, left = r > 4 * q ? r - 4 * q : 0;
            v[q] = grad_vector_f32(x + at, t + at, left, sv, OFFSET(lo, at), gx + at, OFFSET(gt, at),
                                   log_target, masked);
        }
        add_widened(&acc, vaddq_f32(v[0], v[2]), vaddq_f32(v[1], v[3]));
    }
    return fold_f32_lanes(&acc);
}

NKL_INLINE nkl_partial grad_f64(const double *x, const double *t, size_t len, double s, double *lo, double *gx,
                                double *gt, int log_target, int masked) {
    acc_f64 acc = {{vdupq_n_f64(0.0), vdupq_n_f64(0.0)}, {vdupq_n_f64(0.0), vdupq_n_f64(0.0)}};
    float64x2_t sv = F64(s);
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        size_t r = len - i;
        float64x2_t d[8];
        for (size_t q = 0; q < 8; q++) {
            size_t at = i + 2 * q, left = r > 2 * q ? r - 2 * q : 0;
            d[q] = grad_vector_f64(x + at, t + at, left, sv, OFFSET(lo, at), gx + at, OFFSET(gt, at),
                                   log_target, masked);
        }
        add_block_f64(&acc, d);
    }
    return fold_f64_lanes(&acc);
}

static nkl_partial grad_f32_neon(const float *x, const float *t, size_t len, uint32_t flags, float s, float *lo,
                                 float *gx, float *gt) {
    nkl_partial p;
#define CALL(lt, m) p = grad_f32(x, t, len, s, lo, gx, gt, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

static nkl_partial grad_f64_neon(const double *x, const double *t, size_t len, uint32_t flags, double s,
                                 double *lo, double *gx, double *gt) {
    nkl_partial p;
#define CALL(lt, m) p = grad_f64(x, t, len, s, lo, gx, gt, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

/* ------------------------------------------------------------- the vector math alone */

/* For the ulp sweeps: tails go through a padded vector too (a scalar tail
   would hide a vector bug). */
#define MAP_F32(name, fn)                                                         \
    static void name(const float *in, size_t n, float *out) {                     \
        size_t i = 0;                                                             \
        for (; i + 4 <= n; i += 4) vst1q_f32(out + i, fn(vld1q_f32(in + i)));     \
        if (i < n) {                                                              \
            float b[4] = {0}, o[4];                                               \
            memcpy(b, in + i, (n - i) * sizeof(float));                           \
            vst1q_f32(o, fn(vld1q_f32(b)));                                       \
            memcpy(out + i, o, (n - i) * sizeof(float));                          \
        }                                                                         \
    }
#define MAP_F64(name, fn)                                                         \
    static void name(const double *in, size_t n, double *out) {                   \
        size_t i = 0;                                                             \
        for (; i + 2 <= n; i += 2) vst1q_f64(out + i, fn(vld1q_f64(in + i)));     \
        if (i < n) {                                                              \
            double b[2] = {in[i], 0.0}, o[2];                                     \
            vst1q_f64(o, fn(vld1q_f64(b)));                                       \
            out[i] = o[0];                                                        \
        }                                                                         \
    }
MAP_F32(log_f32_neon, nkl_log_f32x4)
MAP_F32(exp_f32_neon, nkl_exp_f32x4)
MAP_F32(exp2_f32_neon, nkl_exp2_f32x4)
MAP_F64(log_f64_neon, nkl_log_f64x2)
MAP_F64(exp_f64_neon, nkl_exp_f64x2)

const nkl_kernels nkl_kernels_neon = {
    .isa = NKL_ISA_NEON,
    .pointwise_f32 = pointwise_f32_neon,
    .pointwise_f64 = pointwise_f64_neon,
    .chunk_f32 = chunk_f32_neon,
    .chunk_f64 = chunk_f64_neon,
    .grad_f32 = grad_f32_neon,
    .grad_f64 = grad_f64_neon,
    .distill_lanes_f32 = nkl_distill_lanes_f32_neon,
    .distill_lanes_f64 = nkl_distill_lanes_f64_neon,
    .distill_finish = nkl_distill_finish_neon,
    .distill_grad_f32 = nkl_distill_grad_f32_neon,
    .distill_grad_f64 = nkl_distill_grad_f64_neon,
    .log_f32 = log_f32_neon,
    .exp_f32 = exp_f32_neon,
    .exp2_f32 = exp2_f32_neon,
    .log_f64 = log_f64_neon,
    .exp_f64 = exp_f64_neon,
};
