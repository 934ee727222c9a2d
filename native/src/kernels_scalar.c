/*
 * kernels_scalar.c - the portable kernels, and the specification of the
 * canonical order (canonical_sum.h, distill_state.h) that the vector kernels reproduce.
 */
#include <float.h>

#include "distill_finish.h"
#include "kl_terms_scalar.h"

NKL_INLINE void pointwise_f32(const float *x, const float *t, size_t n, float *out,
                              int log_target, int masked) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_canon_nan_f32(nkl_term_f32(x[i], t[i], log_target, masked));
}

NKL_INLINE void pointwise_f64(const double *x, const double *t, size_t n, double *out,
                              int log_target, int masked) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_canon_nan_f64(nkl_term_f64(x[i], t[i], log_target, masked));
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
            gx[i + j] = nkl_canon_nan_f32(dx);
            if (gt) gt[i + j] = nkl_canon_nan_f32(dt);
            if (lo) lo[i + j] = nkl_canon_nan_f32(l[j]);
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
            gx[i + j] = nkl_canon_nan_f64(dx);
            if (gt) gt[i + j] = nkl_canon_nan_f64(dt);
            if (lo) lo[i + j] = nkl_canon_nan_f64(l[j]);
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

/* ------------------------------------------------------------ distillation */

/* max as MAXPS/MAXPD compute it: x if x > y, else y (y when either is NaN). */
NKL_INLINE float max_f32(float x, float y) { return x > y ? x : y; }
NKL_INLINE double max_f64(double x, double y) { return x > y ? x : y; }

/* The rest of each row's value pass (distill_state.h): the lanes' factors and the fold, row by row. */
static void distill_finish_scalar(nkl_distill_lanes *st, size_t n, int lanes, int log_probs, int base2) {
    nkl_distill_finish_rows(st, n, lanes, log_probs, base2, nkl_exp_lanes_scalar);
}

/* Pairwise trees of V elements x[l], x[l + H], ... under OP (MAX, or
   DISTILL_ADD): one expression, so each pass's operations stay in one place. */
#define DISTILL_TREE_2(OP, x, H, l) OP((x)[l], (x)[(l) + (H)])
#define DISTILL_TREE_4(OP, x, H, l) \
    OP(OP((x)[l], (x)[(l) + (H)]), OP((x)[(l) + 2 * (H)], (x)[(l) + 3 * (H)]))
#define DISTILL_ADD(x, y) ((x) + (y))

/*
 * The value pass of one row (distill_state.h): a block is V vectors of H lanes
 * (float32: V = 4, H = 8; float64: V = 2, H = 4), lane l taking elements
 * l + j H, j < V. The maxima start at -FLT_MAX (not -inf, so that a - ma is
 * -inf for a = -inf, never NaN); a block whose elements exceed a lane's
 * reference ma moves it to their maximum (MAX over the V elements as a
 * pairwise tree) plus the headroom HEAD (so that later, slightly larger
 * logits need no rescale) and rescales the lane's sums first: za *= exp(ma -
 * nma), zb *= exp(mb - nmb), acc = exp(mb - nmb) (acc + (da - db) zb) with
 * da, db the growths in float64 (acc is left alone while zb == 0: nothing
 * counted yet). The lane's V terms of each sum are pre-added in the data's
 * type as a pairwise tree, then added to the float64 sum (float32: PAIRS). EXP is exp (float64)
 * or exp2 (float32, which works in base 2: distill_state.h), LP the scale of a
 * teacher's log-probabilities (1 or log2(e)). The body, and the gradient
 * pass's, is distill_scalar.inc, one function per element type.
 */
#define T float
#define SUF f32
#define H 8
#define V 4
#define LOWEST FLT_MAX
#define EXP nkl_exp2_f32
#define LP NKL_LOG2E_F32
#define HEAD NKL_DISTILL_HEADROOM_BASE2
#define PAIRS 1
#define MAX max_f32
#include "distill_scalar.inc"

#define T double
#define SUF f64
#define H 4
#define V 2
#define LOWEST DBL_MAX
#define EXP nkl_exp_f64
#define LP 1.0
#define HEAD NKL_DISTILL_HEADROOM
#define PAIRS 0
#define MAX max_f64
#include "distill_scalar.inc"

static void log_f32_scalar(const float *in, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_log_f32(in[i]);
}
static void exp_f32_scalar(const float *in, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_exp_f32(in[i]);
}
static void log_f64_scalar(const double *in, size_t n, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_log_f64(in[i]);
}
static void exp2_f32_scalar(const float *in, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_exp2_f32(in[i]);
}

static void exp_f64_scalar(const double *in, size_t n, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = nkl_exp_f64(in[i]);
}

const nkl_kernels nkl_kernels_scalar = {
    .isa = NKL_ISA_SCALAR,
    .pointwise_f32 = pointwise_f32_scalar,
    .pointwise_f64 = pointwise_f64_scalar,
    .chunk_f32 = chunk_f32_scalar,
    .chunk_f64 = chunk_f64_scalar,
    .grad_f32 = grad_f32_scalar,
    .grad_f64 = grad_f64_scalar,
    .distill_lanes_f32 = distill_lanes_f32_scalar,
    .distill_lanes_f64 = distill_lanes_f64_scalar,
    .distill_finish = distill_finish_scalar,
    .distill_grad_f32 = distill_grad_f32_scalar,
    .distill_grad_f64 = distill_grad_f64_scalar,
    .log_f32 = log_f32_scalar,
    .exp_f32 = exp_f32_scalar,
    .exp2_f32 = exp2_f32_scalar,
    .log_f64 = log_f64_scalar,
    .exp_f64 = exp_f64_scalar,
};
