/*
 * kernels_scalar.c - the portable kernels, and the specification of the
 * canonical order (internal.h) that the vector kernels reproduce.
 */
#include "kl_terms_scalar.h"

NKL_INLINE void pointwise_f32(const float *x, const float *t, size_t n, float *out,
                              int log_target, int masked) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_term_f32(x[i], t[i], log_target, masked);
}

NKL_INLINE void pointwise_f64(const double *x, const double *t, size_t n, double *out,
                              int log_target, int masked) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_term_f64(x[i], t[i], log_target, masked);
}

static void pointwise_f32_scalar(const float *x, const float *t, size_t n, uint32_t flags,
                                 float *out) {
#define CALL(lt, m) pointwise_f32(x, t, n, out, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
}

static void pointwise_f64_scalar(const double *x, const double *t, size_t n, uint32_t flags,
                                 double *out) {
#define CALL(lt, m) pointwise_f64(x, t, n, out, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
}

/* float32: pairs pre-added in float, then plain float64 lanes. */
NKL_INLINE nkl_partial chunk_f32(const float *x, const float *t, size_t len, int log_target,
                                 int masked) {
    double acc[NKL_LANES_F32] = {0};
    float l[NKL_BLOCK];
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        for (size_t j = 0; j < NKL_BLOCK; j++)
            l[j] = i + j < len ? nkl_term_f32(x[i + j], t[i + j], log_target, masked) : 0.0f;
        for (size_t j = 0; j < NKL_LANES_F32; j++) acc[j] += (double)(l[j] + l[j + 8]);
    }
    return nkl_fold_f32_lanes(acc);
}

/* float64: quads pre-added, then compensated lanes (nkl_two_sum). */
NKL_INLINE nkl_partial chunk_f64(const double *x, const double *t, size_t len, int log_target,
                                 int masked) {
    double sum[NKL_LANES_F64] = {0}, comp[NKL_LANES_F64] = {0};
    double l[NKL_BLOCK];
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        for (size_t j = 0; j < NKL_BLOCK; j++)
            l[j] = i + j < len ? nkl_term_f64(x[i + j], t[i + j], log_target, masked) : 0.0;
        for (size_t j = 0; j < NKL_LANES_F64; j++)
            nkl_two_sum(&sum[j], &comp[j], (l[j] + l[j + 4]) + (l[j + 8] + l[j + 12]));
    }
    return nkl_fold_f64_lanes(sum, comp);
}

static nkl_partial chunk_f32_scalar(const float *x, const float *t, size_t len, uint32_t flags) {
    nkl_partial p;
#define CALL(lt, m) p = chunk_f32(x, t, len, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

static nkl_partial chunk_f64_scalar(const double *x, const double *t, size_t len,
                                    uint32_t flags) {
    nkl_partial p;
#define CALL(lt, m) p = chunk_f64(x, t, len, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

/* Forward and backward: the same blocks and lanes as chunk_f32 / chunk_f64. */
NKL_INLINE nkl_partial grad_f32(const float *x, const float *t, size_t len, float s, float *lo,
                                float *gx, float *gt, int log_target, int masked) {
    double acc[NKL_LANES_F32] = {0};
    float l[NKL_BLOCK];
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        for (size_t j = 0; j < NKL_BLOCK; j++) {
            float dx, dt;
            if (i + j >= len) {
                l[j] = 0.0f;
                continue;
            }
            l[j] = nkl_term_grad_f32(x[i + j], t[i + j], log_target, masked, s, &dx, &dt);
            gx[i + j] = dx;
            if (gt) gt[i + j] = dt;
            if (lo) lo[i + j] = l[j];
        }
        for (size_t j = 0; j < NKL_LANES_F32; j++) acc[j] += (double)(l[j] + l[j + 8]);
    }
    return nkl_fold_f32_lanes(acc);
}

NKL_INLINE nkl_partial grad_f64(const double *x, const double *t, size_t len, double s,
                                double *lo, double *gx, double *gt, int log_target, int masked) {
    double sum[NKL_LANES_F64] = {0}, comp[NKL_LANES_F64] = {0};
    double l[NKL_BLOCK];
    for (size_t i = 0; i < len; i += NKL_BLOCK) {
        for (size_t j = 0; j < NKL_BLOCK; j++) {
            double dx, dt;
            if (i + j >= len) {
                l[j] = 0.0;
                continue;
            }
            l[j] = nkl_term_grad_f64(x[i + j], t[i + j], log_target, masked, s, &dx, &dt);
            gx[i + j] = dx;
            if (gt) gt[i + j] = dt;
            if (lo) lo[i + j] = l[j];
        }
        for (size_t j = 0; j < NKL_LANES_F64; j++)
            nkl_two_sum(&sum[j], &comp[j], (l[j] + l[j + 4]) + (l[j + 8] + l[j + 12]));
    }
    return nkl_fold_f64_lanes(sum, comp);
}

static nkl_partial grad_f32_scalar(const float *x, const float *t, size_t len, uint32_t flags,
                                   float s, float *lo, float *gx, float *gt) {
    nkl_partial p;
#define CALL(lt, m) p = grad_f32(x, t, len, s, lo, gx, gt, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

static nkl_partial grad_f64_scalar(const double *x, const double *t, size_t len, uint32_t flags,
                                   double s, double *lo, double *gx, double *gt) {
    nkl_partial p;
#define CALL(lt, m) p = grad_f64(x, t, len, s, lo, gx, gt, lt, m)
    SEMANTICS_SWITCH(flags, CALL)
#undef CALL
    return p;
}

static void log_f32_scalar(const float *in, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_log_f32(in[i]);
}
static void exp_f32_scalar(const float *in, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_exp_f32(in[i]);
}
static void log_f64_scalar(const double *in, size_t n, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_log_f64(in[i]);
}
static void exp_f64_scalar(const double *in, size_t n, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_exp_f64(in[i]);
}

const nkl_kernels nkl_kernels_scalar = {
    NKL_ISA_SCALAR,  pointwise_f32_scalar, pointwise_f64_scalar, chunk_f32_scalar,
    chunk_f64_scalar, grad_f32_scalar,     grad_f64_scalar,      log_f32_scalar,
    exp_f32_scalar,  log_f64_scalar,       exp_f64_scalar,
};
